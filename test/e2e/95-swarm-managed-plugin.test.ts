/**
 * kuryr as a managed plugin, made with `docker plugin create` from the bundle
 * that packaging/plugin/build.sh builds, with global scope on a one-node
 * swarm. The manager calls AllocateNetwork, which creates the Neutron
 * network before any container exists. It reserves container addresses
 * without a MAC, and calls FreeNetwork on `docker network rm`. The swarm
 * listens on the lab namespace's loopback only.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { command, docker, dockerOk, eventually, neutronGet, neutronSend, type NeutronPort } from '../support/lab.js';

const REPO = join(import.meta.dirname, '..', '..');
const WORK_DIR = '/var/lib/kuryr-lab/plugin-e2e';
const PLUGIN = 'kuryr/kuryr-ts:e2e';
const NETWORK = 'swarm-kuryr';
const CONTAINERS = ['swarm-c1', 'swarm-c2'];
const CIDR = '10.59.0.0/24';
const SWARM_TAG = 'kuryr.net.swarm';

interface Nic {
  ip: string;
  mac: string;
}

async function containerNic(name: string): Promise<Nic> {
  const addresses = await dockerOk('exec', name, 'ip', '-o', '-4', 'addr', 'show', 'eth0');
  const link = await dockerOk('exec', name, 'ip', '-o', 'link', 'show', 'eth0');
  const ip = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(addresses)?.[1];
  const mac = /link\/ether ([0-9a-f:]{17})/.exec(link)?.[1];
  assert.ok(ip, `no IPv4 address on eth0 in ${name}: ${addresses}`);
  assert.ok(mac, `no MAC on eth0 in ${name}: ${link}`);
  return { ip, mac };
}

async function swarmNetworks(): Promise<Array<{ id: string; subnets: string[] }>> {
  const { networks } = await neutronGet<{ networks: Array<{ id: string; subnets: string[] }> }>(`/networks?tags=${SWARM_TAG}`);
  return networks;
}

/** Writes the plugin's kuryr.conf: the lab daemon's credentials, global scope, and no metrics listener (the lab daemon has port 9797). */
async function writePluginConfig(): Promise<void> {
  const labConfig = await readFile('/var/lib/kuryr-lab/etc/kuryr/kuryr.conf', 'utf8');
  const neutronSection = labConfig.slice(labConfig.indexOf('[neutron]'));
  const hostName = (await command(['hostname'])).stdout.trim();
  const config = [
    '[DEFAULT]',
    `host = ${hostName}`,
    'capability_scope = global',
    'metrics_address = 0',
    'log_dir = /var/log/kuryr',
    'state_dir = /var/log/kuryr/state',
    '',
    neutronSection,
  ].join('\n');
  await mkdir(join(WORK_DIR, 'etc'), { recursive: true });
  await mkdir(join(WORK_DIR, 'log'), { recursive: true });
  await mkdir(join(WORK_DIR, 'ovs'), { recursive: true });
  await writeFile(join(WORK_DIR, 'etc', 'kuryr.conf'), config, { mode: 0o600 });
}

/** Removes everything this file makes, in Docker and, for what a failed run leaves, in Neutron. */
async function cleanUp(): Promise<void> {
  for (const name of CONTAINERS) await docker('rm', '-f', name);
  await docker('network', 'rm', NETWORK);
  await docker('swarm', 'leave', '--force');
  // `docker swarm init` made this bridge in the lab namespace, and leaving the swarm keeps it.
  await docker('network', 'rm', 'docker_gwbridge');
  await docker('plugin', 'disable', '--force', PLUGIN);
  await docker('plugin', 'rm', '--force', PLUGIN);
  for (const network of await swarmNetworks()) {
    const { ports } = await neutronGet<{ ports: Array<{ id: string }> }>(`/ports?network_id=${network.id}`);
    for (const port of ports) await neutronSend('DELETE', `/ports/${port.id}`).catch(() => undefined);
    await neutronSend('DELETE', `/networks/${network.id}`).catch(() => undefined);
  }
  const { subnetpools } = await neutronGet<{ subnetpools: Array<{ id: string }> }>(`/subnetpools?name=kuryrPool-${encodeURIComponent(CIDR)}`);
  for (const pool of subnetpools) await neutronSend('DELETE', `/subnetpools/${pool.id}`).catch(() => undefined);
  await rm(WORK_DIR, { recursive: true, force: true });
}

