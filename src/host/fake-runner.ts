import { AssertionError, deepStrictEqual } from 'node:assert';
import { CommandError } from '../errors.js';
import type { CommandResult, CommandRunner, RunOptions } from './runner.js';

interface ExpectedCall {
  argv: readonly string[];
  result: CommandResult;
  error: Error | undefined;
}

export interface RecordedCall {
  argv: readonly string[];
  options: RunOptions | undefined;
}

/**
 * A test runner that expects an exact sequence of argv arrays and returns canned results. Like
 * `ExecFileRunner`, it throws `CommandError` on a non-zero exit unless `allowFailure` is set.
 * An unexpected call throws at once and is also reported by `assertDone()`, because the code
 * under test may catch the first error (during a rollback, for example).
 */
export class FakeRunner implements CommandRunner {
  readonly calls: RecordedCall[] = [];
  readonly #expected: ExpectedCall[] = [];
  readonly #mismatches: string[] = [];

  /** Expects `argv` next and returns `result` for it (exit code 0 and empty output by default). */
  expect(argv: readonly string[], result: Partial<CommandResult> = {}): this {
    this.#expected.push({ argv, result: { stdout: '', stderr: '', exitCode: 0, ...result }, error: undefined });
    return this;
  }

  /** Expects `argv` next and throws `error` for it, as a timeout or a failed spawn would. */
  expectError(argv: readonly string[], error: Error): this {
    this.#expected.push({ argv, result: { stdout: '', stderr: '', exitCode: 0 }, error });
    return this;
  }

  async run(argv: readonly string[], options?: RunOptions): Promise<CommandResult> {
    this.calls.push({ argv: [...argv], options });

    const expected = this.#expected.shift();
    if (expected === undefined) {
      throw this.#mismatch(`unexpected command ${JSON.stringify(argv)}: no more calls were expected`);
    }
    try {
      deepStrictEqual([...argv], [...expected.argv]);
    } catch {
      throw this.#mismatch(`unexpected command ${JSON.stringify(argv)}: expected ${JSON.stringify(expected.argv)}`);
    }

    if (expected.error !== undefined) throw expected.error;
    const { result } = expected;
    if (result.exitCode !== 0 && options?.allowFailure !== true) {
      throw new CommandError(argv, result.exitCode, result.stderr);
    }
    return { ...result };
  }

  /** Throws if a call did not match or an expected call was never made. */
  assertDone(): void {
    const problems = [...this.#mismatches];
    for (const missing of this.#expected) {
      problems.push(`expected command ${JSON.stringify(missing.argv)} was never run`);
    }
    if (problems.length > 0) {
      throw new AssertionError({ message: problems.join('\n') });
    }
  }

  #mismatch(message: string): AssertionError {
    this.#mismatches.push(message);
    return new AssertionError({ message });
  }
}
