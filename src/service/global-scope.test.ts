/**
 * Global scope. dockerd sends DeleteNetwork only to the daemon of the host
 * that runs `docker network rm`, so the other daemons keep a deleted network
 * in their cache, and pool subnets are therefore looked up in Neutron. A
 * CreateNetwork that reaches a second host uses the Neutron network tagged
 * with the Docker network id.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeTransport, networkFixture, subnetFixture } from '../neutron/test-support.js';
import type { Subnet } from '../neutron/index.js';
import type { PoolInfo, ServiceContext } from './context.js';
import { createDriverService } from './index.js';
import { dockerIdTags } from './naming.js';
import { findPoolSubnets } from './pools.js';
import { newTestContext } from './test-support.js';

const SUBNET_POOL_ID = '3b1c9a52-7d4e-4f0a-8c6b-2e5d7f9a1b3c';
const CIDR = '10.83.0.0/24';

const pool: PoolInfo = { poolId: `${SUBNET_POOL_ID}:${CIDR}`, subnetPoolId: SUBNET_POOL_ID, cidr: CIDR, version: 4, subPool: undefined, ownedByKuryr: false };

const cachedSubnet = subnetFixture({ id: 'e1f2a3b4-0000-4000-8000-00000000000a', cidr: CIDR, subnetpool_id: SUBNET_POOL_ID }) as unknown as Subnet;

/** Caches a network whose subnet matches the pool, as after this daemon created it. */
function cacheNetwork(ctx: ServiceContext): void {
  ctx.networks.set('a'.repeat(64), {
    networkId: 'a'.repeat(64),
    neutronNetworkId: 'f0e1d2c3-0000-4000-8000-000000000001',
    projectId: 'p1',
    mtu: 1450,
    subnets: [cachedSubnet],
    adopted: false,
    internal: false,
  });
}

describe('pool subnets in global scope', () => {
  it('uses the cache in local scope', async () => {
    const transport = new FakeTransport();
    const ctx = newTestContext(transport);
    cacheNetwork(ctx);

    assert.deepEqual(await findPoolSubnets(ctx, pool), [cachedSubnet]);
    transport.assertDone();
  });

  it('looks subnets up in Neutron in global scope', async () => {
    const transport = new FakeTransport();
    const ctx = newTestContext(transport, { config: { globalScope: true } });
    cacheNetwork(ctx);
    // Another host removed the network, and the pool's CIDR now belongs to a new one.
    const current = subnetFixture({ id: 'e1f2a3b4-0000-4000-8000-00000000000b', cidr: CIDR, subnetpool_id: SUBNET_POOL_ID });
    transport.expect({
      method: 'GET',
      path: `/v2.0/subnets?subnetpool_id=${SUBNET_POOL_ID}&cidr=10.83.0.0%2F24`,
      reply: { body: { subnets: [current] } },
    });

    const subnets = await findPoolSubnets(ctx, pool);
    assert.deepEqual(subnets.map((subnet) => subnet.id), ['e1f2a3b4-0000-4000-8000-00000000000b']);
    transport.assertDone();
  });
});

describe('CreateNetwork on a second host', () => {
  it('uses the tagged network', async () => {
    const transport = new FakeTransport();
    const service = createDriverService(newTestContext(transport, { config: { globalScope: true } }));
    const dockerId = 'b'.repeat(64);
    const neutronId = 'f0e1d2c3-0000-4000-8000-000000000002';
    const tags = dockerIdTags(dockerId);
    transport.expect(
      {
        method: 'GET',
        path: `/v2.0/networks?tags=${tags.map(encodeURIComponent).join(',')}`,
        reply: { body: { networks: [networkFixture({ id: neutronId, tags })] } },
      },
      {
        method: 'GET',
        path: `/v2.0/subnets?network_id=${neutronId}`,
        reply: { body: { subnets: [subnetFixture({ network_id: neutronId, cidr: CIDR, subnetpool_id: SUBNET_POOL_ID })] } },
      },
    );

    await service.createNetwork({
      NetworkID: dockerId,
      Options: {},
      IPv4Data: [{ AddressSpace: '', Pool: CIDR, Gateway: '10.83.0.1/24', AuxAddresses: {} }],
      IPv6Data: [],
    });
    transport.assertDone();
  });
});
