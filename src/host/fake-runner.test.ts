import assert from 'node:assert/strict';
import { AssertionError } from 'node:assert';
import { describe, it } from 'node:test';
import { CommandError, KuryrError } from '../errors.js';
import { FakeRunner } from './fake-runner.js';

describe('FakeRunner', () => {
  it('returns canned results in order', async () => {
    const runner = new FakeRunner().expect(['a']).expect(['b', '1'], { stdout: 'out' });
    assert.deepEqual(await runner.run(['a']), { stdout: '', stderr: '', exitCode: 0 });
    assert.deepEqual(await runner.run(['b', '1']), { stdout: 'out', stderr: '', exitCode: 0 });
    runner.assertDone();
  });

  it('throws CommandError on non-zero exit', async () => {
    const runner = new FakeRunner().expect(['false'], { exitCode: 1, stderr: 'boom' });
    await assert.rejects(runner.run(['false']), CommandError);
  });

  it('returns non-zero exit with allowFailure', async () => {
    const runner = new FakeRunner().expect(['false'], { exitCode: 1, stderr: 'boom' });
    assert.deepEqual(await runner.run(['false'], { allowFailure: true }), { stdout: '', stderr: 'boom', exitCode: 1 });
  });

  it('throws the configured error', async () => {
    const timeout = new KuryrError('TIMEOUT', 'timed out');
    const runner = new FakeRunner().expectError(['sleep', '9'], timeout);
    await assert.rejects(runner.run(['sleep', '9']), (error: unknown) => error === timeout);
    runner.assertDone();
  });

  it('reports a mismatched argv even when the caller swallows it', async () => {
    const runner = new FakeRunner().expect(['a']);
    await runner.run(['b']).catch(() => undefined);
    assert.throws(() => runner.assertDone(), (error: unknown) => {
      assert.ok(error instanceof AssertionError);
      assert.match(error.message, /unexpected command \["b"\]: expected \["a"\]/);
      return true;
    });
  });

  it('reports an unexpected extra call', async () => {
    const runner = new FakeRunner();
    await assert.rejects(runner.run(['a']), AssertionError);
    assert.throws(() => runner.assertDone(), /no more calls were expected/);
  });

  it('reports a call never made', () => {
    const runner = new FakeRunner().expect(['a']);
    assert.throws(() => runner.assertDone(), /expected command \["a"\] was never run/);
  });
});
