import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { CommandError, KuryrError } from '../errors.js';
import { ExecFileRunner, netnsExecArgv } from './runner.js';

// These tests run harmless real processes (node, true, false, cat, sleep) and change nothing on the host.

describe('ExecFileRunner', () => {
  it('returns stdout and exit code 0', async () => {
    const result = await new ExecFileRunner().run(['node', '-e', 'process.stdout.write("hello")']);
    assert.deepEqual(result, { stdout: 'hello', stderr: '', exitCode: 0 });
  });

  it('passes arguments without a shell', async () => {
    const argument = '$(touch /nonexistent); `x` "q" \'s\' *';
    const result = await new ExecFileRunner().run(['node', '-e', 'process.stdout.write(process.argv[1])', argument]);
    assert.equal(result.stdout, argument);
  });

  it('throws CommandError on non-zero exit', async () => {
    const argv = ['node', '-e', 'process.stderr.write("bad thing"); process.exit(3)'];
    await assert.rejects(new ExecFileRunner().run(argv), (error: unknown) => {
      assert.ok(error instanceof CommandError);
      assert.equal(error.code, 'COMMAND_FAILED');
      assert.equal(error.exitCode, 3);
      assert.equal(error.stderr, 'bad thing');
      assert.deepEqual(error.argv, argv);
      assert.match(error.message, /failed: bad thing$/);
      return true;
    });
  });

  it('returns non-zero exit with allowFailure', async () => {
    const result = await new ExecFileRunner().run(['false'], { allowFailure: true });
    assert.equal(result.exitCode, 1);
  });

  it('writes input to stdin', async () => {
    const result = await new ExecFileRunner().run(['cat'], { input: 'line one\nline two\n' });
    assert.equal(result.stdout, 'line one\nline two\n');
  });

  it('closes stdin when no input is given', async () => {
    const result = await new ExecFileRunner().run(['cat']);
    assert.equal(result.stdout, '');
  });

  it('throws TIMEOUT when the command runs too long', async () => {
    await assert.rejects(new ExecFileRunner({ timeoutMs: 50 }).run(['sleep', '30']), (error: unknown) => {
      assert.ok(error instanceof KuryrError);
      assert.equal(error.code, 'TIMEOUT');
      assert.equal(error.message, 'command "sleep 30" timed out after 50 ms');
      return true;
    });
  });

  it('lets a call override the timeout', async () => {
    await assert.rejects(new ExecFileRunner().run(['sleep', '30'], { timeoutMs: 50 }), /timed out after 50 ms/);
  });

  it('fails when output exceeds the limit', async () => {
    const runner = new ExecFileRunner({ maxOutputBytes: 1000 });
    await assert.rejects(runner.run(['node', '-e', 'process.stdout.write("x".repeat(5000))']), (error: unknown) => {
      assert.ok(error instanceof CommandError);
      assert.match(error.message, /output exceeded the limit of 1000 bytes/);
      return true;
    });
  });

  it('throws CommandError when the program does not exist', async () => {
    await assert.rejects(new ExecFileRunner().run(['kuryr-no-such-program-x']), (error: unknown) => {
      assert.ok(error instanceof CommandError);
      assert.equal(error.exitCode, null);
      assert.match(error.message, /ENOENT/);
      return true;
    });
  });

  it('rejects an empty argv', async () => {
    await assert.rejects(new ExecFileRunner().run([]), /argv is empty/);
  });

  it('logs argv, exit code and duration at debug', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    await new ExecFileRunner({ logger }).run(['false'], { allowFailure: true });

    assert.equal(lines.length, 1);
    const entry = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    assert.equal(entry['level'], 20);
    assert.equal(entry['msg'], 'command finished');
    assert.deepEqual(entry['argv'], ['false']);
    assert.equal(entry['exitCode'], 1);
    assert.equal(typeof entry['durationMs'], 'number');
  });
});

describe('netnsExecArgv', () => {
  it('prefixes argv with ip netns exec', () => {
    assert.deepEqual(netnsExecArgv('kuryr-ht-1', ['ip', 'link']), ['ip', 'netns', 'exec', 'kuryr-ht-1', 'ip', 'link']);
  });

  for (const name of ['', '..', 'a/b', '-x y']) {
    it(`rejects namespace name ${JSON.stringify(name)}`, () => {
      assert.throws(() => netnsExecArgv(name, ['true']), /invalid network namespace name/);
    });
  }
});
