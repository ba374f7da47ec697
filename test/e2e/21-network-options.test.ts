/**
 * Network and endpoint options on the lab: --aux-address, several --subnet
 * per family, --internal, --ip with adoption of an operator's free port, and
 * --mac-address.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { docker, dockerOk, neutronGet, neutronSend, type NeutronPort } from '../support/lab.js';
import {
  assertNetworkGone,
  containerAddresses,
  createKuryrNetwork,
  docker2010,
  neutronNetwork,
  portWithAddresses,
  removeContainersAndNetworks,
} from '../support/kuryr-network.js';

const CONTAINERS = ['kuryr-e2e-c-aux', 'kuryr-e2e-c-onaux', 'kuryr-e2e-c-int', 'kuryr-e2e-c-ip', 'kuryr-e2e-c-adopt', 'kuryr-e2e-c-held', 'kuryr-e2e-c-mac'];
const NETWORKS = ['kuryr-e2e-aux', 'kuryr-e2e-int', 'kuryr-e2e-ip'];
const OPERATOR_MAC = 'fa:16:3e:62:00:99';

type OperatorPort = NeutronPort & { name: string; device_id: string };

async function createOperatorPort(neutronNetworkId: string, ip: string, extra: Record<string, string> = {}): Promise<OperatorPort> {
  const reply = await neutronSend<{ port: OperatorPort }>('POST', '/ports', {
    port: { network_id: neutronNetworkId, name: 'operator-reserved', mac_address: OPERATOR_MAC, fixed_ips: [{ ip_address: ip }], ...extra },
  });
  assert.ok(reply !== undefined);
  return reply.port;
}

async function getPort(portId: string): Promise<OperatorPort> {
  return (await neutronGet<{ port: OperatorPort }>(`/ports/${portId}`)).port;
}

describe('network options', () => {
  const cleanup = async (): Promise<void> => {
    await removeContainersAndNetworks(CONTAINERS, []);
    const { ports } = await neutronGet<{ ports: Array<{ id: string }> }>('/ports?name=operator-reserved&fields=id');
    for (const port of ports) await neutronSend('DELETE', `/ports/${port.id}`);
    await removeContainersAndNetworks([], NETWORKS);
  };
  before(cleanup);
  after(cleanup);

  it('reserves aux addresses on several subnets', async () => {
    const networkId = await createKuryrNetwork(
      'kuryr-e2e-aux',
      '--subnet', '10.64.0.0/24', '--gateway', '10.64.0.1', '--aux-address', 'router=10.64.0.2', '--aux-address', 'dns=10.64.0.3',
      '--subnet', '10.64.1.0/24',
    );
    const state = await neutronNetwork(networkId);
    assert.deepEqual(state.subnets.map((subnet) => subnet.cidr).sort(), ['10.64.0.0/24', '10.64.1.0/24']);
    const first = state.subnets.find((subnet) => subnet.cidr === '10.64.0.0/24');
    assert.equal(first?.gateway_ip, '10.64.0.1', 'dockerd sends the gateway in CIDR form, and Neutron stores the address');
    assert.deepEqual(first?.allocation_pools, [{ start: '10.64.0.4', end: '10.64.0.254' }], 'aux addresses are outside the allocation pool');

    await dockerOk('run', '-itd', '--net', 'kuryr-e2e-aux', '--name', 'kuryr-e2e-c-aux', 'busybox');
    const nic = await containerAddresses('kuryr-e2e-c-aux');
    await portWithAddresses(state.id, nic.ipv4);
    assert.ok(!['10.64.0.2', '10.64.0.3'].includes(nic.ipv4[0] ?? ''));
    const onAux = await docker('run', '-d', '--net', 'kuryr-e2e-aux', '--ip', '10.64.0.2', '--name', 'kuryr-e2e-c-onaux', 'busybox');
    assert.notEqual(onAux.code, 0);
    assert.match(onAux.stderr, /address "10\.64\.0\.2" is reserved by --aux-address/);

    await removeContainersAndNetworks(['kuryr-e2e-c-aux', 'kuryr-e2e-c-onaux'], ['kuryr-e2e-aux']);
    await assertNetworkGone(state.id, ['10.64.0.0/24', '10.64.1.0/24']);
  });

  it('gives an --internal network no default route', async () => {
    const networkId = await createKuryrNetwork('kuryr-e2e-int', '--internal', '--subnet', '10.65.0.0/24');
    const state = await neutronNetwork(networkId);
    assert.ok(state.tags.includes('kuryr.net.internal'), `tags: ${state.tags.join(', ')}`);

    await dockerOk('run', '-itd', '--net', 'kuryr-e2e-int', '--name', 'kuryr-e2e-c-int', 'busybox');
    const nic = await containerAddresses('kuryr-e2e-c-int');
    await portWithAddresses(state.id, nic.ipv4);
    assert.deepEqual(nic.defaultRoutes, []);

    await removeContainersAndNetworks(['kuryr-e2e-c-int'], ['kuryr-e2e-int']);
    await assertNetworkGone(state.id, ['10.65.0.0/24']);
  });

  it('honours --ip, --mac-address and free operator ports', async () => {
    const networkId = await createKuryrNetwork('kuryr-e2e-ip', '--subnet', '10.66.0.0/24');
    const state = await neutronNetwork(networkId);

    await dockerOk('run', '-itd', '--net', 'kuryr-e2e-ip', '--ip', '10.66.0.50', '--name', 'kuryr-e2e-c-ip', 'busybox');
    const fixed = await containerAddresses('kuryr-e2e-c-ip');
    assert.deepEqual(fixed.ipv4, ['10.66.0.50']);
    await portWithAddresses(state.id, ['10.66.0.50']);

    const mac = await docker2010('run', '-itd', '--net', 'kuryr-e2e-ip', '--mac-address', '02:62:00:00:00:07', '--name', 'kuryr-e2e-c-mac', 'busybox');
    assert.equal(mac.code, 0, mac.stderr);
    const macNic = await containerAddresses('kuryr-e2e-c-mac');
    assert.equal(macNic.mac, '02:62:00:00:00:07');
    assert.equal((await portWithAddresses(state.id, macNic.ipv4)).mac_address, '02:62:00:00:00:07');

    const operator = await createOperatorPort(state.id, '10.66.0.60');
    await dockerOk('run', '-itd', '--net', 'kuryr-e2e-ip', '--ip', '10.66.0.60', '--name', 'kuryr-e2e-c-adopt', 'busybox');
    const adoptedNic = await containerAddresses('kuryr-e2e-c-adopt');
    const adopted = await getPort(operator.id);
    assert.deepEqual(adoptedNic.ipv4, ['10.66.0.60']);
    assert.equal(adopted.mac_address, adoptedNic.mac);
    assert.equal(adopted['binding:host_id'], hostname());
    assert.equal(adopted.status, 'ACTIVE');
    assert.ok(adopted.tags.includes('kuryr.port.existing'), `tags: ${adopted.tags.join(', ')}`);

    await removeContainersAndNetworks(['kuryr-e2e-c-adopt'], []);
    const handedBack = await getPort(operator.id);
    assert.equal(handedBack.mac_address, OPERATOR_MAC);
    assert.equal(handedBack['binding:host_id'], '');
    assert.equal(handedBack.device_owner, '');
    assert.equal(handedBack.name, 'operator-reserved');
    assert.deepEqual(handedBack.tags, []);
    assert.deepEqual(handedBack.fixed_ips.map((fixedIp) => fixedIp.ip_address), ['10.66.0.60']);

    await neutronSend('PUT', `/ports/${operator.id}`, { port: { device_owner: 'compute:nova', device_id: 'vm-kuryr-e2e' } });
    const rejected = await docker('run', '-d', '--net', 'kuryr-e2e-ip', '--ip', '10.66.0.60', '--name', 'kuryr-e2e-c-held', 'busybox');
    assert.notEqual(rejected.code, 0);
    assert.match(rejected.stderr, /address "10\.66\.0\.60" is held by port ".+" \(device_owner "compute:nova", device_id "vm-kuryr-e2e", unbound\)/);
    await neutronSend('DELETE', `/ports/${operator.id}`);

    await removeContainersAndNetworks(['kuryr-e2e-c-held', 'kuryr-e2e-c-ip', 'kuryr-e2e-c-mac'], ['kuryr-e2e-ip']);
    await assertNetworkGone(state.id, ['10.66.0.0/24']);
  });
});
