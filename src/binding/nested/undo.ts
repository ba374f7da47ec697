import type { Logger } from 'pino';

/**
 * The undo actions of the bind steps that finished, run newest first when a later step fails.
 * A failing undo is logged and the others still run, because the bind error is the one the caller
 * needs.
 */
export class UndoList {
  readonly #steps: { what: string; undo: () => Promise<unknown> }[] = [];
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  add(what: string, undo: () => Promise<unknown>): void {
    this.#steps.push({ what, undo });
  }

  async run(): Promise<void> {
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        await step.undo();
      } catch (error) {
        this.#logger.warn({ err: error, step: step.what }, 'cannot undo a bind step after a failed bind');
      }
    }
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
