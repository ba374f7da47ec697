/**
 * Measurements taken from the lab's own processes and logs: Neutron REST
 * calls made by the kuryr user and Neutron's time for them (from
 * neutron-server's access log), the kuryr daemon's RSS and the agent wait it
 * logs.
 */
import { open, readFile, stat } from 'node:fs/promises';

const STATE_DIR = '/var/lib/kuryr-lab';
export const NEUTRON_LOG = `${STATE_DIR}/log/neutron-server.log`;
export const KURYR_LOG = `${STATE_DIR}/log/kuryr.log`;
const KURYR_PID_FILE = '/run/kuryr-lab/kuryr.pid';

/** Finds the Keystone user id of `kuryr`, which tags every Neutron access-log line of its requests. */
export async function kuryrUserId(): Promise<string> {
  const response = await fetch('http://127.0.0.1:5000/v3/auth/tokens', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'kuryr', domain: { name: 'Default' }, password: 'kuryrpass' } } },
        scope: { project: { name: 'service', domain: { name: 'Default' } } },
      },
    }),
  });
  const body = (await response.json()) as { token: { user: { id: string } } };
  return body.token.user.id;
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

/** Reads what was appended to `path` since byte `offset`. */
export async function readSince(path: string, offset: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const buffer = Buffer.alloc(Math.max(0, size - offset));
    await handle.read(buffer, 0, buffer.length, offset);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

const ACCESS_LINE = /"(GET|POST|PUT|DELETE) \/v2\.0\/[^"]*" status: \d+.*?(?:time: ([\d.]+))?$/;

/** Neutron REST requests that one user made, and the time neutron-server logged for them. */
export interface NeutronRequests {
  count: number;
  /** Sum of the access log's `time:` fields: Neutron's own time, without the client's. */
  seconds: number;
}

/** Counts the Neutron REST requests `userId` made in a stretch of neutron-server's log, and sums their time. */
export function neutronRequests(logText: string, userId: string): NeutronRequests {
  let count = 0;
  let seconds = 0;
  for (const line of logText.split('\n')) {
    if (!line.includes(userId)) continue;
    const match = ACCESS_LINE.exec(line);
    if (match === null) continue;
    count += 1;
    seconds += Number(match[2] ?? 0);
  }
  return { count, seconds };
}

/** Sums the time CreateEndpoint spent waiting for ACTIVE in a stretch of kuryr's log. */
export function activeWaitTimes(logText: string): number[] {
  const waits: number[] = [];
  for (const line of logText.split('\n')) {
    if (!line.includes('"endpoint created"')) continue;
    const entry = JSON.parse(line) as { activeWaitMs?: number };
    if (typeof entry.activeWaitMs === 'number') waits.push(entry.activeWaitMs);
  }
  return waits;
}

export async function kuryrPid(): Promise<number> {
  return Number((await readFile(KURYR_PID_FILE, 'utf8')).trim());
}

export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}
