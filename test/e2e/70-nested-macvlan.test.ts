/**
 * Nested macvlan on the lab: a second kuryr daemon plays Kuryr inside a VM. The "VM" is an
 * operator network with a subnet and a VM port made here. The daemon's link_iface is a veth end in
 * lab-os that carries the VM port's MAC, and its plugin socket is kuryr-nested.sock, so Docker
 * finds it as the driver `kuryr-nested`. The Docker network uses the VM's subnet through
 * `neutron.subnet.uuid`, as on a real VM. The test starts and stops the daemon itself, by PID.
 *
 * The VM port stays unbound, so no agent plugs the veth. Containers on one parent reach each other
 * inside the macvlan driver (bridge mode), which is the path the ping checks.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { command, docker, dockerOk, eventually, labIp, neutronGet, neutronSend, type NeutronPort } from '../support/lab.js';

const DRIVER = 'kuryr-nested';
const SOCKET = `/run/docker/plugins/${DRIVER}.sock`;
const WORK_DIR = '/run/kuryr-lab/kuryr-e2e-nested';
const PID_FILE = join(WORK_DIR, 'kuryr.pid');
const CONFIG_FILE = join(WORK_DIR, 'kuryr.conf');
const LOG_FILE = '/var/lib/kuryr-lab/log/kuryr-e2e-nested.log';
const LAB_CONFIG = '/var/lib/kuryr-lab/etc/kuryr/kuryr.conf';
const REPO_DIR = new URL('../..', import.meta.url).pathname;

const NETWORK = 'kuryr-e2e-nested-net';
const CONTAINERS = ['kuryr-e2e-nested-c1', 'kuryr-e2e-nested-c2'];
const VM_PORT_NAME = 'kuryr-e2e-nested-vm';
const VM_NETWORK_NAME = 'kuryr-e2e-nested-vmnet';
const LINK_IFACE = 'kuryr-e2e-nvm0';
const LINK_PEER = 'kuryr-e2e-nvm1';
const VM_IP = '10.72.0.250';

type VmPort = NeutronPort & { allowed_address_pairs: Array<{ ip_address: string; mac_address: string }>; network_id: string };

interface ContainerLink {
  kind: string;
  mac: string;
  ip: string;
  mtu: number;
}

/** Writes the nested daemon's kuryr.conf: the lab's [neutron] section plus nested settings. */
async function writeConfig(): Promise<void> {
  const labConfig = await readFile(LAB_CONFIG, 'utf8');
  const neutronSection = labConfig.slice(labConfig.indexOf('[neutron]'));
  const text = [
    '[DEFAULT]',
    `socket_path = ${SOCKET}`,
    // A host name no agent reports, as a second guard: nested ports must never be bound here.
    'host = kuryr-e2e-nested-vm',
    'log_level = debug',
    // The lab's own daemon may serve metrics on the default address in the same namespace.
    'metrics_address = 0',
    '',
    '[binding]',
    'driver = kuryr.lib.binding.drivers.macvlan',
    `link_iface = ${LINK_IFACE}`,
    '',
    neutronSection,
  ].join('\n');
  await mkdir(WORK_DIR, { recursive: true, mode: 0o700 });
  await writeFile(CONFIG_FILE, text, { mode: 0o600 });
}

function activate(): Promise<boolean> {
  return new Promise((resolve) => {
    const call = request({ socketPath: SOCKET, path: '/Plugin.Activate', method: 'POST' }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    call.on('error', () => resolve(false));
    call.end('{}');
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops the daemon this test started, here or in an interrupted run. A PID that no longer runs our config is never signalled. */
async function stopDaemon(): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(PID_FILE, 'utf8')).trim());
  } catch {
    return;
  }
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (pid > 0 && cmdline.includes(CONFIG_FILE)) {
    process.kill(pid, 'SIGTERM');
    await eventually('the nested daemon to exit', async () => (isAlive(pid) ? undefined : true), 15_000);
  }
  await rm(PID_FILE, { force: true });
}

