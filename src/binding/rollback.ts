import type { Logger } from 'pino';

/**
 * The undo actions of the bind steps that finished, run newest first when a later step fails.
 * An undo that fails is logged and the rest still run, because the bind error is the one the
 * caller needs.
 */
export class Rollback {
  readonly #steps: { what: string; undo: () => Promise<unknown> }[] = [];

  /** Records how to undo a step that just finished. */
  add(what: string, undo: () => Promise<unknown>): void {
    this.#steps.push({ what, undo });
  }

  async run(log: Logger): Promise<void> {
    for (const step of this.#steps.reverse()) {
      try {
        await step.undo();
      } catch (error) {
        log.warn({ err: error, step: step.what }, 'cannot undo a step after a failed bind');
      }
    }
    this.#steps.length = 0;
  }
}
