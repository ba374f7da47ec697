/**
 * The port behind endpoint addresses, against a fake Neutron: one port for
 * both families of a dual-stack endpoint, and adoption of an operator's free
 * port for `--ip`.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Subnet } from '../neutron/index.js';
import { FakeTransport, neutronFault, portFixture } from '../neutron/test-support.js';
import type { DriverService } from '../protocol/index.js';
import { createDriverService } from './index.js';
import { newTestContext } from './test-support.js';

const NET = 'net-ds';
const POOL4 = 'pool-v4';
const POOL6 = 'pool-v6';
const PORT = 'port-ds';
const MAC = '02:42:0a:3e:00:05';
const MAC_OPTION = { 'com.docker.network.endpoint.macaddress': MAC };


function subnet(id: string, version: 4 | 6, cidr: string, gateway: string, poolId: string): Subnet {
  return {
    id, name: `kuryr-subnet-${cidr}`, network_id: NET, ip_version: version, cidr, gateway_ip: gateway,
    allocation_pools: [], host_routes: [], subnetpool_id: poolId, enable_dhcp: false, tags: [], project_id: 'p1',
  } as unknown as Subnet;
}

const SUBNET4 = subnet('subnet-v4', 4, '10.62.0.0/24', '10.62.0.1', POOL4);
const SUBNET6 = subnet('subnet-v6', 6, 'fd62::/64', 'fd62::1', POOL6);
const V4 = { subnet_id: SUBNET4.id, ip_address: '10.62.0.5' };
const V6 = { subnet_id: SUBNET6.id, ip_address: 'fd62::5' };

function fixedIpsOf(body: string | undefined): unknown {
  return (JSON.parse(body ?? '{}') as { port: { fixed_ips?: unknown } }).port.fixed_ips;
}

describe('address ports', () => {
  let transport: FakeTransport;
  let service: DriverService;

  beforeEach(() => {
    transport = new FakeTransport();
    const ctx = newTestContext(transport);
    for (const [poolId, target] of [[POOL4, SUBNET4], [POOL6, SUBNET6]] as const) {
      ctx.pools.set(poolId, { poolId, subnetPoolId: poolId, cidr: target.cidr, version: target.ip_version === 6 ? 6 : 4, subPool: undefined, ownedByKuryr: true });
    }
    ctx.networks.set('docker-net', {
      networkId: 'docker-net', neutronNetworkId: NET, projectId: 'p1', mtu: 1450, subnets: [SUBNET4, SUBNET6], adopted: false, internal: false,
    });
    service = createDriverService(ctx);
  });

  it('puts dual-stack addresses on one port', async () => {
    transport.expect(
      { method: 'POST', path: '/v2.0/ports', reply: { status: 201, body: { port: portFixture({ id: PORT, network_id: NET, mac_address: MAC, fixed_ips: [V4], device_id: '' }) } } },
      {
        method: 'PUT',
        path: `/v2.0/ports/${PORT}`,
        reply: (request) => {
          assert.deepEqual(fixedIpsOf(request.body), [V4, { subnet_id: SUBNET6.id }]);
          return { body: { port: portFixture({ id: PORT, network_id: NET, mac_address: MAC, fixed_ips: [V4, V6], device_id: '', tags: ['compute:kuryr'] }) } };
        },
      },
    );
    assert.deepEqual(await service.requestAddress({ PoolID: POOL4, Address: '', Options: MAC_OPTION }), { Address: '10.62.0.5/24', Data: {} });
    assert.deepEqual(await service.requestAddress({ PoolID: POOL6, Address: '', Options: MAC_OPTION }), { Address: 'fd62::5/64', Data: {} });
    transport.assertDone();

    transport.expect(
      {
        method: 'PUT',
        path: `/v2.0/ports/${PORT}`,
        reply: (request) => {
          assert.deepEqual(fixedIpsOf(request.body), [V6]);
          return { body: { port: portFixture({ id: PORT, network_id: NET, mac_address: MAC, fixed_ips: [V6], device_id: '', tags: ['compute:kuryr'] }) } };
        },
      },
      { method: 'DELETE', path: `/v2.0/ports/${PORT}`, reply: { status: 204 } },
      { method: 'GET', path: `/v2.0/security-groups?name=kuryr-exposed-${PORT}&fields=id`, reply: { body: { security_groups: [] } } },
    );
    await service.releaseAddress({ PoolID: POOL4, Address: '10.62.0.5' });
    await service.releaseAddress({ PoolID: POOL6, Address: 'fd62::5' });
    transport.assertDone();
  });

  it('releases one address after a restart', async () => {
    const dualPort = portFixture({ id: PORT, network_id: NET, mac_address: MAC, fixed_ips: [V4, V6], device_id: '', tags: ['compute:kuryr'] });
    transport.expect(
      { method: 'GET', path: `/v2.0/ports?fixed_ips=subnet_id%3D${SUBNET4.id}&fixed_ips=ip_address%3D10.62.0.5`, reply: { body: { ports: [dualPort] } } },
      {
        method: 'PUT',
        path: `/v2.0/ports/${PORT}`,
        reply: (request) => {
          assert.deepEqual(fixedIpsOf(request.body), [V6]);
          return { body: { port: { ...dualPort, fixed_ips: [V6] } } };
        },
      },
    );
    await service.releaseAddress({ PoolID: POOL4, Address: '10.62.0.5' });
    transport.assertDone();
  });

  it('hands back an adopted dual-stack port', async () => {
    const adopted = portFixture({
      id: 'operator-port', network_id: NET, mac_address: MAC, fixed_ips: [V4, V6], device_owner: 'kuryr:container', device_id: '', 'binding:host_id': 'docker-host-1',
      tags: ['kuryr.port.existing', 'kuryr.port.mac:fa:16:3e:11:22:33', 'kuryr.port.ip:10.62.0.5', 'compute:kuryr'],
    });
    transport.expect(
      { method: 'GET', path: `/v2.0/ports?fixed_ips=subnet_id%3D${SUBNET6.id}&fixed_ips=ip_address%3Dfd62%3A%3A5`, reply: { body: { ports: [adopted] } } },
      {
        method: 'PUT',
        path: '/v2.0/ports/operator-port',
        reply: (request) => {
          assert.deepEqual(fixedIpsOf(request.body), [V4], 'only the address kuryr added goes');
          return { body: { port: { ...adopted, fixed_ips: [V4] } } };
        },
      },
    );
    await service.releaseAddress({ PoolID: POOL6, Address: 'fd62::5' });
    transport.assertDone();
  });

  it('adopts a free port holding the --ip address', async () => {
    const free = portFixture({
      id: 'operator-port', network_id: NET, mac_address: 'fa:16:3e:11:22:33', fixed_ips: [V4], device_owner: '', device_id: '', 'binding:host_id': '', tags: ['team'],
    });
    const adoptedTags = ['team', 'kuryr.port.existing', 'kuryr.port.mac:fa:16:3e:11:22:33', 'kuryr.port.ip:10.62.0.5'];
    transport.expect(
      { method: 'POST', path: '/v2.0/ports', reply: neutronFault(409, 'IpAddressAlreadyAllocated', 'IP address 10.62.0.5 already allocated') },
      // A re-sent request would find its own unclaimed port by the MAC; none here.
      { method: 'GET', path: `/v2.0/ports?network_id=${NET}&device_owner=kuryr%3Acontainer&mac_address=${encodeURIComponent(MAC)}`, reply: { body: { ports: [] } } },
      { method: 'GET', path: `/v2.0/ports?network_id=${NET}&fixed_ips=subnet_id%3D${SUBNET4.id}&fixed_ips=ip_address%3D10.62.0.5`, reply: { body: { ports: [free] } } },
      {
        method: 'PUT',
        path: '/v2.0/ports/operator-port/tags',
        reply: (request) => {
          assert.deepEqual((JSON.parse(request.body ?? '{}') as { tags: string[] }).tags, adoptedTags);
          return { body: { tags: adoptedTags } };
        },
      },
      {
        method: 'PUT',
        path: '/v2.0/ports/operator-port',
        reply: (request) => {
          assert.deepEqual(JSON.parse(request.body ?? '{}'), { port: { 'binding:host_id': 'docker-host-1', device_owner: 'kuryr:container', mac_address: MAC } });
          return { body: { port: { ...free, mac_address: MAC, device_owner: 'kuryr:container', 'binding:host_id': 'docker-host-1', tags: adoptedTags } } };
        },
      },
    );
    assert.deepEqual(await service.requestAddress({ PoolID: POOL4, Address: '10.62.0.5', Options: MAC_OPTION }), { Address: '10.62.0.5/24', Data: {} });
    transport.assertDone();

    transport.expect(
      {
        method: 'PUT',
        path: '/v2.0/ports/operator-port',
        reply: (request) => {
          assert.deepEqual(JSON.parse(request.body ?? '{}'), { port: { 'binding:host_id': '', device_owner: '', fixed_ips: [V4] } });
          return { body: { port: free } };
        },
      },
      {
        method: 'PUT',
        path: '/v2.0/ports/operator-port',
        reply: (request) => {
          assert.deepEqual(JSON.parse(request.body ?? '{}'), { port: { mac_address: 'fa:16:3e:11:22:33' } });
          return { body: { port: free } };
        },
      },
      {
        method: 'PUT',
        path: '/v2.0/ports/operator-port/tags',
        reply: (request) => {
          assert.deepEqual((JSON.parse(request.body ?? '{}') as { tags: string[] }).tags, ['team']);
          return { body: { tags: ['team'] } };
        },
      },
    );
    await service.releaseAddress({ PoolID: POOL4, Address: '10.62.0.5' });
    transport.assertDone();
  });

  it('names the device holding a taken --ip', async () => {
    const owned = portFixture({ id: 'vm-port', network_id: NET, fixed_ips: [V4], device_owner: 'compute:nova', device_id: 'vm-1', 'binding:host_id': 'compute-2' });
    transport.expect(
      { method: 'POST', path: '/v2.0/ports', reply: neutronFault(409, 'IpAddressAlreadyAllocated', 'IP address 10.62.0.5 already allocated') },
      { method: 'GET', path: `/v2.0/ports?network_id=${NET}&device_owner=kuryr%3Acontainer&mac_address=${encodeURIComponent(MAC)}`, reply: { body: { ports: [] } } },
      { method: 'GET', path: `/v2.0/ports?network_id=${NET}&fixed_ips=subnet_id%3D${SUBNET4.id}&fixed_ips=ip_address%3D10.62.0.5`, reply: { body: { ports: [owned] } } },
    );
    await assert.rejects(
      service.requestAddress({ PoolID: POOL4, Address: '10.62.0.5', Options: MAC_OPTION }),
      { message: /address "10\.62\.0\.5" is held by port "vm-port" \(device_owner "compute:nova", device_id "vm-1", bound to host "compute-2"\): choose another --ip/ },
    );
    transport.assertDone();
  });
});
