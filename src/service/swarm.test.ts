/**
 * Swarm mode against a fake Neutron: the manager reserves an address without
 * a MAC, the host that runs the container claims it, a host's DeleteNetwork
 * and ReleasePool leave the swarm's network and subnet, and FreeNetwork
 * deletes them.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Subnet } from '../neutron/index.js';
import { FakeTransport, networkFixture, neutronFault, portFixture, requestBody, subnetPoolFixture } from '../neutron/test-support.js';
import type { DriverService } from '../protocol/index.js';
import type { ServiceContext } from './context.js';
import { createDriverService } from './index.js';
import { dockerIdTags, SWARM_NETWORK_TAG } from './naming.js';
import { newTestContext } from './test-support.js';

const NETWORK_ID = 'n'.repeat(25);
const NEUTRON_NET = 'a00c2424-0770-4a9c-b7ac-0699fe9dd3ef';
const POOL = '5f0051ef-bc6a-434e-842d-64a5c25f4d10';
const MAC = '02:42:0a:3a:00:54';
const ADDRESS = { subnet_id: 'subnet-swarm', ip_address: '10.58.0.84' };

const SUBNET = {
  id: 'subnet-swarm', name: 'kuryr-subnet-10.58.0.0/24', network_id: NEUTRON_NET, ip_version: 4, cidr: '10.58.0.0/24', gateway_ip: '10.58.0.1',
  allocation_pools: [], host_routes: [], subnetpool_id: POOL, enable_dhcp: false, tags: [], project_id: 'p1',
} as unknown as Subnet;

describe('swarm mode', () => {
  let transport: FakeTransport;
  let ctx: ServiceContext;
  let service: DriverService;

  beforeEach(() => {
    transport = new FakeTransport();
    ctx = newTestContext(transport, { config: { globalScope: true } });
    ctx.pools.set(POOL, { poolId: POOL, subnetPoolId: POOL, cidr: SUBNET.cidr, version: 4, subPool: undefined, ownedByKuryr: true });
    ctx.networks.set(NETWORK_ID, {
      networkId: NETWORK_ID, neutronNetworkId: NEUTRON_NET, projectId: 'p1', mtu: 1450, subnets: [SUBNET], adopted: false, internal: false, swarm: true,
    });
    service = createDriverService(ctx);
  });

  it('reserves an unbound port without a MAC', async () => {
    transport.expect(
      { method: 'GET', path: `/v2.0/subnets?subnetpool_id=${POOL}&cidr=10.58.0.0%2F24`, reply: { body: { subnets: [SUBNET] } } },
      {
        method: 'POST',
        path: '/v2.0/ports',
        reply: (request) => {
          const { port } = requestBody<{ port: Record<string, unknown> }>(request);
          assert.equal(port.name, 'kuryr-swarm-reserved');
          assert.equal(port['binding:host_id'], undefined);
          assert.equal(port.mac_address, undefined);
          return { status: 201, body: { port: portFixture({ id: 'reserved', network_id: NEUTRON_NET, fixed_ips: [ADDRESS], device_id: '' }) } };
        },
      },
    );

    assert.deepEqual(await service.requestAddress({ PoolID: POOL, Address: '', Options: {} }), { Address: '10.58.0.84/24', Data: {} });
    transport.assertDone();
  });

  it('claims the reserved port on the host', async () => {
    const reserved = portFixture({
      id: 'reserved', name: 'kuryr-swarm-reserved', network_id: NEUTRON_NET, mac_address: 'fa:16:3e:00:00:01', fixed_ips: [ADDRESS],
      device_owner: 'kuryr:container', device_id: '', 'binding:host_id': '',
    });
    transport.expect(
      { method: 'GET', path: `/v2.0/subnets?subnetpool_id=${POOL}&cidr=10.58.0.0%2F24`, reply: { body: { subnets: [SUBNET] } } },
      { method: 'POST', path: '/v2.0/ports', reply: neutronFault(409, 'IpAddressAlreadyAllocated', 'IP address 10.58.0.84 already allocated') },
      { method: 'GET', path: `/v2.0/ports?network_id=${NEUTRON_NET}&device_owner=kuryr%3Acontainer&mac_address=02%3A42%3A0a%3A3a%3A00%3A54`, reply: { body: { ports: [] } } },
      { method: 'GET', path: `/v2.0/ports?network_id=${NEUTRON_NET}&fixed_ips=subnet_id%3Dsubnet-swarm&fixed_ips=ip_address%3D10.58.0.84`, reply: { body: { ports: [reserved] } } },
      {
        method: 'PUT',
        path: '/v2.0/ports/reserved',
        reply: (request) => {
          assert.deepEqual(requestBody(request), { port: { name: 'kuryr-port', mac_address: MAC, 'binding:host_id': 'docker-host-1' } });
          return { body: { port: { ...reserved, name: 'kuryr-port', mac_address: MAC, 'binding:host_id': 'docker-host-1' } } };
        },
      },
    );

    const reply = await service.requestAddress({ PoolID: POOL, Address: '10.58.0.84', Options: { 'com.docker.network.endpoint.macaddress': MAC } });

    assert.deepEqual(reply, { Address: '10.58.0.84/24', Data: {} });
    transport.assertDone();
  });

  it('keeps the network on a host DeleteNetwork', async () => {
    await service.deleteNetwork({ NetworkID: NETWORK_ID });

    assert.equal(ctx.networks.has(NETWORK_ID), false);
    transport.assertDone();
  });

  it('keeps the subnet on a host ReleasePool', async () => {
    const tagged = networkFixture({ id: NEUTRON_NET, tags: [...dockerIdTags(NETWORK_ID), SWARM_NETWORK_TAG] });
    transport.expect(
      { method: 'GET', path: `/v2.0/subnets?subnetpool_id=${POOL}&cidr=10.58.0.0%2F24`, reply: { body: { subnets: [SUBNET] } } },
      { method: 'GET', path: `/v2.0/networks/${NEUTRON_NET}`, reply: { body: { network: tagged } } },
    );

    await service.releasePool({ PoolID: POOL });

    transport.assertDone();
  });

  it('deletes the network on FreeNetwork', async () => {
    transport.expect(
      { method: 'DELETE', path: `/v2.0/networks/${NEUTRON_NET}`, reply: { status: 204 } },
      { method: 'GET', path: `/v2.0/subnetpools/${POOL}`, reply: { body: { subnetpool: subnetPoolFixture({ id: POOL, name: 'kuryrPool-10.58.0.0/24' }) } } },
      { method: 'DELETE', path: `/v2.0/subnetpools/${POOL}`, reply: { status: 204 } },
    );

    await service.freeNetwork({ NetworkID: NETWORK_ID });

    assert.equal(ctx.networks.has(NETWORK_ID), false);
    transport.assertDone();
  });
});
