/**
 * DeleteNetwork after a crash left ports on the network, against a fake
 * Neutron: the leftover ports of this host go first, then the network.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpenStackHttpError } from '../errors.js';
import { FakeTransport, neutronFault, portFixture } from '../neutron/test-support.js';
import type { NetworkInfo } from './context.js';
import { deleteNetworkAndLeftovers } from './leftover-ports.js';
import { newTestContext, RecordingBinder } from './test-support.js';

const NET_UUID = '3b4c5d6e-eeee-4f70-8192-a3b4c5d6e7f8';
const network: NetworkInfo = { networkId: 'd'.repeat(64), neutronNetworkId: NET_UUID, projectId: 'p1', mtu: 1450, subnets: [], adopted: false, internal: false };
const inUse = neutronFault(409, 'NetworkInUse', `Unable to complete operation on network ${NET_UUID}. There are one or more ports still in use on the network`);
const listLeftovers = `/v2.0/ports?network_id=${NET_UUID}&device_owner=kuryr%3Acontainer&binding%3Ahost_id=docker-host-1`;

describe('deleteNetworkAndLeftovers', () => {
  it('deletes the network with one request', async () => {
    const transport = new FakeTransport([{ method: 'DELETE', path: `/v2.0/networks/${NET_UUID}`, reply: { status: 204 } }]);

    await deleteNetworkAndLeftovers(newTestContext(transport), network);

    transport.assertDone();
  });

  it('deletes leftover ports when the network is in use', async () => {
    const leftover = portFixture({ id: 'port-left', network_id: NET_UUID, 'binding:host_id': 'docker-host-1', tags: [] });
    const adopted = portFixture({ id: 'port-adopted', network_id: NET_UUID, 'binding:host_id': 'docker-host-1', tags: ['kuryr.port.existing'] });
    const transport = new FakeTransport([
      { method: 'DELETE', path: `/v2.0/networks/${NET_UUID}`, reply: inUse },
      { method: 'GET', path: listLeftovers, reply: { body: { ports: [leftover, adopted] } } },
      { method: 'DELETE', path: '/v2.0/ports/port-left', reply: { status: 204 } },
      { method: 'GET', path: '/v2.0/security-groups?name=kuryr-exposed-port-left&fields=id', reply: { body: { security_groups: [] } } },
      { method: 'DELETE', path: `/v2.0/networks/${NET_UUID}`, reply: { status: 204 } },
    ]);
    const binder = new RecordingBinder();

    await deleteNetworkAndLeftovers(newTestContext(transport, { binder }), network);

    assert.deepEqual(binder.calls, ['unbind port-left']);
    transport.assertDone();
  });

  it('rethrows when no leftover port explains the conflict', async () => {
    const transport = new FakeTransport([
      { method: 'DELETE', path: `/v2.0/networks/${NET_UUID}`, reply: inUse },
      { method: 'GET', path: listLeftovers, reply: { body: { ports: [] } } },
    ]);

    const error = await deleteNetworkAndLeftovers(newTestContext(transport), network).catch((rejection: unknown) => rejection);

    assert.ok(error instanceof OpenStackHttpError, `expected OpenStackHttpError, got ${String(error)}`);
    assert.equal(error.status, 409);
    transport.assertDone();
  });

  it('leaves ports alone in nested modes', async () => {
    const transport = new FakeTransport([{ method: 'DELETE', path: `/v2.0/networks/${NET_UUID}`, reply: inUse }]);

    await assert.rejects(deleteNetworkAndLeftovers(newTestContext(transport, { config: { hostName: '' } }), network), /returned HTTP 409/);
    transport.assertDone();
  });
});
