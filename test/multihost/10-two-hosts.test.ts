/**
 * One kuryr network across two Docker hosts (lab/multihost.sh up). A global
 * network created on host 1 appears on host 2 through the dockerds' shared
 * cluster store. A container on each host gets a port bound to its own host,
 * and the two ping each other over the VXLAN underlay. Removing host 1's
 * container leaves host 2 working. `network rm` is rejected while a host
 * still has containers, and removing the network from host 2 deletes what
 * host 1's daemon created in Neutron.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dockerIdTags } from '../../src/service/naming.js';
import { command, eventually, neutronGet, type NeutronPort } from '../support/lab.js';
import { assertHostsUp, HOSTS, hostDocker, hostDockerOk, type Host } from '../support/multihost.js';

const NETWORK = 'mh-global';
const SUBNET = '10.82.0.0/24';
const GATEWAY = '10.82.0.1';
const ON_ONE = 'mh-a';
const ON_TWO = ['mh-b', 'mh-c'];

async function containerIp(host: Host, container: string): Promise<string> {
  return hostDockerOk(host, 'inspect', '-f', `{{(index .NetworkSettings.Networks "${NETWORK}").IPAddress}}`, container);
}

/** Pings until one reply comes back: l2population programs the VXLAN entries shortly after the port goes ACTIVE. */
async function assertPings(host: Host, container: string, address: string): Promise<void> {
  await eventually(
    `${container} on ${host.name} to reach ${address}`,
    async () => ((await hostDocker(host, 'exec', container, 'ping', '-c', '1', '-W', '1', address)).code === 0 ? true : undefined),
    20_000,
  );
}

async function tapNames(host: Host): Promise<string[]> {
  const output = await command(['ip', '-n', host.namespace, '-json', 'link', 'show']);
  if (output.code !== 0) throw new Error(`ip -n ${host.namespace} link show failed: ${output.stderr.trim()}`);
  return (JSON.parse(output.stdout) as Array<{ ifname: string }>).map((link) => link.ifname).filter((name) => name.startsWith('tap'));
}

async function portsOfNetwork(neutronNetworkId: string): Promise<NeutronPort[]> {
  const { ports } = await neutronGet<{ ports: NeutronPort[] }>(`/ports?network_id=${neutronNetworkId}&device_owner=kuryr%3Acontainer`);
  return ports;
}

/** Waits until no Neutron port is bound to the host: the daemon may delete ports after DeleteEndpoint returns. */
async function assertNoPortBoundTo(host: Host): Promise<void> {
  await eventually(`the ports bound to ${host.name} to be deleted`, async () => {
    const { ports } = await neutronGet<{ ports: NeutronPort[] }>(`/ports?binding%3Ahost_id=${host.name}&fields=id`);
    return ports.length === 0 ? true : undefined;
  });
}

async function neutronNetworksOf(dockerNetworkId: string): Promise<string[]> {
  const tags = dockerIdTags(dockerNetworkId).join(',');
  const { networks } = await neutronGet<{ networks: Array<{ id: string }> }>(`/networks?tags=${encodeURIComponent(tags)}`);
  return networks.map((network) => network.id);
}

async function removeLeftovers(): Promise<void> {
  await hostDocker(HOSTS.one, 'rm', '-f', ON_ONE);
  await hostDocker(HOSTS.two, 'rm', '-f', ...ON_TWO);
  await hostDocker(HOSTS.one, 'network', 'rm', NETWORK);
}

