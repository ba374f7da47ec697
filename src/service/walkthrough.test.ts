/**
 * The walkthrough's verb sequence, as dockerd sends it, against a fake
 * Neutron that expects exactly the calls kuryr should make. This pins both
 * the mapping and the number of Neutron round trips per Docker operation.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { BoundInterface, PortBinder, PortBindingRequest } from '../binding/index.js';
import { vethNames } from '../binding/index.js';
import { FakeTransport, networkFixture, portFixture } from '../neutron/test-support.js';
import type { DriverService } from '../protocol/index.js';
import { createDriverService, type Clock } from './index.js';
import { newTestContext } from './test-support.js';

const NETWORK_ID = '62c112064cbf927c954e5bc8fe09c168e3d3a8c09586e1aaa480bd95199eb536';
const ENDPOINT_ID = '4bb8fa2d5679855fa7d9fb0204679102ec29d7bdc0393a23aaa427c932b600e4';
const POOL_UUID = '7a1f0c1e-5d0e-4a59-9a61-1f2d3c4b5a60';
const NET_UUID = '0d9c3f4e-1111-4c2b-8e7f-2a3b4c5d6e7f';
const SUBNET_UUID = '5e6f7a8b-2222-4d3c-9f8e-3b4c5d6e7f80';
const PORT_UUID = '9c8b7a6d-3333-4e4d-8a9b-4c5d6e7f8091';
const MAC = '02:42:90:26:db:b9';

/** Records each bind with the details the walkthrough checks: vif_type, MTU and MAC. */
class DetailRecordingBinder implements PortBinder {
  readonly calls: string[] = [];
  async bind(request: PortBindingRequest): Promise<BoundInterface> {
    this.calls.push(`bind ${request.portId} ${request.vifType} mtu=${request.mtu} mac=${request.macAddress}`);
    return vethNames(request.portId);
  }
  async unbind(request: PortBindingRequest): Promise<void> {
    this.calls.push(`unbind ${request.portId}`);
  }
}

const clock: Clock = { now: () => 0, sleep: async () => {} };

const subnet = {
  id: SUBNET_UUID,
  name: 'kuryr-subnet-10.10.0.0/16',
  network_id: NET_UUID,
  ip_version: 4,
  cidr: '10.10.0.0/16',
  gateway_ip: '10.10.0.1',
  allocation_pools: [{ start: '10.10.0.2', end: '10.10.0.255' }],
  host_routes: [],
  subnetpool_id: POOL_UUID,
  enable_dhcp: false,
  tags: [],
  project_id: 'p1',
};

const boundPort = portFixture({
  id: PORT_UUID,
  network_id: NET_UUID,
  mac_address: MAC,
  fixed_ips: [{ subnet_id: SUBNET_UUID, ip_address: '10.10.0.2' }],
  device_id: '',
  'binding:host_id': 'docker-host-1',
});

