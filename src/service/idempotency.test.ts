/**
 * Verbs re-sent after they succeeded, against a fake Neutron that expects
 * exact calls. Each re-send goes to a fresh context, as after a daemon
 * restart, so nothing is served from the caches: the verb must find what
 * its first run made, by tags or names, and create nothing twice.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeTransport, networkFixture, neutronFault, portFixture, subnetFixture, subnetPoolFixture } from '../neutron/test-support.js';
import type { ExpectedCall } from '../neutron/test-support.js';
import { createDriverService } from './index.js';
import { newTestContext, RecordingBinder } from './test-support.js';

const NETWORK_ID = '5f0e8d7c6b5a49382716f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0';
const ENDPOINT_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
const POOL_UUID = '6c1d2e3f-aaaa-4b5c-8d9e-0f1a2b3c4d5e';
const NET_UUID = '7d2e3f40-bbbb-4c5d-9e0f-1a2b3c4d5e6f';
const SUBNET_UUID = '8e3f4051-cccc-4d5e-af10-2b3c4d5e6f70';
const PORT_UUID = '9f405162-dddd-4e6f-b021-3c4d5e6f7081';
const MAC = '02:42:0a:4d:00:05';
const IP = '10.77.0.5';
const NETWORK_TAGS = `kuryr.net.uuid.lh%3A${NETWORK_ID.slice(0, 32)},kuryr.net.uuid.uh%3A${NETWORK_ID.slice(32)}`;
const ENDPOINT_TAGS = `kuryr.net.uuid.lh%3A${ENDPOINT_ID.slice(0, 32)},kuryr.net.uuid.uh%3A${ENDPOINT_ID.slice(32)}`;

const pool = subnetPoolFixture({ id: POOL_UUID, name: 'kuryrPool-10.77.0.0/24', prefixes: ['10.77.0.0/24'], default_prefixlen: 24 });
const network = networkFixture({ id: NET_UUID, name: `kuryr-net-${NETWORK_ID.slice(0, 8)}`, tags: [`kuryr.net.uuid.lh:${NETWORK_ID.slice(0, 32)}`, `kuryr.net.uuid.uh:${NETWORK_ID.slice(32)}`], subnets: [SUBNET_UUID] });
const subnet = subnetFixture({ id: SUBNET_UUID, name: 'kuryr-subnet-10.77.0.0/24', network_id: NET_UUID, cidr: '10.77.0.0/24', gateway_ip: '10.77.0.1', subnetpool_id: POOL_UUID });
const addressPort = portFixture({ id: PORT_UUID, network_id: NET_UUID, mac_address: MAC, device_id: '', 'binding:host_id': 'docker-host-1', fixed_ips: [{ subnet_id: SUBNET_UUID, ip_address: IP }], tags: [] });
const endpointPort = { ...addressPort, tags: ['compute:kuryr', `kuryr.net.uuid.lh:${ENDPOINT_ID.slice(0, 32)}`, `kuryr.net.uuid.uh:${ENDPOINT_ID.slice(32)}`] };

const findNetwork: ExpectedCall[] = [
  { method: 'GET', path: `/v2.0/networks?tags=${NETWORK_TAGS}`, reply: { body: { networks: [network] } } },
  { method: 'GET', path: `/v2.0/subnets?network_id=${NET_UUID}`, reply: { body: { subnets: [subnet] } } },
];
const findPool: ExpectedCall[] = [
  { method: 'GET', path: `/v2.0/subnetpools/${POOL_UUID}`, reply: { body: { subnetpool: pool } } },
  { method: 'GET', path: `/v2.0/subnets?subnetpool_id=${POOL_UUID}&cidr=10.77.0.0%2F24`, reply: { body: { subnets: [subnet] } } },
];

/** Returns a driver service on a fresh context, as after a restart, and its transport. */
function restarted(expected: ExpectedCall[]) {
  const transport = new FakeTransport(expected);
  const binder = new RecordingBinder();
  const service = createDriverService(newTestContext(transport, { binder }));
  return { transport, binder, service };
}

function posts(transport: FakeTransport): string[] {
  return transport.calls.filter((call) => call.method === 'POST').map((call) => new URL(call.url).pathname);
}