async function startDaemon(): Promise<void> {
  await writeConfig();
  const log = await open(LOG_FILE, 'a');
  // `ip netns exec` execs node, so the child's PID is the daemon's own.
  const child = spawn('ip', ['netns', 'exec', 'lab-os', process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'serve', '--config-file', CONFIG_FILE], {
    cwd: REPO_DIR,
    stdio: ['ignore', log.fd, log.fd],
    detached: true,
  });
  child.unref();
  await log.close();
  assert.ok(child.pid !== undefined, 'the nested daemon did not start');
  await writeFile(PID_FILE, String(child.pid));
  await eventually('the nested daemon to answer Plugin.Activate', async () => ((await activate()) ? true : undefined), 30_000);
}

/** Deletes the VM network with its port and subnet. */
async function deleteVmNetwork(): Promise<void> {
  const { ports } = await neutronGet<{ ports: Array<{ id: string }> }>(`/ports?name=${VM_PORT_NAME}&fields=id`);
  for (const port of ports) await neutronSend('DELETE', `/ports/${port.id}`);
  const { networks } = await neutronGet<{ networks: Array<{ id: string }> }>(`/networks?name=${VM_NETWORK_NAME}&fields=id`);
  for (const network of networks) await neutronSend('DELETE', `/networks/${network.id}`);
}

async function removeLeftovers(): Promise<void> {
  for (const name of CONTAINERS) await docker('rm', '-f', name);
  await docker('network', 'rm', NETWORK);
  await deleteVmNetwork();
  // Deleting one end of a veth deletes both.
  await command(['ip', '-n', 'lab-os', 'link', 'delete', 'dev', LINK_IFACE]);
}

/** Creates the network the VM sits on, as an operator would. */
async function createVmNetwork(): Promise<{ networkId: string; subnetId: string }> {
  const network = await neutronSend<{ network: { id: string } }>('POST', '/networks', { network: { name: VM_NETWORK_NAME } });
  assert.ok(network !== undefined);
  const subnet = await neutronSend<{ subnet: { id: string } }>('POST', '/subnets', {
    subnet: { network_id: network.network.id, ip_version: 4, cidr: '10.72.0.0/24', gateway_ip: '10.72.0.1', enable_dhcp: false },
  });
  assert.ok(subnet !== undefined);
  return { networkId: network.network.id, subnetId: subnet.subnet.id };
}

/** Creates the VM port and its veth; the end kuryr uses as link_iface carries the port's MAC. */
async function createVmPort(neutronNetworkId: string, subnetId: string): Promise<VmPort> {
  const reply = await neutronSend<{ port: VmPort }>('POST', '/ports', {
    port: { network_id: neutronNetworkId, name: VM_PORT_NAME, fixed_ips: [{ subnet_id: subnetId, ip_address: VM_IP }] },
  });
  assert.ok(reply !== undefined);
  await labIp('link', 'add', LINK_IFACE, 'type', 'veth', 'peer', 'name', LINK_PEER);
  await labIp('link', 'set', 'dev', LINK_IFACE, 'address', reply.port.mac_address, 'mtu', '1450', 'up');
  await labIp('link', 'set', 'dev', LINK_PEER, 'mtu', '1450', 'up');
  return reply.port;
}

async function vmPort(id: string): Promise<VmPort> {
  return (await neutronGet<{ port: VmPort }>(`/ports/${id}`)).port;
}

/** Reads eth0 of a container, with the link kind that `ip -d` shows, which busybox's ip does not. */
async function containerLink(name: string): Promise<ContainerLink> {
  // dockerd runs under `ip netns exec`, whose private mount namespace hides the sandbox files, so
  // the container's network namespace is entered through its init process.
  const pid = await dockerOk('inspect', '-f', '{{.State.Pid}}', name);
  const output = await command(['nsenter', `--target=${pid}`, '--net', 'ip', '-d', '-j', 'addr', 'show', 'dev', 'eth0']);
  assert.equal(output.code, 0, output.stderr);
  const [link] = JSON.parse(output.stdout) as Array<{
    address: string;
    mtu: number;
    linkinfo?: { info_kind?: string };
    addr_info: Array<{ family: string; local: string }>;
  }>;
  assert.ok(link !== undefined, `no eth0 in ${name}`);
  const ipv4 = link.addr_info.find((address) => address.family === 'inet');
  return { kind: link.linkinfo?.info_kind ?? '', mac: link.address, ip: ipv4?.local ?? '', mtu: link.mtu };
}

