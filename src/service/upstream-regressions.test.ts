/**
 * Unit regression tests for upstream Kuryr bugs, each named by the behaviour
 * it protects, against a fake Neutron that expects exact calls.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { FakeTransport, networkFixture, neutronFault, portFixture } from '../neutron/test-support.js';
import type { DriverService } from '../protocol/index.js';
import { createDriverService, type Clock } from './index.js';
import { newTestContext, RecordingBinder } from './test-support.js';

const NETWORK_ID = '62c112064cbf927c954e5bc8fe09c168e3d3a8c09586e1aaa480bd95199eb536';
const ENDPOINT_ID = '4bb8fa2d5679855fa7d9fb0204679102ec29d7bdc0393a23aaa427c932b600e4';
const POOL_UUID = '7a1f0c1e-5d0e-4a59-9a61-1f2d3c4b5a60';
const NET_UUID = '0d9c3f4e-1111-4c2b-8e7f-2a3b4c5d6e7f';
const SUBNET_A = '5e6f7a8b-2222-4d3c-9f8e-3b4c5d6e7f80';
const SUBNET_B = '5e6f7a8b-3333-4d3c-9f8e-3b4c5d6e7f81';
const PORT_UUID = '9c8b7a6d-3333-4e4d-8a9b-4c5d6e7f8091';
const OPERATOR_NET = '11111111-2222-4333-8444-555555555555';
const NETWORK_TAGS = `kuryr.net.uuid.lh%3A${NETWORK_ID.slice(0, 32)},kuryr.net.uuid.uh%3A${NETWORK_ID.slice(32)}`;

/** A clock whose sleep advances time, so polling loops end without real waiting. */
class SteppingClock implements Clock {
  #now = 0;
  now(): number {
    return this.#now;
  }
  async sleep(ms: number): Promise<void> {
    this.#now += ms;
  }
}

function subnet(id: string, cidr: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    name: `kuryr-subnet-${cidr}`,
    network_id: NET_UUID,
    ip_version: 4,
    cidr,
    gateway_ip: cidr.replace(/0\/\d+$/, '1'),
    allocation_pools: [],
    host_routes: [],
    subnetpool_id: null,
    enable_dhcp: false,
    tags: [],
    project_id: 'p1',
    ...extra,
  };
}

