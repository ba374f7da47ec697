/**
 * Pools and addresses on the lab: networks without --subnet carved from the
 * default pools, Neutron's default gateway, and IPv4, IPv6 and dual-stack
 * containers whose addresses all sit on one Neutron port.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dockerOk, eventually, neutronGet } from '../support/lab.js';
import {
  assertNetworkGone,
  containerAddresses,
  createKuryrNetwork,
  neutronNetwork,
  portWithAddresses,
  removeContainersAndNetworks,
} from '../support/kuryr-network.js';

const AUTO_NETWORKS = ['kuryr-e2e-auto1', 'kuryr-e2e-auto2', 'kuryr-e2e-auto3'];
const CONTAINERS = ['kuryr-e2e-c-auto1', 'kuryr-e2e-c-auto2', 'kuryr-e2e-c-auto3', 'kuryr-e2e-c-nogw', 'kuryr-e2e-c-v6', 'kuryr-e2e-c-v6auto', 'kuryr-e2e-c-ds', 'kuryr-e2e-c-ds-ip'];
const NETWORKS = [...AUTO_NETWORKS, 'kuryr-e2e-nogw', 'kuryr-e2e-v6', 'kuryr-e2e-v6auto', 'kuryr-e2e-ds'];

async function defaultPoolId(name: string): Promise<string> {
  const { subnetpools } = await neutronGet<{ subnetpools: Array<{ id: string }> }>(`/subnetpools?name=${name}`);
  assert.equal(subnetpools.length, 1, `the lab needs one default subnet pool named ${name}`);
  return subnetpools[0]?.id ?? '';
}

describe('pools and addresses', () => {
  const cleanup = (): Promise<void> => removeContainersAndNetworks(CONTAINERS, NETWORKS);
  before(cleanup);
  after(cleanup);

  it('runs three networks without --subnet at once', async () => {
    const poolId = await defaultPoolId('kuryr');
    const networkIds = await Promise.all(AUTO_NETWORKS.map((name) => createKuryrNetwork(name)));
    const states = await Promise.all(networkIds.map((id) => neutronNetwork(id)));
    const cidrs = states.map((state) => state.subnets[0]?.cidr ?? '');
    assert.equal(new Set(cidrs).size, 3, `each network gets its own subnet: ${cidrs.join(', ')}`);
    for (const state of states) {
      assert.equal(state.subnets.length, 1);
      assert.equal(state.subnets[0]?.subnetpool_id, poolId);
      assert.match(state.subnets[0]?.cidr ?? '', /^10\.10\.\d+\.0\/24$/, 'the default pool kuryr carves /24s');
    }

    for (const [index, name] of AUTO_NETWORKS.entries()) {
      await dockerOk('run', '-itd', '--net', name, '--name', CONTAINERS[index] ?? '', 'busybox');
    }
    for (const [index, state] of states.entries()) {
      const nic = await containerAddresses(CONTAINERS[index] ?? '');
      assert.equal(nic.ipv4.length, 1);
      const port = await portWithAddresses(state.id, nic.ipv4);
      assert.equal(port.mac_address, nic.mac);
      assert.ok(nic.defaultRoutes.includes(`default via ${state.subnets[0]?.gateway_ip ?? ''} dev eth0`), nic.defaultRoutes.join('; '));
    }

    await removeContainersAndNetworks(CONTAINERS.slice(0, 3), AUTO_NETWORKS);
    for (const state of states) await assertNetworkGone(state.id, []);
  });

  it('uses Neutron default gateway without --gateway', async () => {
    const networkId = await createKuryrNetwork('kuryr-e2e-nogw', '--subnet', '10.63.0.0/24');
    // dockerd keeps the gateway RequestAddress returned out of `inspect` when
    // --gateway was not given, so the container's default route shows it.
    const state = await neutronNetwork(networkId);
    assert.equal(state.subnets[0]?.gateway_ip, '10.63.0.1');

    await dockerOk('run', '-itd', '--net', 'kuryr-e2e-nogw', '--name', 'kuryr-e2e-c-nogw', 'busybox');
    const nic = await containerAddresses('kuryr-e2e-c-nogw');
    await portWithAddresses(state.id, nic.ipv4);
    assert.ok(nic.defaultRoutes.includes('default via 10.63.0.1 dev eth0'), nic.defaultRoutes.join('; '));

    await removeContainersAndNetworks(['kuryr-e2e-c-nogw'], ['kuryr-e2e-nogw']);
    await assertNetworkGone(state.id, ['10.63.0.0/24']);
  });

  it('gives an IPv6 --subnet network v6 addresses', async () => {
    const networkId = await createKuryrNetwork('kuryr-e2e-v6', '--ipv6', '--subnet', 'fd62:0:0:2::/64');
    const state = await neutronNetwork(networkId);
    const v6 = state.subnets.find((subnet) => subnet.ip_version === 6);
    assert.equal(v6?.cidr, 'fd62:0:0:2::/64');
    assert.equal(v6?.gateway_ip, 'fd62:0:0:2::1');

    await dockerOk('run', '-itd', '--net', 'kuryr-e2e-v6', '--name', 'kuryr-e2e-c-v6', 'busybox');
    const nic = await containerAddresses('kuryr-e2e-c-v6');
    assert.equal(nic.ipv6.length, 1);
    const port = await portWithAddresses(state.id, [...nic.ipv4, ...nic.ipv6]);
    assert.equal(port.fixed_ips.length, state.subnets.length, 'one port carries the address of every subnet');
    assert.ok(port.tags.includes('compute:kuryr'));
    assert.ok(nic.defaultRoutes.some((route) => route.startsWith('default via fd62:0:0:2::1 dev eth0')), nic.defaultRoutes.join('; '));

    await removeContainersAndNetworks(['kuryr-e2e-c-v6'], ['kuryr-e2e-v6']);
    await assertNetworkGone(state.id, ['fd62:0:0:2::/64']);
  });

  it('carves an IPv6 subnet from kuryr6 without --subnet', async () => {
    const pool6 = await defaultPoolId('kuryr6');
    const networkId = await createKuryrNetwork('kuryr-e2e-v6auto', '--ipv6');
    const state = await neutronNetwork(networkId);
    const v6 = state.subnets.find((subnet) => subnet.ip_version === 6);
    assert.equal(v6?.subnetpool_id, pool6);
    assert.match(v6?.cidr ?? '', /\/64$/);

    await dockerOk('run', '-itd', '--net', 'kuryr-e2e-v6auto', '--name', 'kuryr-e2e-c-v6auto', 'busybox');
    const nic = await containerAddresses('kuryr-e2e-c-v6auto');
    assert.equal(nic.ipv4.length, 1);
    assert.equal(nic.ipv6.length, 1);
    await portWithAddresses(state.id, [...nic.ipv4, ...nic.ipv6]);

    await removeContainersAndNetworks(['kuryr-e2e-c-v6auto'], ['kuryr-e2e-v6auto']);
    await assertNetworkGone(state.id, []);
  });

  it('puts both dual-stack addresses on one port', async () => {
    const networkId = await createKuryrNetwork(
      'kuryr-e2e-ds', '--ipv6', '--subnet', '10.62.1.0/24', '--gateway', '10.62.1.1', '--subnet', 'fd62:0:0:1::/64', '--gateway', 'fd62:0:0:1::1',
    );
    const state = await neutronNetwork(networkId);
    assert.equal(state.subnets.length, 2);

    await dockerOk('run', '-itd', '--net', 'kuryr-e2e-ds', '--name', 'kuryr-e2e-c-ds', 'busybox');
    const nic = await containerAddresses('kuryr-e2e-c-ds');
    assert.equal(nic.ipv4.length, 1);
    assert.equal(nic.ipv6.length, 1);
    const port = await portWithAddresses(state.id, [...nic.ipv4, ...nic.ipv6]);
    assert.equal(port.mac_address, nic.mac);
    assert.equal(port.status, 'ACTIVE');
    assert.ok(nic.defaultRoutes.includes('default via 10.62.1.1 dev eth0'), nic.defaultRoutes.join('; '));
    assert.ok(nic.defaultRoutes.some((route) => route.startsWith('default via fd62:0:0:1::1 dev eth0')), nic.defaultRoutes.join('; '));

    await dockerOk('run', '-itd', '--net', 'kuryr-e2e-ds', '--ip', '10.62.1.77', '--ip6', 'fd62:0:0:1::77', '--name', 'kuryr-e2e-c-ds-ip', 'busybox');
    const fixed = await containerAddresses('kuryr-e2e-c-ds-ip');
    assert.deepEqual(fixed.ipv4, ['10.62.1.77']);
    assert.deepEqual(fixed.ipv6, ['fd62:0:0:1::77']);
    assert.equal((await portWithAddresses(state.id, ['10.62.1.77', 'fd62:0:0:1::77'])).mac_address, fixed.mac);

    await removeContainersAndNetworks(['kuryr-e2e-c-ds', 'kuryr-e2e-c-ds-ip'], []);
    // kuryr deletes released ports in the background, a moment after `docker rm` returns.
    const ports = await eventually('the dual-stack port to be deleted', async () => {
      const { ports: left } = await neutronGet<{ ports: unknown[] }>(`/ports?network_id=${state.id}&device_owner=kuryr%3Acontainer`);
      return left.length === 0 ? left : undefined;
    }, 15_000);
    assert.equal(ports.length, 0, 'the port goes with its last address');
    await removeContainersAndNetworks([], ['kuryr-e2e-ds']);
    await assertNetworkGone(state.id, ['10.62.1.0/24', 'fd62:0:0:1::/64']);
  });
});
