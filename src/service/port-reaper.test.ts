import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { NeutronClient } from '../neutron/index.js';
import { FakeTransport } from '../neutron/test-support.js';
import { FileJournal, MemoryJournal, PortReaper, type DeleteJournal } from './port-reaper.js';
import { fakeTokens } from './test-support.js';

const PORT_A = 'aaaaaaaa-0000-4000-8000-000000000001';
const PORT_B = 'bbbbbbbb-0000-4000-8000-000000000002';

function newReaper(transport: FakeTransport, journal: DeleteJournal, background = true): PortReaper {
  const neutron = new NeutronClient({ tokens: fakeTokens, transport, sleep: async () => {}, retry: { attempts: 1 } });
  return new PortReaper({
    neutron,
    journal,
    logger: pino({ level: 'silent' }),
    clock: { now: () => 0, sleep: async () => {} },
    background,
    retryDelaysMs: [1, 1],
  });
}

/** A reply that waits until the test calls the returned release function. */
function delayedReply(): { reply: () => Promise<{ status: number }>; release: () => void } {
  let release = (): void => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { reply: async () => (await gate, { status: 204 }), release };
}

describe('PortReaper', () => {
  it('replies before the delete ends', async () => {
    const delayed = delayedReply();
    const transport = new FakeTransport([{ method: 'DELETE', path: `/v2.0/ports/${PORT_A}`, reply: delayed.reply }]);
    const journal = new MemoryJournal();
    const reaper = newReaper(transport, journal);

    await reaper.schedule({ portId: PORT_A, networkId: 'net-1', ips: ['10.0.0.5'] });

    assert.equal(reaper.size, 1);
    assert.deepEqual([...journal.entries.keys()], [PORT_A]);
    delayed.release();
    await reaper.waitForNetwork('net-1');
    assert.equal(reaper.size, 0);
    assert.equal(journal.entries.size, 0);
    transport.assertDone();
  });

  it('runs the clean-up after the delete', async () => {
    const transport = new FakeTransport([{ method: 'DELETE', path: `/v2.0/ports/${PORT_A}`, reply: { status: 204 } }]);
    const reaper = newReaper(transport, new MemoryJournal());
    const order: string[] = [];

    await reaper.schedule({ portId: PORT_A, networkId: 'net-1', ips: [] }, async () => {
      order.push(`clean-up after ${transport.calls.length} call(s)`);
    });
    await reaper.drain();

    assert.deepEqual(order, ['clean-up after 1 call(s)']);
  });

  it('waits only for the matching address', async () => {
    const delayed = delayedReply();
    const transport = new FakeTransport([
      { method: 'DELETE', path: `/v2.0/ports/${PORT_A}`, reply: delayed.reply },
      { method: 'DELETE', path: `/v2.0/ports/${PORT_B}`, reply: { status: 204 } },
    ]);
    const reaper = newReaper(transport, new MemoryJournal());
    await reaper.schedule({ portId: PORT_A, networkId: 'net-1', ips: ['10.0.0.5'] });
    await reaper.schedule({ portId: PORT_B, networkId: 'net-1', ips: ['10.0.0.6'] });

    await reaper.waitForAddress('net-1', '10.0.0.6');
    await reaper.waitForAddress('net-2', '10.0.0.5');
    assert.equal(reaper.size, 1);

    delayed.release();
    await reaper.waitForAddress('net-1', '10.0.0.5');
    assert.equal(reaper.size, 0);
  });

  it('keeps a failed delete in the journal', async () => {
    const failure = { status: 503, body: { NeutronError: { type: 'ServiceUnavailable', message: 'down', detail: '' } } };
    const transport = new FakeTransport([
      { method: 'DELETE', path: `/v2.0/ports/${PORT_A}`, reply: failure },
      { method: 'DELETE', path: `/v2.0/ports/${PORT_A}`, reply: failure },
      { method: 'DELETE', path: `/v2.0/ports/${PORT_A}`, reply: failure },
    ]);
    const journal = new MemoryJournal();
    const reaper = newReaper(transport, journal);

    await reaper.schedule({ portId: PORT_A, networkId: 'net-1', ips: [] });
    await reaper.drain();

    assert.equal(reaper.size, 0);
    assert.deepEqual([...journal.entries.keys()], [PORT_A]);
    transport.assertDone();
  });

  it('resumes the journal on start', async () => {
    const transport = new FakeTransport([{ method: 'DELETE', path: `/v2.0/ports/${PORT_A}`, reply: { status: 404, body: { NeutronError: { type: 'PortNotFound', message: 'not found', detail: '' } } } }]);
    const journal = new MemoryJournal();
    await journal.add({ portId: PORT_A, networkId: 'net-1', ips: [] });
    const reaper = newReaper(transport, journal);

    assert.equal(await reaper.resume(), 1);
    await reaper.drain();

    assert.equal(journal.entries.size, 0);
    transport.assertDone();
  });

  it('deletes inline when not in background', async () => {
    const transport = new FakeTransport([{ method: 'DELETE', path: `/v2.0/ports/${PORT_A}`, reply: { status: 204 } }]);
    const journal = new MemoryJournal();
    const reaper = newReaper(transport, journal, false);

    await reaper.schedule({ portId: PORT_A, networkId: 'net-1', ips: [] });

    assert.equal(transport.calls.length, 1);
    assert.equal(journal.entries.size, 0);
  });
});

describe('FileJournal', () => {
  it('keeps entries across instances', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'kuryr-journal-'));
    try {
      const first = new FileJournal(join(directory, 'port-deletes'));
      await first.add({ portId: PORT_A, networkId: 'net-1', ips: ['10.0.0.5'] });
      await first.add({ portId: PORT_B, networkId: 'net-1', ips: [] });
      await first.remove(PORT_B);

      const entries = await new FileJournal(join(directory, 'port-deletes')).load();

      assert.deepEqual(entries, [{ portId: PORT_A, networkId: 'net-1', ips: ['10.0.0.5'] }]);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('reads a truncated entry by its name', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'kuryr-journal-'));
    try {
      await writeFile(join(directory, PORT_A), '{"portId":');
      await writeFile(join(directory, 'unrelated.txt'), 'x');

      const entries = await new FileJournal(directory).load();

      assert.deepEqual(entries, [{ portId: PORT_A, networkId: '', ips: [] }]);
      assert.equal((await readdir(directory)).length, 2);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('loads nothing without a directory', async () => {
    assert.deepEqual(await new FileJournal(join(tmpdir(), 'kuryr-journal-missing-dir')).load(), []);
  });
});
