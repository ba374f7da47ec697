/**
 * Network-level features against a fake Neutron: name lookups, the network
 * body and tags, SNAT router interfaces and their removal, and the checks
 * that reject an option before any request.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { KuryrError } from '../errors.js';
import { FakeTransport, networkFixture, neutronFault, requestBody, subnetFixture } from '../neutron/test-support.js';
import type { DriverService } from '../protocol/index.js';
import { errorReply } from '../protocol/reply.js';
import { NO_FEATURES } from './feature-lookup.js';
import { createDriverService, type ServiceContext } from './index.js';
import { featuresFromTags, featureTags } from './network-features.js';
import { newTestContext } from './test-support.js';

const NETWORK_ID = 'c'.repeat(64);
const NET = 'net-feat';
const QOS_ID = '5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f';
const ID_TAGS = [`kuryr.net.uuid.lh:${'c'.repeat(32)}`, `kuryr.net.uuid.uh:${'c'.repeat(32)}`];
const IPV4_DATA = [{ AddressSpace: '', Pool: '10.66.0.0/24', Gateway: '10.66.0.1/24', AuxAddresses: {} }];
const SUBNET = subnetFixture({ id: 'subnet-a', name: 'kuryr-subnet-10.66.0.0/24', network_id: NET, cidr: '10.66.0.0/24', gateway_ip: '10.66.0.1', subnetpool_id: 'pool-a' });

describe('network features', () => {
  let transport: FakeTransport;
  let ctx: ServiceContext;
  let service: DriverService;

  beforeEach(() => {
    transport = new FakeTransport();
    ctx = newTestContext(transport);
    ctx.pools.set('pool-a', { poolId: 'pool-a', subnetPoolId: 'pool-a', cidr: '10.66.0.0/24', version: 4, subPool: undefined, ownedByKuryr: true });
    service = createDriverService(ctx);
  });

  function createNetwork(options: Record<string, string>, internal = false): Promise<void> {
    return service.createNetwork({
      NetworkID: NETWORK_ID,
      Options: { 'com.docker.network.generic': options, ...(internal ? { 'com.docker.network.internal': true } : {}) },
      IPv4Data: IPV4_DATA,
      IPv6Data: [],
    });
  }

  /** Expects the lookups, then the network with its attributes and tags, the subnet and the router interface. */
  function expectCreateWithRouter(expectedTags: string[]): void {
    transport.expect(
      { method: 'GET', path: '/v2.0/security-groups?name=web', reply: { body: { security_groups: [{ id: 'sg-web', name: 'web', description: '', project_id: 'project-1' }] } } },
      { method: 'GET', path: `/v2.0/qos/policies/${QOS_ID}`, reply: { body: { policy: { id: QOS_ID, name: 'gold', project_id: 'project-1' } } } },
      { method: 'GET', path: '/v2.0/routers?name=edge', reply: { body: { routers: [{ id: 'router-1', name: 'edge', project_id: 'project-1', external_gateway_info: { network_id: 'ext-1' } }] } } },
      { method: 'GET', path: '/v2.0/networks?name=public', reply: { body: { networks: [networkFixture({ id: 'ext-1', name: 'public', 'router:external': true })] } } },
      {
        method: 'POST',
        path: '/v2.0/networks',
        reply: (request) => {
          const { network } = requestBody<{ network: Record<string, unknown> }>(request);
          assert.equal(network.port_security_enabled, true);
          assert.equal(network.qos_policy_id, QOS_ID);
          return { status: 201, body: { network: networkFixture({ id: NET, subnets: [] }) } };
        },
      },
      {
        method: 'PUT',
        path: `/v2.0/networks/${NET}/tags`,
        reply: (request) => {
          assert.deepEqual(requestBody<{ tags: string[] }>(request).tags, expectedTags);
          return { body: { tags: expectedTags } };
        },
      },
      { method: 'POST', path: '/v2.0/subnets', reply: { status: 201, body: { subnets: [SUBNET] } } },
      {
        method: 'PUT',
        path: '/v2.0/routers/router-1/add_router_interface',
        reply: (request) => {
          assert.deepEqual(requestBody<unknown>(request), { subnet_id: 'subnet-a' });
          return { body: { id: 'router-1', subnet_id: 'subnet-a', port_id: 'router-port' } };
        },
      },
    );
  }

  it('creates network with features', async () => {
    const tags = [...ID_TAGS, 'kuryr.sg:sg-web', 'kuryr.sg.mode:replace', 'kuryr.aap:10.66.0.64/28', 'kuryr.router:router-1', 'kuryr.fip.net:ext-1'];
    expectCreateWithRouter(tags);
    transport.expect({
      method: 'PUT',
      path: '/v2.0/subnets/subnet-a/tags',
      reply: (request) => {
        assert.deepEqual(requestBody<{ tags: string[] }>(request).tags, ['kuryr.router:router-1']);
        return { body: { tags: ['kuryr.router:router-1'] } };
      },
    });
    await createNetwork({
      'neutron.security_groups': 'web',
      'neutron.security_groups.mode': 'replace',
      'neutron.port_security': 'true',
      'neutron.allowed_address_pairs': '10.66.0.64/28',
      'neutron.qos_policy': QOS_ID,
      'neutron.router': 'edge',
      'neutron.floatingip.network': 'public',
    });
    transport.assertDone();
    assert.deepEqual(ctx.networks.get(NETWORK_ID)?.features, featuresFromTags(tags));

    // ReleasePool takes the router interface off before Neutron deletes the subnet.
    transport.expect(
      {
        method: 'PUT',
        path: '/v2.0/routers/router-1/remove_router_interface',
        reply: (request) => {
          assert.deepEqual(requestBody<unknown>(request), { subnet_id: 'subnet-a' });
          return { body: {} };
        },
      },
      { method: 'DELETE', path: '/v2.0/subnets/subnet-a', reply: { status: 204 } },
      { method: 'DELETE', path: '/v2.0/subnetpools/pool-a', reply: { status: 204 } },
    );
    await service.releasePool({ PoolID: 'pool-a' });
    transport.assertDone();
  });

  it('detaches router on network delete', async () => {
    // After a restart the network is read from Neutron, and its subnet still has the router interface.
    transport.expect(
      { method: 'GET', path: `/v2.0/networks?tags=${ID_TAGS.map(encodeURIComponent).join(',')}`, reply: { body: { networks: [networkFixture({ id: NET, tags: [...ID_TAGS, 'kuryr.router:router-1'] })] } } },
      { method: 'GET', path: `/v2.0/subnets?network_id=${NET}`, reply: { body: { subnets: [{ ...SUBNET, tags: ['kuryr.router:router-1'] }] } } },
      { method: 'PUT', path: '/v2.0/routers/router-1/remove_router_interface', reply: neutronFault(404, 'RouterInterfaceNotFoundForSubnet', 'Router router-1 has no interface on subnet subnet-a') },
      { method: 'DELETE', path: `/v2.0/networks/${NET}`, reply: { status: 204 } },
      { method: 'GET', path: '/v2.0/subnetpools/pool-a', reply: neutronFault(404, 'SubnetPoolNotFound', 'Subnet pool pool-a could not be found') },
    );
    await service.deleteNetwork({ NetworkID: NETWORK_ID });
    transport.assertDone();
  });

  it('rolls back router interface on failure', async () => {
    expectCreateWithRouter([...ID_TAGS, 'kuryr.sg:sg-web', 'kuryr.router:router-1', 'kuryr.fip.net:ext-1']);
    transport.expect(
      { method: 'PUT', path: '/v2.0/subnets/subnet-a/tags', reply: neutronFault(500, 'HTTPInternalServerError', 'database gone') },
      { method: 'PUT', path: '/v2.0/subnets/subnet-a/tags', reply: neutronFault(500, 'HTTPInternalServerError', 'database gone') },
      { method: 'PUT', path: '/v2.0/subnets/subnet-a/tags', reply: neutronFault(500, 'HTTPInternalServerError', 'database gone') },
      { method: 'PUT', path: '/v2.0/subnets/subnet-a/tags', reply: neutronFault(500, 'HTTPInternalServerError', 'database gone') },
      { method: 'PUT', path: '/v2.0/routers/router-1/remove_router_interface', reply: { body: {} } },
      { method: 'DELETE', path: `/v2.0/networks/${NET}`, reply: { status: 204 } },
    );
    await assert.rejects(
      createNetwork({ 'neutron.security_groups': 'web', 'neutron.port_security': 'true', 'neutron.qos_policy': QOS_ID, 'neutron.router': 'edge', 'neutron.floatingip.network': 'public' }),
      { message: /database gone/ },
    );
    transport.assertDone();
    assert.equal(ctx.networks.has(NETWORK_ID), false);
  });

  it('rejects a floating IP network that is not external', async () => {
    transport.expect({ method: 'GET', path: '/v2.0/networks?name=private', reply: { body: { networks: [networkFixture({ id: 'net-9', name: 'private' })] } } });
    await assert.rejects(createNetwork({ 'neutron.floatingip.network': 'private' }), {
      code: 'INVALID_OPTION',
      message: 'invalid -o neutron.floatingip.network: Neutron network "net-9" is not external (router:external is false), so it has no floating IPs: name an external network',
    });
    transport.assertDone();
  });

  it('rejects an unknown security group', async () => {
    transport.expect({ method: 'GET', path: '/v2.0/security-groups?name=nope', reply: { body: { security_groups: [] } } });

    const error = await createNetwork({ 'neutron.security_groups': 'nope' }).catch((rejection: unknown) => rejection);

    assert.ok(error instanceof KuryrError, `expected a KuryrError, got ${String(error)}`);
    assert.equal(error.code, 'INVALID_OPTION');
    assert.match(error.message, /not found in Neutron: check the name, or pass its uuid/);
    assert.equal(errorReply(error).status, 400);
    transport.assertDone();
  });

  const rejectedBeforeNeutron: Array<{ name: string; options: Record<string, string>; internal: boolean; message: string }> = [
    { name: 'SNAT on internal', options: { 'neutron.router': 'edge' }, internal: true, message: '-o neutron.router conflicts with --internal: an internal network has no way out, so drop one of them' },
    {
      name: 'floating IPs on internal',
      options: { 'neutron.floatingip.network': 'public' },
      internal: true,
      message: '-o neutron.floatingip.network conflicts with --internal: an internal network has no way out, so drop one of them',
    },
    {
      name: 'features on adopted network',
      options: { 'neutron.net.name': 'operator-net', 'neutron.qos_policy': 'gold' },
      internal: false,
      message: '-o neutron.* feature options cannot be combined with neutron.net.* or neutron.subnet.*: pass them per endpoint with docker network connect --driver-opt',
    },
  ];
  for (const { name, options, internal, message } of rejectedBeforeNeutron) {
    it(`rejects ${name}`, async () => {
      await assert.rejects(createNetwork(options, internal), { code: 'INVALID_OPTION', message });
      transport.assertDone();
    });
  }

  it('reads no features from plain tags', () => {
    assert.deepEqual(featuresFromTags([...ID_TAGS, 'kuryr.net.internal']), NO_FEATURES);
    assert.deepEqual(featureTags(NO_FEATURES), []);
  });
});
