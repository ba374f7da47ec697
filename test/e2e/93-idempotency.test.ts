/**
 * Every plugin verb sent twice, straight to a second kuryr daemon's socket,
 * in the order dockerd sends them for `docker network create`, `docker run`,
 * `docker rm` and `docker network rm`. The second send must succeed with the
 * same reply, create nothing in Neutron and no second device, and at the
 * end nothing the verbs created may remain.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { vethNames } from '../../src/binding/names.js';
import { KuryrInstance } from '../support/kuryr-instance.js';
import { countLeftovers, findLeftovers } from '../support/leaks.js';
import { eventually, labLinkNames } from '../support/lab.js';

const kuryr = new KuryrInstance({ name: 'kuryr-rel', config: { neutron: { vif_plugging_timeout: '30' } } });
const NETWORK_ID = randomBytes(32).toString('hex');
const ENDPOINT_ID = randomBytes(32).toString('hex');
const MAC = '02:42:0a:4e:00:09';
const CIDR = '10.78.0.0/24';

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

function post(verb: string, body: unknown): Promise<Reply> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const call = request(
      { socketPath: `/run/docker/plugins/${kuryr.name}.sock`, path: `/${verb}`, method: 'POST', headers: { 'Content-Length': Buffer.byteLength(text) }, timeout: 90_000 },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown> }));
      },
    );
    call.on('timeout', () => call.destroy(new Error(`${verb} got no reply within 90 s`)));
    call.on('error', reject);
    call.end(text);
  });
}

/** Sends the verb twice and checks that both replies succeed and are equal; returns the reply. */
async function twice(verb: string, body: unknown): Promise<Record<string, unknown>> {
  const first = await post(verb, body);
  assert.equal(first.status, 200, `${verb} failed: ${JSON.stringify(first.body)}`);
  const second = await post(verb, body);
  assert.equal(second.status, 200, `${verb} sent again failed: ${JSON.stringify(second.body)}`);
  assert.deepEqual(second.body, first.body, `${verb} sent again replied differently`);
  return first.body;
}

function createdCount(collection: string): number {
  return kuryr.neutron.created.get(collection)?.size ?? 0;
}

describe('verbs sent twice', () => {
  let poolId = '';
  let address = '';

  before(() => kuryr.setUp());
  after(() => kuryr.tearDown());

  it('creates the network once', async () => {
    const pool = await twice('IpamDriver.RequestPool', { AddressSpace: 'no_address_space', Pool: CIDR, SubPool: '', Options: {}, V6: false });
    poolId = String(pool.PoolID);
    const gateway = await twice('IpamDriver.RequestAddress', { PoolID: poolId, Address: '', Options: { RequestAddressType: 'com.docker.network.gateway' } });
    await twice('NetworkDriver.CreateNetwork', {
      NetworkID: NETWORK_ID,
      Options: { 'com.docker.network.enable_ipv6': false, 'com.docker.network.generic': {} },
      IPv4Data: [{ AddressSpace: 'no_address_space', Pool: CIDR, Gateway: gateway.Address, AuxAddresses: {} }],
      IPv6Data: [],
    });

    assert.equal(createdCount('subnetpools'), 1);
    assert.equal(createdCount('networks'), 1);
    assert.equal(createdCount('subnets'), 1);
  });

  it('creates the endpoint once', async () => {
    const reserved = await twice('IpamDriver.RequestAddress', { PoolID: poolId, Address: '', Options: { 'com.docker.network.endpoint.macaddress': MAC } });
    address = String(reserved.Address);
    await twice('NetworkDriver.CreateEndpoint', { NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID, Interface: { Address: address, AddressIPv6: '', MacAddress: MAC }, Options: {} });
    await twice('NetworkDriver.Join', { NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID, SandboxKey: '/var/run/docker/netns/rel-idem', Options: {} });
    const exposed = { 'com.docker.network.endpoint.exposedports': [{ Proto: 6, Port: 8080 }], 'com.docker.network.portmap': [] };
    await twice('NetworkDriver.ProgramExternalConnectivity', { NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID, Options: exposed });

    assert.equal(createdCount('ports'), 1);
    assert.equal(createdCount('security-groups'), 1);
    const portId = [...(kuryr.neutron.created.get('ports') ?? [])][0] ?? '';
    const links = await labLinkNames();
    assert.equal(links.filter((name) => name === vethNames(portId).hostIfName).length, 1);
  });

  it('removes the endpoint and network', async () => {
    await twice('NetworkDriver.RevokeExternalConnectivity', { NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID });
    await twice('NetworkDriver.Leave', { NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID });
    await twice('NetworkDriver.DeleteEndpoint', { NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID });
    await twice('IpamDriver.ReleaseAddress', { PoolID: poolId, Address: address.split('/')[0] });
    await twice('IpamDriver.ReleasePool', { PoolID: poolId });
    await twice('NetworkDriver.DeleteNetwork', { NetworkID: NETWORK_ID });

    const leftovers = await eventually('the created resources to be deleted', async () => {
      const found = await findLeftovers(kuryr.neutron.created);
      return countLeftovers(found) === 0 ? found : undefined;
    }, 30_000).catch(() => findLeftovers(kuryr.neutron.created));
    assert.deepEqual(leftovers, { neutron: { ports: [], subnets: [], networks: [], subnetpools: [], 'security-groups': [] }, devices: [] });
  });
});
