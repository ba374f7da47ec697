/**
 * Endpoint features against a fake Neutron: the port update computed from
 * the network's and the endpoint's options, floating IPs and firewall groups
 * in CreateEndpoint and DeleteEndpoint, and their rollback.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { portObject, type Port } from '../neutron/resources.js';
import { FakeTransport, networkFixture, neutronFault, portFixture, requestBody, subnetFixture } from '../neutron/test-support.js';
import type { HttpRequest } from '../neutron/index.js';
import type { CreateEndpoint } from '../protocol/index.js';
import { addressKey, type NetworkInfo, type ServiceContext } from './context.js';
import { portUpdate } from './endpoint-features.js';
import { deleteEndpoint, createEndpoint } from './endpoints.js';
import { NO_FEATURES, type ResolvedFeatures } from './feature-lookup.js';
import { newTestContext, RecordingBinder } from './test-support.js';

const NETWORK_ID = 'd'.repeat(64);
const ENDPOINT_ID = 'e'.repeat(64);
const NET = 'net-ep';
const PORT_ID = 'port-ep';
const IP = '10.66.0.5';
const ENDPOINT_TAGS = ['compute:kuryr', `kuryr.net.uuid.lh:${'e'.repeat(32)}`, `kuryr.net.uuid.uh:${'e'.repeat(32)}`];

const basePort = portObject.parse(
  portFixture({ id: PORT_ID, network_id: NET, device_id: '', fixed_ips: [{ subnet_id: 'subnet-a', ip_address: IP }], security_groups: ['sg-default'], port_security_enabled: true, 'binding:host_id': 'docker-host-1' }),
);

function features(overrides: Partial<ResolvedFeatures>): ResolvedFeatures {
  return { ...NO_FEATURES, ...overrides };
}

describe('port update', () => {
  const cases: Array<{ name: string; port?: Partial<Port>; network?: Partial<ResolvedFeatures>; endpoint?: Partial<ResolvedFeatures>; expected: Record<string, unknown> }> = [
    { name: 'no features', expected: {} },
    { name: 'network replaces groups', network: { securityGroupIds: ['sg-net'], securityGroupMode: 'replace' }, expected: { security_groups: ['sg-net'] } },
    {
      name: 'network and endpoint add',
      network: { securityGroupIds: ['sg-net'] },
      endpoint: { securityGroupIds: ['sg-ep', 'sg-net'] },
      expected: { security_groups: ['sg-default', 'sg-net', 'sg-ep'] },
    },
    {
      name: 'endpoint replaces network groups',
      network: { securityGroupIds: ['sg-net'] },
      endpoint: { securityGroupIds: ['sg-ep'], securityGroupMode: 'replace' },
      expected: { security_groups: ['sg-ep'] },
    },
    {
      name: 'endpoint turns port security off',
      network: { securityGroupIds: ['sg-net'], allowedAddresses: ['10.66.0.9'] },
      endpoint: { portSecurity: false },
      expected: { port_security_enabled: false, security_groups: [] },
    },
    {
      name: 'pairs added to existing',
      port: { allowed_address_pairs: [{ ip_address: '10.66.0.8', mac_address: 'fa:16:3e:00:00:01' }] },
      network: { allowedAddresses: ['10.66.0.8', '10.66.0.9'] },
      endpoint: { allowedAddresses: ['10.66.0.64/28'] },
      expected: {
        allowed_address_pairs: [{ ip_address: '10.66.0.8', mac_address: 'fa:16:3e:00:00:01' }, { ip_address: '10.66.0.9' }, { ip_address: '10.66.0.64/28' }],
      },
    },
    { name: 'endpoint QoS policy', endpoint: { qosPolicyId: 'qos-1' }, expected: { qos_policy_id: 'qos-1' } },
    { name: 'QoS policy already set', port: { qos_policy_id: 'qos-1' }, endpoint: { qosPolicyId: 'qos-1' }, expected: {} },
  ];
  for (const { name, port, network, endpoint, expected } of cases) {
    it(name, () => {
      assert.deepEqual(portUpdate({ ...basePort, ...port }, features(network ?? {}), features(endpoint ?? {})), expected);
    });
  }

  it('rejects groups on a port without port security', () => {
    assert.throws(() => portUpdate({ ...basePort, port_security_enabled: false, security_groups: [] }, NO_FEATURES, features({ securityGroupIds: ['sg-ep'] })), {
      code: 'INVALID_OPTION',
      message:
        'port "port-ep" has port security disabled, which rules out neutron.security_groups and neutron.allowed_address_pairs: ' +
        'add --driver-opt neutron.port_security=true, or drop those options',
    });
  });
});

describe('endpoint features', () => {
  let transport: FakeTransport;
  let ctx: ServiceContext;
  let binder: RecordingBinder;

  beforeEach(() => {
    transport = new FakeTransport();
    binder = new RecordingBinder();
    ctx = newTestContext(transport, { binder });
    const network: NetworkInfo = {
      networkId: NETWORK_ID,
      neutronNetworkId: NET,
      projectId: 'project-1',
      mtu: 1450,
      subnets: [subnetFixture({ id: 'subnet-a', network_id: NET, cidr: '10.66.0.0/24', gateway_ip: '10.66.0.1' }) as never],
      adopted: false,
      internal: false,
      features: features({ floatingNetworkId: 'ext-1' }),
    };
    ctx.networks.set(NETWORK_ID, network);
    ctx.addressPorts.set(addressKey(NET, IP), basePort);
  });

  function request(options: Record<string, unknown>): CreateEndpoint {
    return { NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID, Interface: { Address: `${IP}/24`, AddressIPv6: '', MacAddress: basePort.mac_address }, Options: options };
  }

  const fwaasLookups = [
    { method: 'GET' as const, path: '/v2.0/extensions', reply: { body: { extensions: [{ alias: 'fwaas_v2', name: 'Firewall as a Service v2' }] } } },
    { method: 'GET' as const, path: '/v2.0/fwaas/firewall_groups?name=fw', reply: { body: { firewall_groups: [{ id: 'fwg-1', name: 'fw', project_id: 'project-1', ports: [] }] } } },
  ];
  const floatingIp = {
    method: 'POST' as const,
    path: '/v2.0/floatingips',
    reply: (call: HttpRequest) => {
      assert.deepEqual(requestBody<{ floatingip: Record<string, unknown> }>(call).floatingip, {
        floating_network_id: 'ext-1',
        port_id: PORT_ID,
        fixed_ip_address: IP,
        description: `kuryr-ts floating IP of port ${PORT_ID}`,
      });
      const body = { id: 'fip-1', floating_ip_address: '10.69.0.7', floating_network_id: 'ext-1', port_id: PORT_ID, fixed_ip_address: IP, status: 'DOWN', project_id: 'project-1' };
      return { status: 201, body: { floatingip: body } };
    },
  };

  it('creates and releases floating IP and firewall group', async () => {
    transport.expect(
      ...fwaasLookups,
      floatingIp,
      { method: 'GET', path: '/v2.0/fwaas/firewall_groups/fwg-1', reply: { body: { firewall_group: { id: 'fwg-1', name: 'fw', project_id: 'project-1', ports: ['other'] } } } },
      {
        method: 'PUT',
        path: '/v2.0/fwaas/firewall_groups/fwg-1',
        reply: (call) => {
          assert.deepEqual(requestBody<unknown>(call), { firewall_group: { ports: ['other', PORT_ID] } });
          return { body: { firewall_group: { id: 'fwg-1', name: 'fw', project_id: 'project-1', ports: ['other', PORT_ID] } } };
        },
      },
      {
        method: 'PUT',
        path: `/v2.0/ports/${PORT_ID}/tags`,
        reply: (call) => {
          assert.deepEqual(requestBody<{ tags: string[] }>(call).tags, [...ENDPOINT_TAGS, 'kuryr.fip:fip-1', 'kuryr.fwg:fwg-1']);
          return { body: { tags: [] } };
        },
      },
    );
    await createEndpoint(ctx, request({ 'neutron.firewall_group': 'fw' }));
    transport.assertDone();
    assert.deepEqual(binder.calls, [`bind ${PORT_ID}`]);

    transport.expect(
      { method: 'DELETE', path: '/v2.0/floatingips/fip-1', reply: { status: 204 } },
      { method: 'GET', path: '/v2.0/fwaas/firewall_groups/fwg-1', reply: { body: { firewall_group: { id: 'fwg-1', name: 'fw', project_id: 'project-1', ports: ['other', PORT_ID] } } } },
      {
        method: 'PUT',
        path: '/v2.0/fwaas/firewall_groups/fwg-1',
        reply: (call) => {
          assert.deepEqual(requestBody<unknown>(call), { firewall_group: { ports: ['other'] } });
          return { body: { firewall_group: { id: 'fwg-1', name: 'fw', project_id: 'project-1', ports: ['other'] } } };
        },
      },
    );
    await deleteEndpoint(ctx, { NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID });
    transport.assertDone();
    assert.deepEqual(binder.calls, [`bind ${PORT_ID}`, `unbind ${PORT_ID}`]);
  });

  it('deletes floating IP when a later step fails', async () => {
    transport.expect(
      ...fwaasLookups,
      floatingIp,
      { method: 'GET', path: '/v2.0/fwaas/firewall_groups/fwg-1', reply: { body: { firewall_group: { id: 'fwg-1', name: 'fw', project_id: 'project-1', ports: [] } } } },
      { method: 'PUT', path: '/v2.0/fwaas/firewall_groups/fwg-1', reply: neutronFault(409, 'FirewallGroupInPendingState', 'Firewall group fwg-1 is in PENDING_UPDATE') },
      { method: 'DELETE', path: '/v2.0/floatingips/fip-1', reply: { status: 204 } },
    );
    await assert.rejects(createEndpoint(ctx, request({ 'neutron.firewall_group': 'fw' })), { message: /PENDING_UPDATE/ });
    transport.assertDone();
    assert.deepEqual(binder.calls, []);
  });

  it('explains a floating IP without router', async () => {
    transport.expect({
      method: 'POST',
      path: '/v2.0/floatingips',
      reply: neutronFault(404, 'ExternalGatewayForFloatingIPNotFound', 'External network ext-1 is not reachable from subnet subnet-a'),
    });
    await assert.rejects(createEndpoint(ctx, request({})), {
      code: 'CONFLICT',
      message:
        `no router connects subnet "subnet-a" to external network "ext-1", so no floating IP can reach ${IP}: ` +
        'create the Docker network with -o neutron.router=<a router whose gateway is on that network>',
    });
    transport.assertDone();
  });

  it('reports missing FWaaS', async () => {
    transport.expect({ method: 'GET', path: '/v2.0/extensions', reply: { body: { extensions: [{ alias: 'router', name: 'Neutron L3 Router' }] } } });
    await assert.rejects(createEndpoint(ctx, request({ 'neutron.firewall_group': 'fw' })), {
      code: 'INVALID_OPTION',
      message:
        '--driver-opt neutron.firewall_group needs the Neutron FWaaS v2 API (extension "fwaas_v2"), which this Neutron server does not offer: ' +
        'install neutron-fwaas and enable its firewall_v2 service plugin, or drop the option',
    });
    transport.assertDone();
  });

  it('reads network groups after restart', async () => {
    ctx.networks.clear();
    const lh = `kuryr.net.uuid.lh:${'d'.repeat(32)}`;
    const uh = `kuryr.net.uuid.uh:${'d'.repeat(32)}`;
    transport.expect(
      {
        method: 'GET',
        path: `/v2.0/networks?tags=${encodeURIComponent(lh)},${encodeURIComponent(uh)}`,
        reply: { body: { networks: [networkFixture({ id: NET, tags: [lh, uh, 'kuryr.sg:sg-net', 'kuryr.sg.mode:replace'] })] } },
      },
      { method: 'GET', path: `/v2.0/subnets?network_id=${NET}`, reply: { body: { subnets: [subnetFixture({ id: 'subnet-a', network_id: NET, cidr: '10.66.0.0/24' })] } } },
      {
        method: 'PUT',
        path: `/v2.0/ports/${PORT_ID}`,
        reply: (call) => {
          assert.deepEqual(requestBody<unknown>(call), { port: { security_groups: ['sg-net'] } });
          return { body: { port: { ...basePort, security_groups: ['sg-net'] } } };
        },
      },
      { method: 'PUT', path: `/v2.0/ports/${PORT_ID}/tags`, reply: { body: { tags: [] } } },
    );
    await createEndpoint(ctx, request({}));
    transport.assertDone();
  });

  it('rejects bad driver option before Neutron', async () => {
    await assert.rejects(createEndpoint(ctx, request({ 'neutron.port_security': 'off' })), {
      code: 'INVALID_OPTION',
      message: 'invalid --driver-opt neutron.port_security "off": expected true or false',
    });
    transport.assertDone();
  });
});
