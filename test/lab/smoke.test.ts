/**
 * Smoke test of the lab that lab/up.sh starts: a Keystone token for the
 * kuryr user, Neutron port binding, the linuxbridge data path between two
 * hand-made tap ports, and dockerd running a container.
 *
 * Needs root and a running lab. Everything it creates is named lab-smoke-*
 * (namespaces lab-os-t1 and lab-os-t2) and is removed even when a check
 * fails. Leftovers of an interrupted run are removed before the tests start.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { hostname } from 'node:os';
import { after, before, describe, it, test } from 'node:test';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const KEYSTONE_URL = 'http://127.0.0.1:5000/v3';
const LAB_NAMESPACE = 'lab-os';
const DOCKER_HOST = 'unix:///run/kuryr-lab/docker.sock';
const NAME_PREFIX = 'lab-smoke-';
const TEST_NAMESPACES = ['lab-os-t1', 'lab-os-t2'] as const;
// Only the two test namespaces use this subnet. It overlaps neither the
// kuryr subnet pool (10.10.0.0/16) nor the lab underlay (10.254.254.0/24).
const DATA_PATH_CIDR = '10.199.199.0/24';
const DATA_PATH_PREFIX_LENGTH = 24;
// The agent polls every 2 s, and a port usually goes ACTIVE 2-3 s after its tap appears.
const PORT_ACTIVE_TIMEOUT_MS = 30_000;
const PING_TIMEOUT_MS = 20_000;
const POLL_INTERVAL_MS = 250;

// ---------------------------------------------------------------- commands

interface RunOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Runs FILE with ARGS (no shell) and returns stdout. Throws with stderr on failure. */
async function run(file: string, args: string[], options: RunOptions = {}): Promise<string> {
  try {
    const { stdout } = await execFileAsync(file, args, {
      env: { ...process.env, ...options.env },
      timeout: options.timeoutMs ?? 30_000,
    });
    return stdout;
  } catch (error) {
    const failure = error as Error & { stderr?: string };
    const detail = failure.stderr?.trim() || failure.message;
    throw new Error(`${file} ${args.join(' ')} failed: ${detail}`, { cause: error });
  }
}

async function succeeds(file: string, args: string[], options: RunOptions = {}): Promise<boolean> {
  try {
    await run(file, args, options);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls CHECK until it returns a value other than undefined, or throws after TIMEOUT_MS. */
async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(POLL_INTERVAL_MS);
  }
}

/**
 * Cleanup actions, run in reverse order of registration. Every action runs
 * even when an earlier one fails, and the failures are reported together.
 */
class Cleanup {
  private readonly actions: Array<{ description: string; action: () => Promise<unknown> }> = [];

  add(description: string, action: () => Promise<unknown>): void {
    this.actions.push({ description, action });
  }

  async run(): Promise<void> {
    const failures: string[] = [];
    for (const { description, action } of this.actions.reverse()) {
      try {
        await action();
      } catch (error) {
        failures.push(`${description}: ${(error as Error).message}`);
      }
    }
    this.actions.length = 0;
    if (failures.length > 0) throw new Error(`cleanup failed:\n${failures.join('\n')}`);
  }
}

// ---------------------------------------------------------------- Keystone

interface CatalogEndpoint {
  interface: string;
  region_id: string;
  url: string;
}

interface CatalogService {
  type: string;
  endpoints: CatalogEndpoint[];
}

interface TokenBody {
  token: {
    project: { name: string };
    roles: Array<{ name: string }>;
    catalog: CatalogService[];
  };
}

interface IssuedToken {
  status: number;
  token: string | null;
  body: TokenBody;
}

async function issueKuryrToken(): Promise<IssuedToken> {
  let response: Response;
  try {
    response = await fetch(`${KEYSTONE_URL}/auth/tokens`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'kuryr', domain: { name: 'Default' }, password: 'kuryrpass' } },
          },
          scope: { project: { name: 'service', domain: { name: 'Default' } } },
        },
      }),
    });
  } catch (error) {
    throw new Error(`Keystone at ${KEYSTONE_URL} is unreachable (${(error as Error).message}); start the lab with: bash lab/up.sh`, {
      cause: error,
    });
  }
  return { status: response.status, token: response.headers.get('x-subject-token'), body: (await response.json()) as TokenBody };
}

function publicNetworkUrl(catalog: CatalogService[]): string | undefined {
  const network = catalog.find((service) => service.type === 'network');
  const endpoint = network?.endpoints.find((candidate) => candidate.interface === 'public' && candidate.region_id === 'RegionOne');
  return endpoint?.url;
}

// ---------------------------------------------------------------- Neutron

interface Session {
  token: string;
  neutronUrl: string;
}