describe('verbs re-sent after a restart', () => {
  it('RequestPool finds its pool', async () => {
    const { transport, service } = restarted([{ method: 'GET', path: '/v2.0/subnetpools?name=kuryrPool-10.77.0.0%2F24', reply: { body: { subnetpools: [pool] } } }]);

    const reply = await service.requestPool({ AddressSpace: '', Pool: '10.77.0.0/24', SubPool: '', Options: {}, V6: false });

    assert.deepEqual(reply, { PoolID: POOL_UUID, Pool: '10.77.0.0/24', Data: {} });
    assert.deepEqual(posts(transport), []);
    transport.assertDone();
  });

  it('CreateNetwork finds its network', async () => {
    const { transport, service } = restarted(findNetwork);

    await service.createNetwork({
      NetworkID: NETWORK_ID,
      Options: {},
      IPv4Data: [{ AddressSpace: '', Pool: '10.77.0.0/24', Gateway: '10.77.0.1/24', AuxAddresses: {} }],
      IPv6Data: [],
    });

    assert.deepEqual(posts(transport), []);
    transport.assertDone();
  });

  it('RequestAddress reuses its unclaimed port', async () => {
    const { transport, service } = restarted([
      ...findPool,
      { method: 'POST', path: '/v2.0/ports', reply: neutronFault(409, 'MacAddressInUse', `Unable to complete operation for network ${NET_UUID}. The mac address ${MAC} is in use`) },
      {
        method: 'GET',
        path: `/v2.0/ports?network_id=${NET_UUID}&device_owner=kuryr%3Acontainer&mac_address=${encodeURIComponent(MAC)}`,
        reply: { body: { ports: [addressPort] } },
      },
    ]);

    const reply = await service.requestAddress({ PoolID: POOL_UUID, Address: '', Options: { 'com.docker.network.endpoint.macaddress': MAC } });

    assert.deepEqual(reply, { Address: `${IP}/24`, Data: {} });
    assert.deepEqual(posts(transport), ['/v2.0/ports'], 'the one create Neutron rejected');
    transport.assertDone();
  });

  it('RequestAddress rejects a MAC another endpoint holds', async () => {
    const { transport, service } = restarted([
      ...findPool,
      { method: 'POST', path: '/v2.0/ports', reply: neutronFault(409, 'MacAddressInUse', 'The mac address is in use') },
      {
        method: 'GET',
        path: `/v2.0/ports?network_id=${NET_UUID}&device_owner=kuryr%3Acontainer&mac_address=${encodeURIComponent(MAC)}`,
        reply: { body: { ports: [endpointPort] } },
      },
    ]);

    await assert.rejects(
      service.requestAddress({ PoolID: POOL_UUID, Address: '', Options: { 'com.docker.network.endpoint.macaddress': MAC } }),
      /MAC address "02:42:0a:4d:00:05" is already in use on Neutron network/,
    );
    transport.assertDone();
  });

  it('CreateEndpoint claims the same port', async () => {
    const { transport, binder, service } = restarted([
      ...findNetwork,
      { method: 'GET', path: `/v2.0/ports?network_id=${NET_UUID}&fixed_ips=ip_address%3D${IP}`, reply: { body: { ports: [endpointPort] } } },
      { method: 'PUT', path: `/v2.0/ports/${PORT_UUID}/tags`, reply: { body: { tags: endpointPort.tags } } },
    ]);

    await service.createEndpoint({ NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID, Interface: { Address: `${IP}/24`, AddressIPv6: '', MacAddress: MAC }, Options: {} });

    assert.deepEqual(binder.calls, [`bind ${PORT_UUID}`]);
    assert.deepEqual(posts(transport), []);
    transport.assertDone();
  });

  it('Join finds the port by its tags', async () => {
    const { transport, service } = restarted([{ method: 'GET', path: `/v2.0/ports?tags=${ENDPOINT_TAGS}`, reply: { body: { ports: [endpointPort] } } }, ...findNetwork]);

    const reply = await service.join({ NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID, SandboxKey: '/run/docker/netns/x', Options: {} });

    assert.equal(reply.InterfaceName.SrcName, `t_c${PORT_UUID.slice(0, 11)}`);
    assert.equal(reply.Gateway, '10.77.0.1');
    transport.assertDone();
  });

  it('DeleteEndpoint unbinds the port again', async () => {
    const { transport, binder, service } = restarted([{ method: 'GET', path: `/v2.0/ports?tags=${ENDPOINT_TAGS}`, reply: { body: { ports: [endpointPort] } } }, ...findNetwork]);

    await service.deleteEndpoint({ NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID });

    assert.deepEqual(binder.calls, [`unbind ${PORT_UUID}`]);
    transport.assertDone();
  });

  it('DeleteEndpoint succeeds once the port is gone', async () => {
    const { transport, binder, service } = restarted([{ method: 'GET', path: `/v2.0/ports?tags=${ENDPOINT_TAGS}`, reply: { body: { ports: [] } } }]);

    await service.deleteEndpoint({ NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID });

    assert.deepEqual(binder.calls, []);
    transport.assertDone();
  });

  it('ReleaseAddress succeeds once the port is gone', async () => {
    const { transport, service } = restarted([
      ...findPool,
      { method: 'GET', path: `/v2.0/ports?fixed_ips=subnet_id%3D${SUBNET_UUID}&fixed_ips=ip_address%3D${IP}`, reply: { body: { ports: [] } } },
    ]);

    await service.releaseAddress({ PoolID: POOL_UUID, Address: IP });

    assert.equal(transport.calls.filter((call) => call.method === 'DELETE').length, 0);
    transport.assertDone();
  });

  it('DeleteNetwork succeeds once the network is gone', async () => {
    const { transport, service } = restarted([{ method: 'GET', path: `/v2.0/networks?tags=${NETWORK_TAGS}`, reply: { body: { networks: [] } } }]);

    await service.deleteNetwork({ NetworkID: NETWORK_ID });

    transport.assertDone();
  });
});