describe('upstream regressions', () => {
  let transport: FakeTransport;
  let binder: RecordingBinder;
  let service: DriverService;

  beforeEach(() => {
    transport = new FakeTransport();
    binder = new RecordingBinder();
    const context = newTestContext(transport, { binder, config: { portActiveTimeoutMs: 2_000 }, clock: new SteppingClock() });
    service = createDriverService(context);
  });

  it('creates one pool for concurrent requests of one CIDR', async () => {
    let created = false;
    transport.expect(
      { method: 'GET', path: '/v2.0/subnetpools?name=kuryrPool-10.50.0.0%2F24', reply: { body: { subnetpools: [] } } },
      {
        method: 'POST',
        path: '/v2.0/subnetpools',
        reply: () => {
          created = true;
          return { status: 201, body: { subnetpool: { id: POOL_UUID, name: 'kuryrPool-10.50.0.0/24', prefixes: ['10.50.0.0/24'], default_prefixlen: 24, shared: false, tags: [], ip_version: 4, project_id: 'p1', description: '' } } };
        },
      },
      {
        method: 'GET',
        path: '/v2.0/subnetpools?name=kuryrPool-10.50.0.0%2F24',
        reply: () => {
          assert.ok(created, 'the second lookup runs after the first create');
          return { body: { subnetpools: [{ id: POOL_UUID, name: 'kuryrPool-10.50.0.0/24', prefixes: ['10.50.0.0/24'], default_prefixlen: 24, shared: false, tags: [], ip_version: 4, project_id: 'p1', description: '' }] } };
        },
      },
    );
    const request = { AddressSpace: '', Pool: '10.50.0.0/24', SubPool: '', Options: {}, V6: false };
    const [first, second] = await Promise.all([service.requestPool(request), service.requestPool(request)]);
    assert.equal(first.PoolID, POOL_UUID);
    assert.equal(second.PoolID, POOL_UUID);
    transport.assertDone();
  });

  it('releases a pool again after it is gone', async () => {
    transport.expect({ method: 'GET', path: `/v2.0/subnetpools/${POOL_UUID}`, reply: neutronFault(404, 'SubnetPoolNotFound', 'not found') });
    await service.releasePool({ PoolID: POOL_UUID });
    transport.expect({ method: 'GET', path: `/v2.0/subnetpools/${POOL_UUID}`, reply: neutronFault(404, 'SubnetPoolNotFound', 'not found') });
    await service.releaseAddress({ PoolID: POOL_UUID, Address: '10.50.0.5' });
    transport.assertDone();
  });

  it('rejects a shared mismatch before tagging', async () => {
    transport.expect(
      { method: 'GET', path: `/v2.0/networks?tags=${NETWORK_TAGS}`, reply: { body: { networks: [] } } },
      { method: 'GET', path: `/v2.0/networks/${OPERATOR_NET}`, reply: { body: { network: networkFixture({ id: OPERATOR_NET, shared: false }) } } },
    );
    await assert.rejects(
      service.createNetwork({
        NetworkID: NETWORK_ID,
        Options: { 'com.docker.network.generic': { 'neutron.net.uuid': OPERATOR_NET, 'neutron.net.shared': 'true' } },
        IPv4Data: [{ AddressSpace: '', Pool: '10.50.0.0/24', Gateway: '', AuxAddresses: {} }],
        IPv6Data: [],
      }),
      /has shared=false but -o neutron\.net\.shared=true/,
    );
    // No PUT of tags was expected, so assertDone proves nothing was tagged.
    transport.assertDone();
  });

  it('unbinds the veth when the port never becomes ACTIVE', async () => {
    const network = networkFixture({ id: NET_UUID, subnets: [SUBNET_A], tags: [] });
    const down = portFixture({ id: PORT_UUID, network_id: NET_UUID, fixed_ips: [{ subnet_id: SUBNET_A, ip_address: '10.50.0.5' }], 'binding:host_id': 'docker-host-1', status: 'DOWN', tags: [] });
    transport.expect(
      { method: 'GET', path: `/v2.0/networks?tags=${NETWORK_TAGS}`, reply: { body: { networks: [network] } } },
      { method: 'GET', path: `/v2.0/subnets?network_id=${NET_UUID}`, reply: { body: { subnets: [subnet(SUBNET_A, '10.50.0.0/24')] } } },
      { method: 'GET', path: `/v2.0/ports?network_id=${NET_UUID}&fixed_ips=ip_address%3D10.50.0.5`, reply: { body: { ports: [down] } } },
      { method: 'PUT', path: `/v2.0/ports/${PORT_UUID}/tags`, reply: { body: { tags: [] } } },
    );
    for (let poll = 0; poll < 4; poll += 1) transport.expect({ method: 'GET', path: `/v2.0/ports/${PORT_UUID}`, reply: { body: { port: down } } });
    await assert.rejects(
      service.createEndpoint({ NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID, Interface: { Address: '10.50.0.5/24', AddressIPv6: '', MacAddress: '' }, Options: {} }),
      /is still DOWN after 2 s/,
    );
    assert.deepEqual(binder.calls, [`bind ${PORT_UUID}`, `unbind ${PORT_UUID}`]);
  });

  it('returns host routes of the port subnets only', async () => {
    const network = networkFixture({ id: NET_UUID, subnets: [SUBNET_A, SUBNET_B], tags: [] });
    const active = portFixture({ id: PORT_UUID, network_id: NET_UUID, fixed_ips: [{ subnet_id: SUBNET_A, ip_address: '10.50.0.5' }], status: 'ACTIVE', tags: [] });
    transport.expect(
      { method: 'GET', path: `/v2.0/ports?tags=kuryr.net.uuid.lh%3A${ENDPOINT_ID.slice(0, 32)},kuryr.net.uuid.uh%3A${ENDPOINT_ID.slice(32)}`, reply: { body: { ports: [active] } } },
      { method: 'GET', path: `/v2.0/networks?tags=${NETWORK_TAGS}`, reply: { body: { networks: [network] } } },
      {
        method: 'GET',
        path: `/v2.0/subnets?network_id=${NET_UUID}`,
        reply: {
          body: {
            subnets: [
              subnet(SUBNET_A, '10.50.0.0/24', { host_routes: [{ destination: '192.0.2.0/24', nexthop: '10.50.0.254' }] }),
              subnet(SUBNET_B, '10.51.0.0/24', { host_routes: [{ destination: '198.51.100.0/24', nexthop: '10.51.0.254' }] }),
            ],
          },
        },
      },
    );
    const reply = await service.join({ NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID, SandboxKey: '/run/netns/x', Options: {} });
    assert.deepEqual(reply.StaticRoutes, [{ Destination: '192.0.2.0/24', RouteType: 0, NextHop: '10.50.0.254' }]);
    assert.equal(reply.Gateway, '10.50.0.1');
    transport.assertDone();
  });
});
