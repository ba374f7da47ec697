/**
 * Deletes released ports in the background, so `docker rm` and the end of
 * `docker run --rm` do not wait for Neutron's port delete (about 0.2 s).
 * Each pending delete is written to a journal before the verb replies and
 * removed after Neutron confirms it, so deletes cut off by a crash run again
 * when the daemon starts. Neutron keeps a port's addresses until the port is
 * deleted, so an address is never handed out twice. A request for one exact
 * address, and a network or subnet delete, first waits for the pending
 * deletes on it.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { NeutronClient } from '../neutron/index.js';
import type { Clock } from './context.js';

/** The record of one pending port delete. */
export interface PendingDelete {
  portId: string;
  networkId: string;
  ips: string[];
}

/** Storage of pending deletes that survives a restart. */
export interface DeleteJournal {
  add(entry: PendingDelete): Promise<void>;
  remove(portId: string): Promise<void>;
  load(): Promise<PendingDelete[]>;
}

/** A journal kept in memory only, for unit tests: its entries are lost on restart. */
export class MemoryJournal implements DeleteJournal {
  readonly entries = new Map<string, PendingDelete>();

  async add(entry: PendingDelete): Promise<void> {
    this.entries.set(entry.portId, entry);
  }

  async remove(portId: string): Promise<void> {
    this.entries.delete(portId);
  }

  async load(): Promise<PendingDelete[]> {
    return [...this.entries.values()];
  }
}

const PORT_ID = /^[0-9a-f-]{36}$/;

/** A journal of one small JSON file per pending delete in `directory`. */
export class FileJournal implements DeleteJournal {
  constructor(private readonly directory: string) {}

  async add(entry: PendingDelete): Promise<void> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    await writeFile(join(this.directory, entry.portId), JSON.stringify(entry), { mode: 0o600 });
  }

  async remove(portId: string): Promise<void> {
    await rm(join(this.directory, portId), { force: true });
  }

  async load(): Promise<PendingDelete[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const entries: PendingDelete[] = [];
    for (const name of names.filter((candidate) => PORT_ID.test(candidate))) {
      try {
        entries.push(JSON.parse(await readFile(join(this.directory, name), 'utf8')) as PendingDelete);
      } catch {
        // A file cut short by a crash still names its port.
        entries.push({ portId: name, networkId: '', ips: [] });
      }
    }
    return entries;
  }
}

export interface PortReaperOptions {
  neutron: NeutronClient;
  journal: DeleteJournal;
  logger: Logger;
  clock: Clock;
  /** False deletes each port before the release returns, as unit tests expect. */
  background: boolean;
  /** Delays between attempts in ms. After the last one fails, the delete stays in the journal. */
  retryDelaysMs?: number[];
}

interface Pending {
  entry: PendingDelete;
  done: Promise<void>;
}

export class PortReaper {
  private readonly pending = new Map<string, Pending>();
  private readonly retryDelaysMs: number[];

  constructor(private readonly options: PortReaperOptions) {
    this.retryDelaysMs = options.retryDelaysMs ?? [500, 1000, 2000, 4000, 8000];
  }

  /**
   * Records the delete, then runs it. `afterDelete` runs once the port is
   * deleted, because its exposed-ports security group can only go after it.
   */
  async schedule(entry: PendingDelete, afterDelete?: () => Promise<void>): Promise<void> {
    if (this.pending.has(entry.portId)) return;
    if (!this.options.background) {
      await this.options.neutron.ports.delete(entry.portId, { ignoreNotFound: true });
      await afterDelete?.();
      return;
    }
    await this.options.journal.add(entry);
    this.start(entry, afterDelete);
  }

  /** Resumes the deletes a previous run of the daemon left in the journal. */
  async resume(): Promise<number> {
    const entries = await this.options.journal.load();
    for (const entry of entries) {
      if (!this.pending.has(entry.portId)) this.start(entry, undefined);
    }
    if (entries.length > 0) this.options.logger.info({ count: entries.length }, 'resuming port deletes left by the previous run');
    return entries.length;
  }

  /** Waits for the pending deletes of ports on one Neutron network. */
  async waitForNetwork(networkId: string): Promise<void> {
    await this.waitFor((entry) => entry.networkId === networkId || entry.networkId === '');
  }

  /** Waits for a pending delete whose port still has the address `ip` on the network. */
  async waitForAddress(networkId: string, ip: string): Promise<void> {
    await this.waitFor((entry) => (entry.networkId === networkId || entry.networkId === '') && entry.ips.includes(ip));
  }

  /** Waits for every pending delete. The daemon calls it on shutdown. */
  async drain(): Promise<void> {
    await this.waitFor(() => true);
  }

  get size(): number {
    return this.pending.size;
  }

  private async waitFor(matches: (entry: PendingDelete) => boolean): Promise<void> {
    const waits = [...this.pending.values()].filter((pending) => matches(pending.entry)).map((pending) => pending.done);
    await Promise.all(waits);
  }

  private start(entry: PendingDelete, afterDelete: (() => Promise<void>) | undefined): void {
    const done = this.run(entry, afterDelete).finally(() => this.pending.delete(entry.portId));
    this.pending.set(entry.portId, { entry, done });
  }

  /** Deletes the port with retries. It never rejects, so waiting callers go on even when Neutron is down. */
  private async run(entry: PendingDelete, afterDelete: (() => Promise<void>) | undefined): Promise<void> {
    const { neutron, journal, logger, clock } = this.options;
    for (let attempt = 0; ; attempt += 1) {
      try {
        await neutron.ports.delete(entry.portId, { ignoreNotFound: true });
        break;
      } catch (error) {
        const delay = this.retryDelaysMs[attempt];
        if (delay === undefined) {
          logger.error({ err: error, portId: entry.portId }, 'port delete failed; the daemon retries it at its next start, or run kuryr gc --apply');
          return;
        }
        logger.warn({ err: error, portId: entry.portId, retryInMs: delay }, 'port delete failed; retrying');
        await clock.sleep(delay);
      }
    }
    try {
      await afterDelete?.();
    } catch (error) {
      logger.error({ err: error, portId: entry.portId }, 'clean-up after the port delete failed; run kuryr gc to find leftovers');
    }
    await journal.remove(entry.portId).catch((error: unknown) => {
      logger.warn({ err: error, portId: entry.portId }, 'cannot remove the journal entry of a deleted port');
    });
    logger.info({ portId: entry.portId }, 'port deleted');
  }
}