describe('walkthrough verb sequence', () => {
  let transport: FakeTransport;
  let binder: DetailRecordingBinder;
  let service: DriverService;

  beforeEach(() => {
    transport = new FakeTransport();
    binder = new DetailRecordingBinder();
    const context = newTestContext(transport, { binder, config: { portActiveTimeoutMs: 60_000 }, clock });
    service = createDriverService(context);
  });

  it('creates, uses and removes the network with few Neutron calls', async () => {
    transport.expect(
      { method: 'GET', path: '/v2.0/subnetpools?name=kuryrPool-10.10.0.0%2F16', reply: { body: { subnetpools: [] } } },
      {
        method: 'POST',
        path: '/v2.0/subnetpools',
        reply: { status: 201, body: { subnetpool: { id: POOL_UUID, name: 'kuryrPool-10.10.0.0/16', prefixes: ['10.10.0.0/16'], default_prefixlen: 16, shared: false, tags: [], ip_version: 4, description: 'kuryr-ts ip-range 10.10.0.0/24', project_id: 'p1' } } },
      },
    );
    const pool = await service.requestPool({ AddressSpace: '', Pool: '10.10.0.0/16', SubPool: '10.10.0.0/24', Options: {}, V6: false });
    assert.deepEqual(pool, { PoolID: POOL_UUID, Pool: '10.10.0.0/16', Data: {} });

    const gateway = await service.requestAddress({ PoolID: POOL_UUID, Address: '10.10.0.1', Options: { RequestAddressType: 'com.docker.network.gateway' } });
    assert.deepEqual(gateway, { Address: '10.10.0.1/16', Data: {} });
    transport.assertDone();

    transport.expect(
      { method: 'POST', path: '/v2.0/networks', reply: { status: 201, body: { network: networkFixture({ id: NET_UUID, name: 'kuryr-net-62c11206', subnets: [] }) } } },
      { method: 'PUT', path: `/v2.0/networks/${NET_UUID}/tags`, reply: { body: { tags: [] } } },
      {
        method: 'POST',
        path: '/v2.0/subnets',
        reply: (request) => {
          const body = JSON.parse(request.body ?? '{}') as { subnets: Array<Record<string, unknown>> };
          assert.deepEqual(body.subnets[0], {
            network_id: NET_UUID,
            name: 'kuryr-subnet-10.10.0.0/16',
            ip_version: 4,
            cidr: '10.10.0.0/16',
            enable_dhcp: false,
            gateway_ip: '10.10.0.1',
            subnetpool_id: POOL_UUID,
            allocation_pools: [{ start: '10.10.0.2', end: '10.10.0.255' }],
          });
          return { status: 201, body: { subnets: [subnet] } };
        },
      },
    );
    await service.createNetwork({
      NetworkID: NETWORK_ID,
      Options: {},
      IPv4Data: [{ AddressSpace: '', Pool: '10.10.0.0/16', Gateway: '10.10.0.1/16', AuxAddresses: {} }],
      IPv6Data: [],
    });
    transport.assertDone();

    // docker run: RequestAddress, CreateEndpoint, Join, EndpointOperInfo.
    transport.expect(
      {
        method: 'POST',
        path: '/v2.0/ports',
        reply: (request) => {
          const body = JSON.parse(request.body ?? '{}') as { port: Record<string, unknown> };
          assert.equal(body.port['binding:host_id'], 'docker-host-1');
          assert.equal(body.port.device_owner, 'kuryr:container');
          assert.equal(body.port.mac_address, MAC);
          return { status: 201, body: { port: boundPort } };
        },
      },
      { method: 'PUT', path: `/v2.0/ports/${PORT_UUID}/tags`, reply: { body: { tags: [] } } },
      { method: 'GET', path: `/v2.0/ports/${PORT_UUID}`, reply: { body: { port: { ...boundPort, status: 'ACTIVE' } } } },
    );
    const address = await service.requestAddress({ PoolID: POOL_UUID, Address: '', Options: { 'com.docker.network.endpoint.macaddress': MAC } });
    assert.deepEqual(address, { Address: '10.10.0.2/16', Data: {} });
    const endpoint = await service.createEndpoint({
      NetworkID: NETWORK_ID,
      EndpointID: ENDPOINT_ID,
      Interface: { Address: '10.10.0.2/16', AddressIPv6: '', MacAddress: MAC },
      Options: {},
    });
    assert.deepEqual(endpoint, { Interface: {} });
    assert.deepEqual(binder.calls, [`bind ${PORT_UUID} bridge mtu=1450 mac=${MAC}`]);
    const joined = await service.join({ NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID, SandboxKey: '/run/docker/netns/abc', Options: {} });
    assert.deepEqual(joined, {
      InterfaceName: { SrcName: `t_c${PORT_UUID.slice(0, 11)}`, DstPrefix: 'eth' },
      DisableGatewayService: true,
      Gateway: '10.10.0.1',
    });
    const info = await service.endpointOperInfo({ NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID });
    assert.equal(info.Value.status, 'ACTIVE');
    transport.assertDone();

    // Container exit: Leave, DeleteEndpoint, ReleaseAddress. The port's exposed-ports group, if any, goes with it.
    transport.expect(
      { method: 'DELETE', path: `/v2.0/ports/${PORT_UUID}`, reply: { status: 204 } },
      { method: 'GET', path: `/v2.0/security-groups?name=kuryr-exposed-${PORT_UUID}&fields=id`, reply: { body: { security_groups: [] } } },
    );
    await service.leave({ NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID });
    await service.deleteEndpoint({ NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID });
    await service.releaseAddress({ PoolID: POOL_UUID, Address: '10.10.0.2' });
    assert.deepEqual(binder.calls.at(-1), `unbind ${PORT_UUID}`);
    transport.assertDone();

    // docker network rm: ReleaseAddress (gateway), ReleasePool, DeleteNetwork.
    transport.expect(
      { method: 'DELETE', path: `/v2.0/subnets/${SUBNET_UUID}`, reply: { status: 204 } },
      { method: 'DELETE', path: `/v2.0/subnetpools/${POOL_UUID}`, reply: { status: 204 } },
      { method: 'DELETE', path: `/v2.0/networks/${NET_UUID}`, reply: { status: 204 } },
    );
    await service.releaseAddress({ PoolID: POOL_UUID, Address: '10.10.0.1' });
    await service.releasePool({ PoolID: POOL_UUID });
    await service.deleteNetwork({ NetworkID: NETWORK_ID });
    transport.assertDone();
  });
});
