import { execFile } from 'node:child_process';
import type { ExecFileException } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { CommandError, KuryrError } from '../errors.js';

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunOptions {
  /** Time in milliseconds after which the command is killed; the runner's default when unset. */
  timeoutMs?: number;
  /** Text written to the command's stdin. */
  input?: string;
  /** Return a non-zero exit as a result instead of throwing `CommandError`. Timeouts and signals still throw. */
  allowFailure?: boolean;
}

/** The one seam through which kuryr-ts runs host commands, always as an argv array and never through a shell. */
export interface CommandRunner {
  run(argv: readonly string[], options?: RunOptions): Promise<CommandResult>;
}

export interface ExecFileRunnerOptions {
  logger?: Logger;
  /** Default timeout per command in milliseconds. */
  timeoutMs?: number;
  /** Maximum bytes of stdout or stderr per command. A command that writes more is killed and fails. */
  maxOutputBytes?: number;
  /**
   * Network namespace to run every command in, through `ip netns exec <netns>`. Host-tier tests use
   * it; the daemon runs inside its own namespace and leaves it unset, so commands run unprefixed.
   */
  netns?: string;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * `ip -json link show` (iproute2 6.1) writes about 250-350 bytes per link, measured on loopback
 * and veth links, so 8 MiB covers more than 20 000 links.
 */
export const DEFAULT_MAX_OUTPUT_BYTES = 8 * 1024 * 1024;

const NETNS_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Builds the argv that runs `argv` inside the named network namespace. */
export function netnsExecArgv(netns: string, argv: readonly string[]): string[] {
  if (!NETNS_NAME.test(netns) || netns === '.' || netns === '..') {
    throw new KuryrError(
      'INVALID_REQUEST',
      `invalid network namespace name "${netns}": must be 1-64 characters from A-Z, a-z, 0-9, "_", "." and "-", and not "." or ".."`,
    );
  }
  return ['ip', 'netns', 'exec', netns, ...argv];
}

/** Runs commands with `execFile` (no shell), with a bounded run time and bounded output. */
export class ExecFileRunner implements CommandRunner {
  readonly #logger: Logger | undefined;
  readonly #timeoutMs: number;
  readonly #maxOutputBytes: number;
  readonly #netns: string | undefined;

  constructor(options: ExecFileRunnerOptions = {}) {
    this.#logger = options.logger;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    this.#netns = options.netns;
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    const fullArgv = this.#netns === undefined ? [...argv] : netnsExecArgv(this.#netns, argv);
    const [file, ...args] = fullArgv;
    if (file === undefined || file === '') {
      throw new KuryrError('INTERNAL', 'cannot run a command: argv is empty');
    }
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;

    const started = performance.now();
    const outcome = await execute(file, args, timeoutMs, this.#maxOutputBytes, options.input);
    const durationMs = Math.round(performance.now() - started);
    this.#logger?.debug(
      { argv: fullArgv, exitCode: outcome.exitCode, signal: outcome.signal, durationMs },
      'command finished',
    );

    if (outcome.error === undefined) {
      return { stdout: outcome.stdout, stderr: outcome.stderr, exitCode: 0 };
    }
    return toResultOrThrow(fullArgv, outcome, timeoutMs, this.#maxOutputBytes, options.allowFailure === true);
  }
}

interface Outcome {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: string | null;
  error: ExecFileException | undefined;
}

function execute(
  file: string,
  args: string[],
  timeoutMs: number,
  maxOutputBytes: number,
  input: string | undefined,
): Promise<Outcome> {
  return new Promise((resolve) => {
    // NOTE: on timeout Node kills only the direct child. A grandchild that keeps stdout open
    // (a binding script's background command, for example) delays the result until it exits.
    const child = execFile(
      file,
      args,
      { encoding: 'utf8', timeout: timeoutMs, maxBuffer: maxOutputBytes, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        let exitCode: number | null = null;
        if (error === null) {
          exitCode = 0;
        } else if (typeof error.code === 'number') {
          exitCode = error.code;
        }
        resolve({ stdout, stderr, exitCode, signal: error?.signal ?? null, error: error ?? undefined });
      },
    );

    // A command that exits without reading stdin makes this write fail with EPIPE. The exit
    // status reports the outcome, so the stream error is dropped.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}

function toResultOrThrow(
  argv: readonly string[],
  outcome: Outcome,
  timeoutMs: number,
  maxOutputBytes: number,
  allowFailure: boolean,
): CommandResult {
  const { error, stdout, stderr, exitCode, signal } = outcome;
  if (error?.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
    throw new CommandError(argv, null, `output exceeded the limit of ${maxOutputBytes} bytes`, { cause: error });
  }
  if (error?.killed === true && signal === 'SIGKILL') {
    throw new KuryrError('TIMEOUT', `command "${argv.join(' ')}" timed out after ${timeoutMs} ms`, { cause: error });
  }
  if (exitCode === null) {
    // Either the command could not start (ENOENT, EACCES) or a signal ended it.
    const detail = signal === null ? (error?.message ?? 'unknown error') : `killed by ${signal}`;
    throw new CommandError(argv, null, stderr.trim() || detail, { cause: error });
  }
  if (!allowFailure) {
    throw new CommandError(argv, exitCode, stderr);
  }
  return { stdout, stderr, exitCode };
}
