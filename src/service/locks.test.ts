import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedMutex } from './locks.js';

describe('KeyedMutex', () => {
  it('serialises tasks with the same key', async () => {
    const mutex = new KeyedMutex();
    const order: string[] = [];
    let unblock!: () => void;
    const blocker = new Promise<void>((resolve) => {
      unblock = resolve;
    });
    const first = mutex.run('a', async () => {
      order.push('first start');
      await blocker;
      order.push('first end');
    });
    const second = mutex.run('a', async () => {
      order.push('second');
    });
    const other = mutex.run('b', async () => {
      order.push('other key');
    });
    await other;
    unblock();
    await Promise.all([first, second]);
    assert.deepEqual(order, ['first start', 'other key', 'first end', 'second']);
  });

  it('releases the key after a failure', async () => {
    const mutex = new KeyedMutex();
    await assert.rejects(mutex.run('a', async () => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(await mutex.run('a', async () => 42), 42);
  });
});
