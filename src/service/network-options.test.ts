/**
 * CreateNetwork options against a fake Neutron: --internal, --aux-address
 * and several --subnet of one family.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { FakeTransport, networkFixture, portFixture, requestBody, subnetFixture } from '../neutron/test-support.js';
import type { DriverService } from '../protocol/index.js';
import { createDriverService, type ServiceContext } from './index.js';
import { newTestContext } from './test-support.js';

const NETWORK_ID = 'a'.repeat(64);
const ENDPOINT_ID = 'b'.repeat(64);
const NET = 'net-opts';
const TAG_QUERY = `tags=kuryr.net.uuid.lh%3A${'a'.repeat(32)},kuryr.net.uuid.uh%3A${'a'.repeat(32)}`;

describe('network options', () => {
  let transport: FakeTransport;
  let ctx: ServiceContext;
  let service: DriverService;

  beforeEach(() => {
    transport = new FakeTransport();
    ctx = newTestContext(transport);
    for (const [poolId, cidr] of [['pool-a', '10.64.0.0/24'], ['pool-b', '10.64.1.0/24']] as const) {
      ctx.pools.set(poolId, { poolId, subnetPoolId: poolId, cidr, version: 4, subPool: undefined, ownedByKuryr: true });
    }
    service = createDriverService(ctx);
  });

  function expectNetworkCreate(tags: string[], onSubnets: (subnets: Array<Record<string, unknown>>) => void, subnets: unknown[]): void {
    transport.expect(
      { method: 'POST', path: '/v2.0/networks', reply: { status: 201, body: { network: networkFixture({ id: NET, subnets: [] }) } } },
      {
        method: 'PUT',
        path: `/v2.0/networks/${NET}/tags`,
        reply: (request) => {
          assert.deepEqual(requestBody<{ tags: string[] }>(request).tags, tags);
          return { body: { tags } };
        },
      },
      {
        method: 'POST',
        path: '/v2.0/subnets',
        reply: (request) => {
          onSubnets(requestBody<{ subnets: Array<Record<string, unknown>> }>(request).subnets);
          return { status: 201, body: { subnets } };
        },
      },
    );
  }

  it('tags --internal and omits its gateway', async () => {
    const subnet = subnetFixture({ id: 'subnet-a', network_id: NET, cidr: '10.64.0.0/24', gateway_ip: '10.64.0.1', subnetpool_id: 'pool-a' });
    expectNetworkCreate([`kuryr.net.uuid.lh:${'a'.repeat(32)}`, `kuryr.net.uuid.uh:${'a'.repeat(32)}`, 'kuryr.net.internal'], () => {}, [subnet]);
    await service.createNetwork({
      NetworkID: NETWORK_ID,
      Options: { 'com.docker.network.internal': true },
      IPv4Data: [{ AddressSpace: '', Pool: '10.64.0.0/24', Gateway: '10.64.0.1/24', AuxAddresses: {} }],
      IPv6Data: [],
    });
    transport.assertDone();

    // After a restart the mark comes back from the network's tags.
    ctx.networks.clear();
    transport.expect(
      { method: 'GET', path: `/v2.0/ports?tags=kuryr.net.uuid.lh%3A${'b'.repeat(32)},kuryr.net.uuid.uh%3A${'b'.repeat(32)}`, reply: { body: { ports: [portFixture({ network_id: NET, fixed_ips: [{ subnet_id: 'subnet-a', ip_address: '10.64.0.5' }] })] } } },
      { method: 'GET', path: `/v2.0/networks?${TAG_QUERY}`, reply: { body: { networks: [networkFixture({ id: NET, tags: ['kuryr.net.internal'] })] } } },
      { method: 'GET', path: `/v2.0/subnets?network_id=${NET}`, reply: { body: { subnets: [subnet] } } },
    );
    const joined = await service.join({ NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID, SandboxKey: '/run/docker/netns/x', Options: {} });
    assert.equal(joined.Gateway, undefined);
    assert.equal(joined.GatewayIPv6, undefined);
    transport.assertDone();
  });

  it('cuts aux addresses out and drops pools for several subnets', async () => {
    const subnets = [
      subnetFixture({ id: 'subnet-a', name: 'kuryr-subnet-10.64.0.0/24', network_id: NET, cidr: '10.64.0.0/24', gateway_ip: '10.64.0.1', subnetpool_id: null }),
      subnetFixture({ id: 'subnet-b', name: 'kuryr-subnet-10.64.1.0/24', network_id: NET, cidr: '10.64.1.0/24', gateway_ip: '10.64.1.1', subnetpool_id: null }),
    ];
    expectNetworkCreate([`kuryr.net.uuid.lh:${'a'.repeat(32)}`, `kuryr.net.uuid.uh:${'a'.repeat(32)}`], (bodies) => {
      assert.equal(bodies.length, 2);
      assert.equal(bodies[0]?.subnetpool_id, undefined, 'Neutron rejects two pools for one family on a network');
      assert.equal(bodies[1]?.subnetpool_id, undefined);
      assert.deepEqual(bodies[0]?.allocation_pools, [{ start: '10.64.0.4', end: '10.64.0.254' }]);
      assert.equal(bodies[1]?.allocation_pools, undefined);
    }, subnets);
    transport.expect({
      method: 'PUT',
      path: '/v2.0/subnets/subnet-a/tags',
      reply: (request) => {
        assert.deepEqual(requestBody<{ tags: string[] }>(request).tags, ['kuryr.aux:10.64.0.2', 'kuryr.aux:10.64.0.3']);
        return { body: { tags: [] } };
      },
    });
    await service.createNetwork({
      NetworkID: NETWORK_ID,
      Options: {},
      IPv4Data: [
        { AddressSpace: '', Pool: '10.64.0.0/24', Gateway: '10.64.0.1/24', AuxAddresses: { router: '10.64.0.2/24', dns: '10.64.0.3/24' } },
        { AddressSpace: '', Pool: '10.64.1.0/24', Gateway: '10.64.1.1/24', AuxAddresses: {} },
      ],
      IPv6Data: [],
    });
    transport.assertDone();

    await assert.rejects(
      service.requestAddress({ PoolID: 'pool-a', Address: '10.64.0.2', Options: { 'com.docker.network.endpoint.macaddress': '02:42:0a:40:00:02' } }),
      { message: 'address "10.64.0.2" is reserved by --aux-address on subnet 10.64.0.0/24: choose another --ip' },
    );

    // ReleasePool still finds the pool-less subnet by name and CIDR.
    transport.expect(
      { method: 'DELETE', path: '/v2.0/subnets/subnet-b', reply: { status: 204 } },
      { method: 'DELETE', path: '/v2.0/subnetpools/pool-b', reply: { status: 204 } },
    );
    await service.releasePool({ PoolID: 'pool-b' });
    transport.assertDone();
  });
});