describe('managed plugin in swarm mode', () => {
  before(async () => {
    await cleanUp();
    await writePluginConfig();
    const build = await command(['bash', join(REPO, 'packaging/plugin/build.sh'), join(WORK_DIR, 'bundle')], {}, 300_000);
    assert.equal(build.code, 0, build.stderr);
    await dockerOk('plugin', 'create', PLUGIN, join(WORK_DIR, 'bundle'));
    await dockerOk(
      'plugin', 'set', PLUGIN,
      `config.source=${join(WORK_DIR, 'etc')}`, `logs.source=${join(WORK_DIR, 'log')}`, `openvswitch.source=${join(WORK_DIR, 'ovs')}`,
    );
    await dockerOk('plugin', 'enable', PLUGIN);
    await dockerOk('swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', '127.0.0.1:2377');
  });
  after(cleanUp);

  it('creates the Neutron network on AllocateNetwork', async () => {
    await dockerOk('network', 'create', '--driver', PLUGIN, '--ipam-driver', PLUGIN, '--subnet', CIDR, '--gateway', '10.59.0.1', '--attachable', NETWORK);

    assert.equal(await dockerOk('network', 'inspect', '-f', '{{.Scope}}', NETWORK), 'swarm');
    // The manager allocates the network after `docker network create` has returned.
    const networks = await eventually('the swarm network and its subnet in Neutron', async () => {
      const found = await swarmNetworks();
      return found.some((network) => network.subnets.length > 0) ? found : undefined;
    });
    assert.equal(networks.length, 1);
    assert.equal(networks[0]?.subnets.length, 1);
  });

  it('runs two containers that ping each other', async () => {
    for (const name of CONTAINERS) await dockerOk('run', '-d', '--net', NETWORK, '--name', name, 'busybox', 'sleep', '600');
    const nics = await Promise.all(CONTAINERS.map((name) => containerNic(name)));

    for (const nic of nics) {
      const { ports } = await neutronGet<{ ports: NeutronPort[] }>(`/ports?fixed_ips=ip_address%3D${nic.ip}&device_owner=kuryr%3Acontainer`);
      assert.equal(ports.length, 1, `one port holds ${nic.ip}`);
      assert.equal(ports[0]?.mac_address, nic.mac);
      assert.equal(ports[0]?.status, 'ACTIVE');
      assert.notEqual(ports[0]?.['binding:host_id'], '');
    }
    await dockerOk('exec', 'swarm-c1', 'ping', '-c', '2', '-W', '2', nics[1]?.ip ?? '');
  });

  it('deletes everything on network rm', async () => {
    for (const name of CONTAINERS) await dockerOk('rm', '-f', name);
    // The swarm removes its attachments a moment after the containers.
    await eventually('the network to be removable', async () => ((await docker('network', 'rm', NETWORK)).code === 0 ? true : undefined), 60_000);

    const networks = await eventually('the swarm network to leave Neutron', async () => {
      const found = await swarmNetworks();
      return found.length === 0 ? found : undefined;
    });
    assert.deepEqual(networks, []);
    const { subnetpools } = await neutronGet<{ subnetpools: unknown[] }>(`/subnetpools?name=kuryrPool-${encodeURIComponent(CIDR)}`);
    assert.equal(subnetpools.length, 0);
    const { ports } = await neutronGet<{ ports: unknown[] }>('/ports?name=kuryr-swarm-reserved');
    assert.equal(ports.length, 0);
  });
});
