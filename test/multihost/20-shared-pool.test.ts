/**
 * A CIDR that comes back to a shared subnet pool: host 1 creates a network
 * carved from an operator's pool, host 2 removes it and creates a new one,
 * which gets the same CIDR. Host 1's daemon never saw the removal, yet its
 * containers must land on the new network's subnet, and once that network
 * is gone too, host 1 must carve the CIDR again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, neutronGet, neutronSend, type NeutronPort } from '../support/lab.js';
import { assertHostsUp, HOSTS, hostDocker, hostDockerOk, type Host } from '../support/multihost.js';

const POOL_NAME = 'mh-shared-pool';
const POOL_PREFIX = '10.84.0.0/16';
const FIRST = 'mh-carved-1';
const SECOND = 'mh-carved-2';
const THIRD = 'mh-carved-3';
const CONTAINERS = { one: 'mh-p1', two: 'mh-p2' };

function createCarved(host: Host, name: string): Promise<string> {
  return hostDockerOk(host, 'network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--ipam-opt', `neutron.pool.name=${POOL_NAME}`, name);
}

async function subnetOf(host: Host, network: string): Promise<string> {
  return hostDockerOk(host, 'network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', network);
}

async function poolIds(): Promise<string[]> {
  const { subnetpools } = await neutronGet<{ subnetpools: Array<{ id: string }> }>(`/subnetpools?name=${POOL_NAME}&fields=id`);
  return subnetpools.map((pool) => pool.id);
}

async function removeLeftovers(): Promise<void> {
  await hostDocker(HOSTS.one, 'rm', '-f', CONTAINERS.one);
  await hostDocker(HOSTS.two, 'rm', '-f', CONTAINERS.two);
  for (const name of [FIRST, SECOND, THIRD]) await hostDocker(HOSTS.two, 'network', 'rm', name);
  // The pool can be deleted once the subnets carved from it are gone.
  for (const id of await poolIds()) {
    await eventually(`subnet pool ${id} to be deleted`, async () => {
      try {
        await neutronSend('DELETE', `/subnetpools/${id}`);
        return true;
      } catch {
        return undefined;
      }
    });
  }
}

describe('a CIDR reused across hosts', () => {
  before(async () => {
    await assertHostsUp();
    await removeLeftovers();
    await neutronSend('POST', '/subnetpools', { subnetpool: { name: POOL_NAME, prefixes: [POOL_PREFIX], default_prefixlen: 24, shared: true } });
  });

  after(removeLeftovers);

  it('reaches the new subnet from the host that made the old one', async () => {
    await createCarved(HOSTS.one, FIRST);
    const firstSubnet = await subnetOf(HOSTS.one, FIRST);
    await hostDockerOk(HOSTS.two, 'network', 'rm', FIRST);

    await createCarved(HOSTS.two, SECOND);
    assert.equal(await subnetOf(HOSTS.two, SECOND), firstSubnet, 'the second network gets the same CIDR');

    await hostDockerOk(HOSTS.one, 'run', '-d', '--net', SECOND, '--name', CONTAINERS.one, 'busybox', 'sleep', '600');
    await hostDockerOk(HOSTS.two, 'run', '-d', '--net', SECOND, '--name', CONTAINERS.two, 'busybox', 'sleep', '600');
    const ipOne = await hostDockerOk(HOSTS.one, 'inspect', '-f', `{{(index .NetworkSettings.Networks "${SECOND}").IPAddress}}`, CONTAINERS.one);
    const { ports } = await neutronGet<{ ports: NeutronPort[] }>(`/ports?binding%3Ahost_id=${HOSTS.one.name}`);
    assert.equal(ports.length, 1, 'one port bound to host 1');
    assert.equal(ports[0]?.fixed_ips[0]?.ip_address, ipOne);
    await eventually(
      `${CONTAINERS.two} to reach ${ipOne}`,
      async () => ((await hostDocker(HOSTS.two, 'exec', CONTAINERS.two, 'ping', '-c', '1', '-W', '1', ipOne)).code === 0 ? true : undefined),
      20_000,
    );
  });

  it('carves the returned CIDR again on host 1', async () => {
    const firstSubnet = await subnetOf(HOSTS.two, SECOND);
    await hostDockerOk(HOSTS.one, 'rm', '-f', CONTAINERS.one);
    await hostDockerOk(HOSTS.two, 'rm', '-f', CONTAINERS.two);
    await hostDockerOk(HOSTS.two, 'network', 'rm', SECOND);

    await createCarved(HOSTS.one, THIRD);
    assert.equal(await subnetOf(HOSTS.one, THIRD), firstSubnet);
  });
});