let sessionPromise: Promise<Session> | undefined;

/** Issues the kuryr user's token once per test run and returns it with the Neutron URL. */
function session(): Promise<Session> {
  sessionPromise ??= (async () => {
    const issued = await issueKuryrToken();
    assert.equal(issued.status, 201, `Keystone returned HTTP ${issued.status} for the kuryr token`);
    assert.ok(issued.token, 'Keystone sent no X-Subject-Token header');
    const url = publicNetworkUrl(issued.body.token.catalog);
    assert.ok(url, 'the token catalog has no public network endpoint in RegionOne');
    return { token: issued.token, neutronUrl: `${url.replace(/\/$/, '')}/v2.0` };
  })();
  return sessionPromise;
}

class NeutronError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function neutron<T>(method: string, path: string, body?: unknown): Promise<T> {
  const { token, neutronUrl } = await session();
  const response = await fetch(`${neutronUrl}${path}`, {
    method,
    headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new NeutronError(response.status, `${method} ${path} returned HTTP ${response.status}: ${text}`);
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** Deletes a Neutron resource. One that is already gone counts as deleted. */
async function neutronDelete(path: string): Promise<void> {
  try {
    await neutron<undefined>('DELETE', path);
  } catch (error) {
    if (!(error instanceof NeutronError && error.status === 404)) throw error;
  }
}

interface Network {
  id: string;
  name: string;
  mtu: number;
}

interface Subnet {
  id: string;
}

interface SecurityGroup {
  id: string;
  name: string;
}

interface SecurityGroupRule {
  id: string;
}

interface Port {
  id: string;
  name: string;
  status: string;
  mac_address: string;
  fixed_ips: Array<{ subnet_id: string; ip_address: string }>;
  'binding:host_id': string;
  'binding:vif_type': string;
}

interface Agent {
  alive: boolean;
  host: string;
}

async function createNetwork(name: string): Promise<Network> {
  const { network } = await neutron<{ network: Network }>('POST', '/networks', { network: { name, admin_state_up: true } });
  return network;
}

async function createPort(name: string, networkId: string, securityGroupIds?: string[]): Promise<Port> {
  const request: Record<string, unknown> = {
    name,
    network_id: networkId,
    device_owner: 'kuryr:container',
    device_id: name,
    'binding:host_id': hostname(),
  };
  if (securityGroupIds !== undefined) request.security_groups = securityGroupIds;
  const { port } = await neutron<{ port: Port }>('POST', '/ports', { port: request });
  return port;
}

async function getPort(id: string): Promise<Port> {
  const { port } = await neutron<{ port: Port }>('GET', `/ports/${id}`);
  return port;
}

async function addIcmpIngressRule(securityGroupId: string): Promise<SecurityGroupRule> {
  const { security_group_rule: rule } = await neutron<{ security_group_rule: SecurityGroupRule }>('POST', '/security-group-rules', {
    security_group_rule: { security_group_id: securityGroupId, direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp' },
  });
  return rule;
}

// ---------------------------------------------------------------- tap ports

// kuryr-lib's names: the host end of the veth in lab-os, and the container end.
function tapName(portId: string): string {
  return `tap${portId.slice(0, 11)}`;
}

function containerEndName(portId: string): string {
  return `t_c${portId.slice(0, 11)}`;
}

async function deleteLabLink(name: string): Promise<void> {
  if (await succeeds('ip', ['-n', LAB_NAMESPACE, 'link', 'show', name])) {
    await run('ip', ['-n', LAB_NAMESPACE, 'link', 'del', name]);
  }
}

async function deleteNamespace(name: string): Promise<void> {
  const list = await run('ip', ['netns', 'list']);
  if (list.split('\n').some((line) => line.split(' ')[0] === name)) {
    await run('ip', ['netns', 'del', name]);
  }
}

/**
 * Plugs PORT the way a container would be: the tap end stays in lab-os for
 * the agent, and the peer moves into NAMESPACE with the port's MAC and IP
 * (anti-spoofing rules drop anything else) and the network's MTU.
 */
async function plugPort(port: Port, namespace: string, mtu: number, cleanup: Cleanup): Promise<void> {
  const tap = tapName(port.id);
  const peer = containerEndName(port.id);
  const address = port.fixed_ips[0]?.ip_address;
  assert.ok(address, `port ${port.id} has no fixed IP`);

  await run('ip', ['netns', 'add', namespace]);
  cleanup.add(`delete namespace ${namespace}`, () => deleteNamespace(namespace));
  await run('ip', ['-n', LAB_NAMESPACE, 'link', 'add', tap, 'type', 'veth', 'peer', 'name', peer, 'netns', namespace]);
  cleanup.add(`delete ${tap} in ${LAB_NAMESPACE}`, () => deleteLabLink(tap));

  await run('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
  await run('ip', ['-n', namespace, 'link', 'set', peer, 'address', port.mac_address, 'mtu', String(mtu)]);
  await run('ip', ['-n', namespace, 'addr', 'add', `${address}/${DATA_PATH_PREFIX_LENGTH}`, 'dev', peer]);
  await run('ip', ['-n', namespace, 'link', 'set', peer, 'up']);
  await run('ip', ['-n', LAB_NAMESPACE, 'link', 'set', tap, 'mtu', String(mtu), 'up']);
}

function pingOnce(namespace: string, address: string): Promise<boolean> {
  return succeeds('ip', ['netns', 'exec', namespace, 'ping', '-n', '-c', '1', '-W', '1', address]);
}

// ---------------------------------------------------------------- leftovers

/** Removes what an interrupted earlier run left behind, found by its names. */
async function removeLeftovers(): Promise<void> {
  for (const namespace of TEST_NAMESPACES) await deleteNamespace(namespace);

  const { ports } = await neutron<{ ports: Port[] }>('GET', '/ports?device_owner=kuryr%3Acontainer');
  for (const port of ports.filter((candidate) => candidate.name.startsWith(NAME_PREFIX))) {
    await deleteLabLink(tapName(port.id));
    await neutronDelete(`/ports/${port.id}`);
  }
  const { networks } = await neutron<{ networks: Network[] }>('GET', '/networks');
  for (const network of networks.filter((candidate) => candidate.name.startsWith(NAME_PREFIX))) {
    await neutronDelete(`/networks/${network.id}`);
  }
  const { security_groups: groups } = await neutron<{ security_groups: SecurityGroup[] }>('GET', '/security-groups');
  for (const group of groups.filter((candidate) => candidate.name.startsWith(NAME_PREFIX))) {
    await neutronDelete(`/security-groups/${group.id}`);
  }
  await succeeds('docker', ['rm', '-f', `${NAME_PREFIX}docker`], { env: { DOCKER_HOST } });
}

before(removeLeftovers);

// ---------------------------------------------------------------- tests

test('keystone issues kuryr token', async () => {
  const issued = await issueKuryrToken();

  assert.equal(issued.status, 201);
  assert.ok(issued.token, 'no X-Subject-Token header');
  assert.equal(issued.body.token.project.name, 'service');
  assert.ok(
    issued.body.token.roles.some((role) => role.name === 'admin'),
    'kuryr needs the admin role: binding:host_id is admin-only',
  );
  assert.equal(publicNetworkUrl(issued.body.token.catalog), 'http://127.0.0.1:9696');
});

test('linuxbridge agent is alive', async () => {
  const { agents } = await neutron<{ agents: Agent[] }>('GET', `/agents?binary=neutron-linuxbridge-agent&host=${hostname()}`);

  assert.equal(agents.length, 1, `expected one linuxbridge agent on host ${hostname()}`);
  assert.equal(agents[0]?.alive, true);
});

test('neutron binds kuryr port as bridge', async (t) => {
  const cleanup = new Cleanup();
  t.after(() => cleanup.run());

  const network = await createNetwork(`${NAME_PREFIX}bind`);
  cleanup.add(`delete network ${network.id}`, () => neutronDelete(`/networks/${network.id}`));
  const port = await createPort(`${NAME_PREFIX}bind`, network.id);
  cleanup.add(`delete port ${port.id}`, () => neutronDelete(`/ports/${port.id}`));

  assert.equal(port['binding:host_id'], hostname());
  assert.equal(port['binding:vif_type'], 'bridge');
});

describe('tap ports on one network', () => {
  const cleanup = new Cleanup();
  let network: Network;
  let securityGroup: SecurityGroup;
  let icmpRule: SecurityGroupRule;
  const ports: Port[] = [];
  const addresses: string[] = [];

  before(async () => {
    network = await createNetwork(`${NAME_PREFIX}datapath`);
    cleanup.add(`delete network ${network.id}`, () => neutronDelete(`/networks/${network.id}`));
    await neutron<{ subnet: Subnet }>('POST', '/subnets', {
      subnet: {
        name: `${NAME_PREFIX}datapath`,
        network_id: network.id,
        ip_version: 4,
        cidr: DATA_PATH_CIDR,
        gateway_ip: null,
        enable_dhcp: false,
      },
    });

    // A fresh group allows no ingress until a rule is added, unlike the
    // default group, which admits traffic from its own members.
    ({ security_group: securityGroup } = await neutron<{ security_group: SecurityGroup }>('POST', '/security-groups', {
      security_group: { name: `${NAME_PREFIX}icmp` },
    }));
    cleanup.add(`delete security group ${securityGroup.id}`, () => neutronDelete(`/security-groups/${securityGroup.id}`));
    icmpRule = await addIcmpIngressRule(securityGroup.id);

    for (const [index, namespace] of TEST_NAMESPACES.entries()) {
      const port = await createPort(`${NAME_PREFIX}t${index + 1}`, network.id, [securityGroup.id]);
      cleanup.add(`delete port ${port.id}`, () => neutronDelete(`/ports/${port.id}`));
      ports.push(port);
      addresses.push(port.fixed_ips[0]?.ip_address ?? '');
      await plugPort(port, namespace, network.mtu, cleanup);
    }
  });

  after(() => cleanup.run());

  it('go ACTIVE once their taps appear', { timeout: PORT_ACTIVE_TIMEOUT_MS + 5_000 }, async () => {
    for (const port of ports) {
      await waitFor(`port ${port.id} to go ACTIVE`, PORT_ACTIVE_TIMEOUT_MS, async () =>
        (await getPort(port.id)).status === 'ACTIVE' ? true : undefined,
      );
    }
  });

  it('sit on the network bridge', async () => {
    for (const port of ports) {
      const link = await run('ip', ['-n', LAB_NAMESPACE, '-o', 'link', 'show', tapName(port.id)]);
      assert.match(link, new RegExp(`master brq${network.id.slice(0, 11)} `), `tap of port ${port.id} is not on the bridge`);
    }
  });

  it('ping each other', { timeout: 2 * PING_TIMEOUT_MS + 10_000 }, async () => {
    const [first, second] = TEST_NAMESPACES;
    // Security group rules can land a moment after the port goes ACTIVE.
    await waitFor('the first ping between the test namespaces', PING_TIMEOUT_MS, async () =>
      (await pingOnce(first, addresses[1] ?? '')) ? true : undefined,
    );
    await run('ip', ['netns', 'exec', first, 'ping', '-n', '-c', '3', '-i', '0.2', '-W', '1', addresses[1] ?? '']);
    await run('ip', ['netns', 'exec', second, 'ping', '-n', '-c', '3', '-i', '0.2', '-W', '1', addresses[0] ?? '']);
  });

  it('follow security group rule changes', { timeout: 2 * PING_TIMEOUT_MS + 10_000 }, async () => {
    const [first] = TEST_NAMESPACES;
    await neutronDelete(`/security-group-rules/${icmpRule.id}`);
    await waitFor('ping to stop after removing the ICMP rule', PING_TIMEOUT_MS, async () =>
      (await pingOnce(first, addresses[1] ?? '')) ? undefined : true,
    );

    icmpRule = await addIcmpIngressRule(securityGroup.id);
    await waitFor('ping to work again after re-adding the ICMP rule', PING_TIMEOUT_MS, async () =>
      (await pingOnce(first, addresses[1] ?? '')) ? true : undefined,
    );
  });

  // A port update makes the agent delete and re-add the port's MAC
  // anti-spoofing rule (ebtables --among-src). ebtables-nft cannot delete
  // that rule by its spec, so without the lab's ebtables shim the agent
  // loops on the port and never applies the new security group.
  it('follow a port security group change', { timeout: 2 * PING_TIMEOUT_MS + 10_000 }, async () => {
    const [first] = TEST_NAMESPACES;
    const target = ports[1];
    assert.ok(target, 'the data path ports were not created');
    const { security_group: closedGroup } = await neutron<{ security_group: SecurityGroup }>('POST', '/security-groups', {
      security_group: { name: `${NAME_PREFIX}closed` },
    });
    cleanup.add(`delete security group ${closedGroup.id}`, () => neutronDelete(`/security-groups/${closedGroup.id}`));

    await neutron<{ port: Port }>('PUT', `/ports/${target.id}`, { port: { security_groups: [closedGroup.id] } });
    await waitFor('ping to stop after moving the port to a group without ingress rules', PING_TIMEOUT_MS, async () =>
      (await pingOnce(first, addresses[1] ?? '')) ? undefined : true,
    );

    await neutron<{ port: Port }>('PUT', `/ports/${target.id}`, { port: { security_groups: [securityGroup.id] } });
    await waitFor('ping to work again after moving the port back', PING_TIMEOUT_MS, async () =>
      (await pingOnce(first, addresses[1] ?? '')) ? true : undefined,
    );
  });
});

test('dockerd runs busybox container', { timeout: 60_000 }, async (t) => {
  const name = `${NAME_PREFIX}docker`;
  t.after(() => succeeds('docker', ['rm', '-f', name], { env: { DOCKER_HOST } }));

  await run('docker', ['run', '--rm', '--name', name, 'busybox', 'true'], { env: { DOCKER_HOST }, timeoutMs: 50_000 });
});
