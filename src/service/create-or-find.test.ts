/**
 * Creates whose reply is lost, against a fake Neutron: the resource is looked
 * up instead of created twice, and a clear failure is never retried.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KuryrError, OpenStackHttpError } from '../errors.js';
import type { Network, Port, Subnet, SubnetCreate } from '../neutron/index.js';
import { unreachableError } from '../neutron/transport.js';
import { FakeTransport, neutronFault, networkFixture, portFixture, subnetFixture } from '../neutron/test-support.js';
import type { ExpectedCall } from '../neutron/test-support.js';
import { createOrFind, findCreatedAddressPort, findCreatedNetwork, findCreatedSubnets, isAmbiguousFailure } from './create-or-find.js';
import { createDriverService } from './index.js';
import { newTestContext, RecordingBinder } from './test-support.js';

const DOCKER_NETWORK_ID = '3a5e0d6c9f1b4e2a8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b';
const MAC = '02:42:0a:46:00:07';
const SUBNET = subnetFixture({ id: 'subnet-1', network_id: 'net-1', cidr: '10.70.0.0/24' }) as unknown as Subnet;

const resetPost = (path: string): ExpectedCall => ({
  method: 'POST',
  path,
  error: unreachableError({ service: 'Neutron', url: `http://127.0.0.1:9696${path}`, timeoutMs: 10_000 }, new Error('read ECONNRESET')),
});

describe('isAmbiguousFailure', () => {
  const cases: [string, unknown, boolean][] = [
    ['no reply', new KuryrError('NEUTRON_UNREACHABLE', 'cannot reach Neutron'), true],
    ['502 from a proxy', httpError(502), true],
    ['503', httpError(503), true],
    ['500', httpError(500), true],
    ['501', httpError(501), false],
    ['409', httpError(409), false],
    ['400', httpError(400), false],
    ['Keystone down', new KuryrError('KEYSTONE_UNREACHABLE', 'cannot reach Keystone'), false],
  ];
  for (const [name, error, expected] of cases) {
    it(`classifies ${name}`, () => {
      assert.equal(isAmbiguousFailure(error), expected);
    });
  }
});

describe('createOrFind', () => {
  it('uses the port a lost create made', async () => {
    const made = portFixture({ id: 'port-lost', network_id: 'net-1', mac_address: MAC, fixed_ips: [{ subnet_id: 'subnet-1', ip_address: '10.70.0.7' }], tags: [] });
    const transport = new FakeTransport([
      resetPost('/v2.0/ports'),
      {
        method: 'GET',
        path: `/v2.0/ports?network_id=net-1&device_owner=kuryr%3Acontainer&mac_address=${encodeURIComponent(MAC)}`,
        reply: { body: { ports: [made] } },
      },
    ]);
    const ctx = newTestContext(transport);

    const port = await createOrFind(ctx, 'port', () => ctx.neutron.ports.create({ network_id: 'net-1' }), () => findCreatedAddressPort(ctx, SUBNET, '', MAC));

    assert.equal(port.id, 'port-lost');
    assert.equal(transport.requestsTo('/v2.0/ports').filter((request) => request.method === 'POST').length, 1);
    transport.assertDone();
  });

  it('rethrows when the lookup finds nothing', async () => {
    const transport = new FakeTransport([
      resetPost('/v2.0/ports'),
      { method: 'GET', path: '/v2.0/ports?network_id=net-1&device_owner=kuryr%3Acontainer&fixed_ips=subnet_id%3Dsubnet-1&fixed_ips=ip_address%3D10.70.0.9', reply: { body: { ports: [] } } },
    ]);
    const ctx = newTestContext(transport);

    const error = await createOrFind(ctx, 'port', () => ctx.neutron.ports.create({ network_id: 'net-1' }), () => findCreatedAddressPort(ctx, SUBNET, '10.70.0.9', undefined)).catch(
      (rejection: unknown) => rejection,
    );

    assert.ok(error instanceof KuryrError, `expected KuryrError, got ${String(error)}`);
    assert.equal(error.code, 'NEUTRON_UNREACHABLE');
    transport.assertDone();
  });

  it('skips a port an endpoint already claimed', async () => {
    const claimed = portFixture({ id: 'port-other', network_id: 'net-1', mac_address: MAC, tags: ['compute:kuryr', 'kuryr.net.uuid.lh:abc'], fixed_ips: [{ subnet_id: 'subnet-1', ip_address: '10.70.0.3' }] });
    const transport = new FakeTransport([
      { method: 'GET', path: `/v2.0/ports?network_id=net-1&device_owner=kuryr%3Acontainer&mac_address=${encodeURIComponent(MAC)}`, reply: { body: { ports: [claimed] } } },
    ]);
    const ctx = newTestContext(transport);

    assert.equal(await findCreatedAddressPort(ctx, SUBNET, '', MAC), undefined);
    transport.assertDone();
  });

  it('does not look up after a clear rejection', async () => {
    const transport = new FakeTransport([{ method: 'POST', path: '/v2.0/ports', reply: neutronFault(409, 'MacAddressInUse', 'Unable to complete operation for network net-1') }]);
    const ctx = newTestContext(transport);
    let lookups = 0;

    const error = await createOrFind(
      ctx,
      'port',
      () => ctx.neutron.ports.create({ network_id: 'net-1' }),
      async (): Promise<Port | undefined> => {
        lookups += 1;
        return undefined;
      },
    ).catch((rejection: unknown) => rejection);

    assert.ok(error instanceof OpenStackHttpError, `expected OpenStackHttpError, got ${String(error)}`);
    assert.equal(error.status, 409);
    assert.equal(lookups, 0);
    transport.assertDone();
  });

  it('uses the untagged network a lost create made', async () => {
    const name = `kuryr-net-${DOCKER_NETWORK_ID.slice(0, 8)}`;
    const transport = new FakeTransport([
      { method: 'POST', path: '/v2.0/networks', reply: { status: 502, body: '<html><body>502 Bad Gateway</body></html>' } },
      {
        method: 'GET',
        path: `/v2.0/networks?name=${name}`,
        reply: { body: { networks: [networkFixture({ id: 'net-old', name, tags: ['kuryr.net.uuid.lh:x'] }), networkFixture({ id: 'net-lost', name, tags: [] })] } },
      },
    ]);
    const ctx = newTestContext(transport);

    const network = await createOrFind(ctx, 'network', () => ctx.neutron.networks.create({ name }), () => findCreatedNetwork(ctx, DOCKER_NETWORK_ID));

    assert.equal((network as Network).id, 'net-lost');
    transport.assertDone();
  });

  it('uses the subnets a lost bulk create made', async () => {
    const bodies: SubnetCreate[] = [
      { network_id: 'net-1', name: 'kuryr-subnet-10.70.0.0/24', ip_version: 4, cidr: '10.70.0.0/24', enable_dhcp: false },
      { network_id: 'net-1', name: 'kuryr-subnet-fd70::/64', ip_version: 6, cidr: 'fd70::/64', enable_dhcp: false },
    ];
    const made = [
      subnetFixture({ id: 'subnet-4', name: 'kuryr-subnet-10.70.0.0/24', cidr: '10.70.0.0/24' }),
      subnetFixture({ id: 'subnet-6', name: 'kuryr-subnet-fd70::/64', cidr: 'fd70::/64', ip_version: 6, gateway_ip: 'fd70::1' }),
    ];
    const transport = new FakeTransport([resetPost('/v2.0/subnets'), { method: 'GET', path: '/v2.0/subnets?network_id=net-1', reply: { body: { subnets: made } } }]);
    const ctx = newTestContext(transport);

    const subnets = await createOrFind(ctx, 'subnets', () => ctx.neutron.subnets.createBulk(bodies), () => findCreatedSubnets(ctx, 'net-1', bodies));

    assert.deepEqual(
      subnets.map((subnet) => subnet.id),
      ['subnet-4', 'subnet-6'],
    );
    transport.assertDone();
  });

  it('rethrows when only some subnets exist', async () => {
    const bodies: SubnetCreate[] = [
      { network_id: 'net-1', name: 'kuryr-subnet-10.70.0.0/24', ip_version: 4, cidr: '10.70.0.0/24', enable_dhcp: false },
      { network_id: 'net-1', name: 'kuryr-subnet-fd70::/64', ip_version: 6, cidr: 'fd70::/64', enable_dhcp: false },
    ];
    const transport = new FakeTransport([
      resetPost('/v2.0/subnets'),
      { method: 'GET', path: '/v2.0/subnets?network_id=net-1', reply: { body: { subnets: [subnetFixture({ name: 'kuryr-subnet-10.70.0.0/24', cidr: '10.70.0.0/24' })] } } },
    ]);
    const ctx = newTestContext(transport);

    await assert.rejects(
      createOrFind(ctx, 'subnets', () => ctx.neutron.subnets.createBulk(bodies), () => findCreatedSubnets(ctx, 'net-1', bodies)),
      (error: unknown) => error instanceof KuryrError && error.code === 'NEUTRON_UNREACHABLE',
    );
    transport.assertDone();
  });

  it('rethrows the create error when the lookup fails', async () => {
    const transport = new FakeTransport([resetPost('/v2.0/networks')]);
    const ctx = newTestContext(transport);

    await assert.rejects(
      createOrFind(
        ctx,
        'network',
        () => ctx.neutron.networks.create({ name: 'kuryr-net-x' }),
        async (): Promise<Network | undefined> => {
          throw new KuryrError('NEUTRON_UNREACHABLE', 'lookup failed too');
        },
      ),
      /cannot reach Neutron at "http:\/\/127\.0\.0\.1:9696\/v2\.0\/networks": read ECONNRESET/,
    );
    transport.assertDone();
  });
});

describe('CreateEndpoint with another IPAM driver', () => {
  it('uses the port a lost create made', async () => {
    const endpointId = 'e'.repeat(64);
    const made = portFixture({ id: 'port-lost', network_id: 'net-1', device_id: endpointId, fixed_ips: [{ subnet_id: 'subnet-1', ip_address: '10.70.0.7' }] });
    const transport = new FakeTransport([
      { method: 'GET', path: '/v2.0/ports?network_id=net-1&fixed_ips=ip_address%3D10.70.0.7', reply: { body: { ports: [] } } },
      resetPost('/v2.0/ports'),
      { method: 'GET', path: `/v2.0/ports?network_id=net-1&device_id=${endpointId}`, reply: { body: { ports: [made] } } },
      { method: 'PUT', path: '/v2.0/ports/port-lost/tags', reply: { body: { tags: [] } } },
    ]);
    const binder = new RecordingBinder();
    const ctx = newTestContext(transport, { binder });
    ctx.networks.set(DOCKER_NETWORK_ID, { networkId: DOCKER_NETWORK_ID, neutronNetworkId: 'net-1', projectId: 'p1', mtu: 1450, subnets: [SUBNET], adopted: false, internal: false });

    await createDriverService(ctx).createEndpoint({
      NetworkID: DOCKER_NETWORK_ID,
      EndpointID: endpointId,
      Interface: { Address: '10.70.0.7/24', AddressIPv6: '', MacAddress: '' },
      Options: {},
    });

    assert.deepEqual(binder.calls, ['bind port-lost']);
    assert.equal(transport.calls.filter((call) => call.method === 'POST').length, 1);
    transport.assertDone();
  });
});

function httpError(status: number): OpenStackHttpError {
  return new OpenStackHttpError({ status, method: 'POST', url: 'http://127.0.0.1:9696/v2.0/ports', serverMessage: 'failed' });
}
