/**
 * Helpers for end-to-end tests on the lab: the docker CLI against the lab's
 * dockerd, the OpenStack APIs through the loopback relay, and iproute2 in
 * the lab namespace. Credentials are the lab's fixed admin account.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const LAB_NAMESPACE = 'lab-os';
export const DOCKER_HOST = process.env.KURYR_LAB_DOCKER_HOST ?? 'unix:///run/kuryr-lab/docker.sock';
const KEYSTONE_URL = 'http://127.0.0.1:5000/v3';
export const NEUTRON_URL = 'http://127.0.0.1:9696/v2.0';

export interface CommandOutput {
  code: number;
  stdout: string;
  stderr: string;
}

export async function command(argv: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<CommandOutput> {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('empty argv');
  try {
    const { stdout, stderr } = await run(file, args, { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof failure.code === 'number' ? failure.code : 1, stdout: failure.stdout ?? '', stderr: failure.stderr ?? String(error) };
  }
}

export function docker(...args: string[]): Promise<CommandOutput> {
  return command(['docker', ...args], { DOCKER_HOST });
}

/** Runs docker and fails with its stderr when it exits non-zero. */
export async function dockerOk(...args: string[]): Promise<string> {
  const output = await docker(...args);
  if (output.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${output.code}: ${output.stderr.trim()}`);
  return output.stdout.trim();
}

export async function labIp(...args: string[]): Promise<string> {
  const output = await command(['ip', '-n', LAB_NAMESPACE, ...args]);
  if (output.code !== 0) throw new Error(`ip -n ${LAB_NAMESPACE} ${args.join(' ')} failed: ${output.stderr.trim()}`);
  return output.stdout;
}

export async function labLinkNames(): Promise<string[]> {
  const links = JSON.parse(await labIp('-json', 'link', 'show')) as Array<{ ifname: string }>;
  return links.map((link) => link.ifname);
}

let cachedToken: string | undefined;

async function adminToken(): Promise<string> {
  if (cachedToken !== undefined) return cachedToken;
  const response = await fetch(`${KEYSTONE_URL}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: 'adminpass' } } },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    }),
  });
  const token = response.headers.get('x-subject-token');
  if (response.status !== 201 || token === null) throw new Error(`Keystone returned HTTP ${response.status}`);
  cachedToken = token;
  return token;
}

/** GET on Keystone v3 as the lab admin; returns the parsed JSON body. */
export async function keystoneGet<T>(path: string): Promise<T> {
  const response = await fetch(`${KEYSTONE_URL}${path}`, { headers: { 'X-Auth-Token': await adminToken() } });
  if (!response.ok) throw new Error(`GET ${path} returned HTTP ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** GET on Neutron as the lab admin; returns the parsed JSON body. */
export async function neutronGet<T>(path: string): Promise<T> {
  const response = await fetch(`${NEUTRON_URL}${path}`, { headers: { 'X-Auth-Token': await adminToken() } });
  if (!response.ok) throw new Error(`GET ${path} returned HTTP ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** POST, PUT or DELETE on Neutron as the lab admin; returns the parsed JSON body, or undefined for an empty reply. */
export async function neutronSend<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T | undefined> {
  const response = await fetch(`${NEUTRON_URL}${path}`, {
    method,
    headers: { 'X-Auth-Token': await adminToken(), 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path} returned HTTP ${response.status}: ${await response.text()}`);
  const text = await response.text();
  return text === '' ? undefined : (JSON.parse(text) as T);
}

export interface NeutronPort {
  id: string;
  mac_address: string;
  status: string;
  fixed_ips: Array<{ subnet_id: string; ip_address: string }>;
  device_owner: string;
  'binding:host_id': string;
  'binding:vif_type': string;
  tags: string[];
  security_groups: string[];
}

/** Everything kuryr made in Neutron, found by its names and tags, for leak checks. */
export async function kuryrResources(): Promise<{ networks: string[]; subnets: string[]; pools: string[]; ports: string[] }> {
  const networks = await neutronGet<{ networks: Array<{ id: string; name: string }> }>('/networks?fields=id&fields=name');
  const subnets = await neutronGet<{ subnets: Array<{ id: string; name: string }> }>('/subnets?fields=id&fields=name');
  const pools = await neutronGet<{ subnetpools: Array<{ id: string; name: string }> }>('/subnetpools?fields=id&fields=name');
  const ports = await neutronGet<{ ports: Array<{ id: string }> }>('/ports?device_owner=kuryr%3Acontainer&fields=id');
  return {
    networks: networks.networks.filter((network) => network.name.startsWith('kuryr-net-')).map((network) => network.id),
    subnets: subnets.subnets.filter((subnet) => subnet.name.startsWith('kuryr-subnet-')).map((subnet) => subnet.id),
    pools: pools.subnetpools.filter((pool) => pool.name.startsWith('kuryrPool-')).map((pool) => pool.id),
    ports: ports.ports.map((port) => port.id),
  };
}

/** Polls `check` until it returns a value or the deadline passes. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
