/**
 * Container lifecycle on a kuryr network: connect and disconnect, stop,
 * start and restart, and a kuryr daemon restart while containers run. Every
 * step checks that the container's eth has its Neutron port's address and
 * that removal leaves no port or tap device behind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { command, docker, dockerOk, eventually, labLinkNames, neutronGet, type NeutronPort } from '../support/lab.js';

const NETWORK = 'kuryr-e2e-lifecycle';
const SUBNET = '10.70.0.0/24';
const CONTAINERS = ['kuryr-e2e-life-a', 'kuryr-e2e-life-b'];

async function kuryrPortsOn(subnetCidr: string): Promise<NeutronPort[]> {
  const { subnets } = await neutronGet<{ subnets: Array<{ id: string }> }>(`/subnets?cidr=${encodeURIComponent(subnetCidr)}&name=${encodeURIComponent(`kuryr-subnet-${subnetCidr}`)}`);
  const subnet = subnets[0];
  if (subnet === undefined) return [];
  const { ports } = await neutronGet<{ ports: NeutronPort[] }>(`/ports?fixed_ips=subnet_id%3D${subnet.id}`);
  return ports;
}

async function addressOf(container: string, ifName: string): Promise<string> {
  const output = await dockerOk('exec', container, 'ip', '-o', '-4', 'addr', 'show', ifName);
  const match = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(output);
  assert.ok(match, `no IPv4 address on ${ifName} in ${container}: ${output}`);
  return match[1] ?? '';
}

async function assertActivePortFor(ip: string): Promise<void> {
  const ports = await kuryrPortsOn(SUBNET);
  const port = ports.find((candidate) => candidate.fixed_ips.some((fixedIp) => fixedIp.ip_address === ip));
  assert.ok(port, `no Neutron port holds ${ip}`);
  assert.equal(port.status, 'ACTIVE');
}

async function removeAll(): Promise<void> {
  for (const name of CONTAINERS) await docker('rm', '-f', name);
  await docker('network', 'rm', NETWORK);
}

describe('container lifecycle', () => {
  before(async () => {
    await removeAll();
    await dockerOk('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--subnet', SUBNET, NETWORK);
  });
  after(removeAll);

  it('connects and disconnects a running container', async () => {
    const [name] = CONTAINERS as [string];
    await dockerOk('run', '-d', '--name', name, 'busybox', 'sleep', '600');
    await dockerOk('network', 'connect', NETWORK, name);
    const ip = await addressOf(name, 'eth1');
    await assertActivePortFor(ip);
    const [port] = await kuryrPortsOn(SUBNET);
    assert.ok(port);

    await dockerOk('network', 'disconnect', NETWORK, name);
    await eventually('the port to be deleted', async () => ((await kuryrPortsOn(SUBNET)).length === 0 ? true : undefined), 15_000);
    assert.ok(!(await labLinkNames()).includes(`tap${port.id.slice(0, 11)}`), 'the tap device is gone');

    await dockerOk('network', 'connect', NETWORK, name);
    await assertActivePortFor(await addressOf(name, 'eth2'));
    await dockerOk('rm', '-f', name);
  });

  it('stops, starts and restarts a container', async () => {
    const [, name] = CONTAINERS as [string, string];
    await dockerOk('run', '-d', '--net', NETWORK, '--name', name, 'busybox', 'sleep', '600');
    await assertActivePortFor(await addressOf(name, 'eth0'));

    await dockerOk('stop', '-t', '1', name);
    await eventually('the port to be released on stop', async () => ((await kuryrPortsOn(SUBNET)).length === 0 ? true : undefined), 15_000);

    await dockerOk('start', name);
    await assertActivePortFor(await addressOf(name, 'eth0'));
    await dockerOk('restart', '-t', '1', name);
    await assertActivePortFor(await addressOf(name, 'eth0'));
    const ports = await kuryrPortsOn(SUBNET);
    assert.equal(ports.length, 1, 'restart leaves exactly one port');
  });

  it('survives a kuryr restart with containers attached', async () => {
    const [, name] = CONTAINERS as [string, string];
    const restarted = await command(['bash', 'lab/kuryr.sh', 'restart']);
    assert.equal(restarted.code, 0, restarted.stderr);

    // The new daemon has empty caches: it must find the endpoint and the
    // network again through their Neutron tags.
    const [first] = CONTAINERS as [string];
    await dockerOk('run', '-d', '--net', NETWORK, '--name', first, 'busybox', 'sleep', '600');
    const ip = await addressOf(name, 'eth0');
    await dockerOk('exec', first, 'ping', '-c', '2', '-W', '2', ip);
    for (const container of CONTAINERS) await dockerOk('rm', '-f', container);
    await eventually('all ports to be deleted', async () => ((await kuryrPortsOn(SUBNET)).length === 0 ? true : undefined), 15_000);
    await dockerOk('network', 'rm', NETWORK);
    const { subnets } = await neutronGet<{ subnets: unknown[] }>(`/subnets?name=${encodeURIComponent(`kuryr-subnet-${SUBNET}`)}`);
    assert.deepEqual(subnets, []);
  });
});