describe('one kuryr network on two hosts', () => {
  let dockerNetworkId = '';
  let neutronNetworkId = '';

  before(async () => {
    await assertHostsUp();
    await removeLeftovers();
  });

  after(removeLeftovers);

  it('shows a network created on host 1 on host 2, with global scope', async () => {
    dockerNetworkId = await hostDockerOk(HOSTS.one, 'network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--subnet', SUBNET, '--gateway', GATEWAY, NETWORK);
    for (const host of Object.values(HOSTS)) {
      const listed = await hostDockerOk(host, 'network', 'ls', '--no-trunc', '--filter', `name=^${NETWORK}$`, '--format', '{{.ID}} {{.Driver}} {{.Scope}}');
      assert.equal(listed, `${dockerNetworkId} kuryr global`, `docker network ls on ${host.name}`);
    }
    const networks = await neutronNetworksOf(dockerNetworkId);
    assert.equal(networks.length, 1, `expected one Neutron network tagged with ${dockerNetworkId}, found ${networks.length}`);
    neutronNetworkId = networks[0] ?? '';
  });

  it('binds ports to their hosts and pings', async () => {
    await hostDockerOk(HOSTS.one, 'run', '-d', '--net', NETWORK, '--name', ON_ONE, 'busybox', 'sleep', '600');
    for (const name of ON_TWO) await hostDockerOk(HOSTS.two, 'run', '-d', '--net', NETWORK, '--name', name, 'busybox', 'sleep', '600');

    const ipA = await containerIp(HOSTS.one, ON_ONE);
    const ipB = await containerIp(HOSTS.two, 'mh-b');
    const ports = await portsOfNetwork(neutronNetworkId);
    assert.equal(ports.length, 3, 'one Neutron port per container');
    const hostOf = (ip: string): string | undefined => ports.find((port) => port.fixed_ips.some((fixedIp) => fixedIp.ip_address === ip))?.['binding:host_id'];
    assert.equal(hostOf(ipA), HOSTS.one.name);
    assert.equal(hostOf(ipB), HOSTS.two.name);
    for (const port of ports) {
      assert.equal(port['binding:vif_type'], 'bridge', `port ${port.id} is bound by the linuxbridge agent`);
      assert.equal(port.status, 'ACTIVE', `port ${port.id} is ACTIVE`);
    }
    assert.equal((await tapNames(HOSTS.one)).length, 1, 'one tap on host 1');
    assert.equal((await tapNames(HOSTS.two)).length, 2, 'two taps on host 2');

    await assertPings(HOSTS.one, ON_ONE, ipB);
    await assertPings(HOSTS.two, 'mh-b', ipA);
  });

  it('keeps host 2 working after host 1 removes its container', async () => {
    const ipA = await containerIp(HOSTS.one, ON_ONE);
    await hostDockerOk(HOSTS.one, 'rm', '-f', ON_ONE);
    assert.deepEqual(await tapNames(HOSTS.one), [], 'host 1 has no tap left');
    await assertNoPortBoundTo(HOSTS.one);
    const remaining = await portsOfNetwork(neutronNetworkId);
    assert.equal(remaining.length, 2);
    assert.ok(remaining.every((port) => !port.fixed_ips.some((fixedIp) => fixedIp.ip_address === ipA)), `the port of ${ipA} is gone`);

    await assertPings(HOSTS.two, 'mh-b', await containerIp(HOSTS.two, 'mh-c'));
  });

  it('refuses to remove the network while host 2 has containers on it', async () => {
    const removal = await hostDocker(HOSTS.one, 'network', 'rm', NETWORK);
    assert.notEqual(removal.code, 0, 'network rm on host 1 fails');
    assert.match(removal.stderr, /active endpoints/);
    assert.deepEqual(await neutronNetworksOf(dockerNetworkId), [neutronNetworkId], 'the Neutron network stays');
  });

  it('removes everything in Neutron when host 2 removes the network', async () => {
    await hostDockerOk(HOSTS.two, 'rm', '-f', ...ON_TWO);
    await hostDockerOk(HOSTS.two, 'network', 'rm', NETWORK);
    for (const host of Object.values(HOSTS)) {
      const listed = await hostDockerOk(host, 'network', 'ls', '--filter', `name=^${NETWORK}$`, '--format', '{{.ID}}');
      assert.equal(listed, '', `${NETWORK} is gone from ${host.name}`);
      assert.deepEqual(await tapNames(host), [], `no tap left on ${host.name}`);
      await assertNoPortBoundTo(host);
    }
    assert.deepEqual(await neutronNetworksOf(dockerNetworkId), [], 'the Neutron network is deleted');
    const { subnets } = await neutronGet<{ subnets: unknown[] }>(`/subnets?cidr=${encodeURIComponent(SUBNET)}`);
    assert.deepEqual(subnets, [], `no subnet with ${SUBNET} is left`);
    const { subnetpools } = await neutronGet<{ subnetpools: unknown[] }>(`/subnetpools?name=${encodeURIComponent(`kuryrPool-${SUBNET}`)}`);
    assert.deepEqual(subnetpools, [], 'the kuryr subnet pool is deleted');
  });
});