async function containerPort(ip: string, neutronNetworkId: string): Promise<NeutronPort> {
  const { ports } = await neutronGet<{ ports: NeutronPort[] }>(`/ports?network_id=${neutronNetworkId}&fixed_ips=ip_address%3D${ip}`);
  assert.equal(ports.length, 1, `expected one port with ${ip}`);
  return ports[0] as NeutronPort;
}

describe('nested macvlan', () => {
  let vmPortId = '';
  let neutronNetworkId = '';
  const links: ContainerLink[] = [];

  before(async () => {
    await stopDaemon();
    await startDaemon();
    await removeLeftovers();
  });

  after(async () => {
    await removeLeftovers();
    await stopDaemon();
  });

  it('creates a Docker network on the VM subnet', async () => {
    const vmNetwork = await createVmNetwork();
    neutronNetworkId = vmNetwork.networkId;
    const port = await createVmPort(neutronNetworkId, vmNetwork.subnetId);
    vmPortId = port.id;
    assert.deepEqual(port.allowed_address_pairs, []);

    const option = `neutron.subnet.uuid=${vmNetwork.subnetId}`;
    await dockerOk('network', 'create', '--driver', DRIVER, '--ipam-driver', DRIVER, '--ipam-opt', option, '-o', option, NETWORK);
    const subnet = await dockerOk('network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', NETWORK);
    assert.equal(subnet, '10.72.0.0/24');
  });

  it('gives each container a macvlan with its port', async () => {
    for (const name of CONTAINERS) {
      await dockerOk('run', '-d', '--net', NETWORK, '--name', name, 'busybox', 'sleep', '600');
      const link = await containerLink(name);
      const port = await containerPort(link.ip, neutronNetworkId);

      assert.equal(link.kind, 'macvlan');
      assert.equal(link.mac, port.mac_address);
      assert.equal(link.mtu, 1450);
      assert.equal(port['binding:host_id'], '', 'nested ports stay unbound');
      links.push(link);
    }
    const hostLinks = await labIp('-o', 'link', 'show');
    assert.doesNotMatch(hostLinks, /t_c/, 'the macvlan children moved into the containers');
  });

  it('adds the container IPs to the VM port', async () => {
    const port = await vmPort(vmPortId);
    const pairs = port.allowed_address_pairs.map((pair) => `${pair.ip_address} ${pair.mac_address}`).sort();
    assert.deepEqual(pairs, links.map((link) => `${link.ip} ${link.mac}`).sort());
  });

  it('lets the two containers ping each other', async () => {
    const [first, second] = CONTAINERS;
    const target = links[1]?.ip;
    assert.ok(first !== undefined && second !== undefined && target !== undefined);
    const output = await docker('exec', first, 'ping', '-c', '3', '-W', '2', target);
    assert.equal(output.code, 0, `ping ${target} failed: ${output.stdout} ${output.stderr}`);
    assert.match(output.stdout, /3 packets received/);
  });

  it('removes the pairs with the containers', async () => {
    const [first, second] = CONTAINERS;
    assert.ok(first !== undefined && second !== undefined);

    await dockerOk('rm', '-f', first);
    const afterFirst = await vmPort(vmPortId);
    assert.deepEqual(
      afterFirst.allowed_address_pairs.map((pair) => pair.ip_address),
      [links[1]?.ip],
    );

    await dockerOk('rm', '-f', second);
    assert.deepEqual((await vmPort(vmPortId)).allowed_address_pairs, []);
  });

  it('hands the VM network back on network rm', async () => {
    await dockerOk('network', 'rm', NETWORK);
    const { ports } = await neutronGet<{ ports: Array<{ id: string }> }>(`/ports?network_id=${neutronNetworkId}&fields=id`);
    assert.deepEqual(
      ports.map((port) => port.id),
      [vmPortId],
      'only the VM port is left on the VM network',
    );
    const { networks } = await neutronGet<{ networks: Array<{ tags: string[] }> }>(`/networks?id=${neutronNetworkId}`);
    assert.deepEqual(networks[0]?.tags, []);
  });
});
