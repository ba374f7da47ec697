/**
 * A corpus of malformed and hostile plugin requests sent straight to the
 * running daemon's socket. Each must get a clear 4xx or Err reply, the
 * daemon must keep serving, and Neutron must be unchanged afterwards.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { neutronGet } from '../support/lab.js';

const SOCKET = '/run/docker/plugins/kuryr.sock';
const NETWORK_ID = 'a'.repeat(64);
const ENDPOINT_ID = 'b'.repeat(64);

function post(path: string, body: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: SOCKET, path, method: 'POST', headers: { 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function neutronSnapshot(): Promise<string> {
  const networks = await neutronGet<{ networks: Array<{ id: string }> }>('/networks?fields=id');
  const subnets = await neutronGet<{ subnets: Array<{ id: string }> }>('/subnets?fields=id');
  const pools = await neutronGet<{ subnetpools: Array<{ id: string }> }>('/subnetpools?fields=id');
  const ports = await neutronGet<{ ports: Array<{ id: string }> }>('/ports?fields=id');
  const ids = (items: Array<{ id: string }>): string[] => items.map((item) => item.id).sort();
  return JSON.stringify([ids(networks.networks), ids(subnets.subnets), ids(pools.subnetpools), ids(ports.ports)]);
}

const shell = '$(touch /tmp/kuryr-pwned); `id`; rm -rf / #';
const longName = 'x'.repeat(100_000);

const corpus: Array<[string, string, string]> = [
  ['malformed JSON', '/IpamDriver.RequestPool', '{"Pool": '],
  ['JSON array body', '/NetworkDriver.CreateNetwork', '[1,2,3]'],
  ['wrong type for V6', '/IpamDriver.RequestPool', JSON.stringify({ AddressSpace: '', Pool: '10.99.0.0/24', SubPool: '', V6: 'yes' })],
  ['CIDR prefix too long', '/IpamDriver.RequestPool', JSON.stringify({ AddressSpace: '', Pool: '10.99.0.0/33', SubPool: '', V6: false })],
  ['CIDR with host bits', '/IpamDriver.RequestPool', JSON.stringify({ AddressSpace: '', Pool: '10.99.0.1/24', SubPool: '', V6: false })],
  ['ip-range outside subnet', '/IpamDriver.RequestPool', JSON.stringify({ AddressSpace: '', Pool: '10.99.0.0/24', SubPool: '10.98.0.0/24', V6: false })],
  ['IPv6 pool flagged IPv4', '/IpamDriver.RequestPool', JSON.stringify({ AddressSpace: '', Pool: 'fd99::/64', SubPool: '', V6: false })],
  ['shell metacharacters in Pool', '/IpamDriver.RequestPool', JSON.stringify({ AddressSpace: '', Pool: shell, SubPool: '', V6: false })],
  ['invalid network id', '/NetworkDriver.CreateNetwork', JSON.stringify({ NetworkID: '../../etc/passwd', IPv4Data: [], IPv6Data: [] })],
  ['invalid MAC', '/NetworkDriver.CreateEndpoint', JSON.stringify({ NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID, Interface: { Address: '10.99.0.2/24', MacAddress: 'zz:zz:zz:zz:zz:zz' }, Options: {} })],
  ['shell metacharacters in MAC', '/NetworkDriver.CreateEndpoint', JSON.stringify({ NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID, Interface: { Address: '10.99.0.2/24', MacAddress: shell }, Options: {} })],
  ['invalid address', '/IpamDriver.RequestAddress', JSON.stringify({ PoolID: '7a1f0c1e-5d0e-4a59-9a61-1f2d3c4b5a60', Address: '10.99.0.999', Options: {} })],
  ['PoolID with spaces', '/IpamDriver.ReleasePool', JSON.stringify({ PoolID: shell })],
  ['very long PoolID', '/IpamDriver.ReleasePool', JSON.stringify({ PoolID: longName })],
  ['very long option value', '/NetworkDriver.CreateNetwork', JSON.stringify({ NetworkID: NETWORK_ID, IPv4Data: [{ AddressSpace: '', Pool: 'nope', Gateway: '' }], IPv6Data: [], Options: { 'com.docker.network.generic': { 'neutron.net.name': longName } } })],
  ['oversized body', '/IpamDriver.RequestPool', `{"Pool":"${'1'.repeat(2 * 1024 * 1024)}"}`],
  ['unknown verb', '/NetworkDriver.Explode', '{}'],
  ['Join for an unknown endpoint', '/NetworkDriver.Join', JSON.stringify({ NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID, SandboxKey: '/run/netns/x', Options: {} })],
];

describe('bad input', () => {
  it('gets a clear error for every corpus entry and changes nothing', async () => {
    const before = await neutronSnapshot();
    for (const [what, path, body] of corpus) {
      const reply = await post(path, body);
      assert.ok(reply.status >= 400, `${what}: expected an error status, got ${reply.status}`);
      assert.equal(typeof reply.body.Err, 'string', `${what}: the reply has no Err`);
      assert.ok(String(reply.body.Err).length > 10, `${what}: the error "${String(reply.body.Err)}" is not clear`);
      const alive = await post('/Plugin.Activate', '');
      assert.equal(alive.status, 200, `${what}: the daemon stopped serving`);
    }
    assert.equal(await neutronSnapshot(), before, 'Neutron changed');
  });

  it('rejects unknown Neutron names with 400', async () => {
    const cases: Array<[string, Record<string, string>]> = [
      ['security group', { 'neutron.security_groups': 'kuryr-e2e-no-such-group' }],
      ['existing network', { 'neutron.net.name': 'kuryr-e2e-no-such-network' }],
    ];
    for (const [what, options] of cases) {
      const body = { NetworkID: NETWORK_ID, IPv4Data: [{ AddressSpace: '', Pool: '10.99.0.0/24', Gateway: '10.99.0.1/24' }], IPv6Data: [], Options: { 'com.docker.network.generic': options } };

      const reply = await post('/NetworkDriver.CreateNetwork', JSON.stringify(body));

      assert.equal(reply.status, 400, `${what}: ${JSON.stringify(reply.body)}`);
      assert.match(String(reply.body.Err), /not found in Neutron: check the name, or pass its uuid/, what);
    }
  });
});
