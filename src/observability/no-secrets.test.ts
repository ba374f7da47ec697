/**
 * Drives a whole container life cycle through the plugin API, with a real
 * Keystone session and a trace-level logger, and checks that no captured log
 * line contains the password or a token. The fake Neutron below keeps
 * resources in memory and replies to any call the service makes, so the test
 * does not pin the exact Neutron call sequence (walkthrough.test.ts does).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { BoundInterface, PortBinder, PortBindingRequest } from '../binding/index.js';
import { vethNames } from '../binding/index.js';
import { KeystoneSession, NeutronClient } from '../neutron/index.js';
import type { HttpRequest, HttpResponse, HttpTransport } from '../neutron/index.js';
import { KEYSTONE_URL, tokenReply } from '../neutron/test-support.js';
import { dispatch } from '../protocol/index.js';
import { createDriverService, ServiceContext } from '../service/index.js';
import { createLogger } from './logger.js';

const PASSWORD = 'pw-9f3b2c1d-never-logged';
const TOKEN = 'gAAAAA-token-7e6d5c4b-never-logged';

type Item = Record<string, unknown>;

const SINGULAR: Record<string, string> = {
  networks: 'network',
  subnets: 'subnet',
  subnetpools: 'subnetpool',
  ports: 'port',
  'security-groups': 'security_group',
  'security-group-rules': 'security_group_rule',
};

/** Neutron in memory: lists filter by equality and by tags, creates fill in the fields Neutron adds. */
class InMemoryNeutron implements HttpTransport {
  readonly store = new Map<string, Map<string, Item>>();
  #nextHost = 2;

  async request(request: HttpRequest): Promise<HttpResponse> {
    const url = new URL(request.url);
    if (url.pathname.endsWith('/auth/tokens')) {
      const reply = tokenReply({ token: TOKEN, expiresAt: '2999-01-01T00:00:00Z', issuedAt: '2026-01-01T00:00:00Z' });
      return { status: 201, headers: { 'x-subject-token': TOKEN }, body: JSON.stringify(reply.body) };
    }
    const [, , collection = '', id, sub, tag] = url.pathname.split('/');
    if (collection === 'extensions') return json(200, { extensions: [{ alias: 'standard-attr-tag', name: 'tags' }, { alias: 'subnet_allocation', name: 'pools' }] });
    const items = this.#collection(collection);
    const key = SINGULAR[collection] ?? collection;
    const body = request.body === undefined ? {} : (JSON.parse(request.body) as Item);

    if (id === undefined) {
      if (request.method === 'GET') return json(200, { [collection.replace(/-/g, '_')]: [...items.values()].filter((item) => matches(item, url.searchParams)) });
      const plural = body[collection.replace(/-/g, '_')];
      if (Array.isArray(plural)) return json(201, { [collection]: plural.map((entry) => this.#create(collection, entry as Item)) });
      return json(201, { [key]: this.#create(collection, body[key] as Item) });
    }
    const item = items.get(id);
    if (item === undefined) return json(404, { NeutronError: { type: 'NotFound', message: `${key} ${id} not found`, detail: '' } });
    if (sub === 'tags') {
      const tags = new Set(item.tags as string[]);
      if (request.method === 'PUT' && tag === undefined) item.tags = body.tags;
      else if (request.method === 'PUT' && tag !== undefined) item.tags = [...tags.add(decodeURIComponent(tag))];
      else if (request.method === 'DELETE' && tag !== undefined) item.tags = [...tags].filter((value) => value !== decodeURIComponent(tag));
      return json(request.method === 'DELETE' ? 204 : 200, { tags: item.tags });
    }
    if (request.method === 'DELETE') {
      items.delete(id);
      return { status: 204, headers: {}, body: '' };
    }
    if (request.method === 'PUT') Object.assign(item, body[key]);
    return json(200, { [key]: item });
  }

  #collection(name: string): Map<string, Item> {
    let items = this.store.get(name);
    if (items === undefined) {
      items = new Map();
      this.store.set(name, items);
    }
    return items;
  }

  #create(collection: string, fields: Item): Item {
    const common = { id: randomUUID(), name: '', tags: [], project_id: 'project-1', description: '', revision_number: 1 };
    const defaults: Record<string, Item> = {
      networks: { status: 'ACTIVE', admin_state_up: true, mtu: 1450, shared: false, subnets: [] },
      subnets: { gateway_ip: null, allocation_pools: [], host_routes: [], dns_nameservers: [], subnetpool_id: null, enable_dhcp: false, ip_version: 4 },
      subnetpools: { shared: false, ip_version: 4, default_prefixlen: 24, prefixes: [] },
      ports: {
        status: 'ACTIVE',
        admin_state_up: true,
        device_owner: '',
        device_id: '',
        mac_address: 'fa:16:3e:00:00:01',
        security_groups: [],
        'binding:vif_type': 'bridge',
      },
      'security-groups': { security_group_rules: [] },
      'security-group-rules': { direction: 'ingress', ethertype: 'IPv4', protocol: null, port_range_min: null, port_range_max: null, remote_ip_prefix: null, remote_group_id: null },
    };
    const item: Item = { ...common, ...defaults[collection], ...fields };
    if (collection === 'ports') item.fixed_ips = (fields.fixed_ips as Item[] | undefined ?? []).map((fixedIp) => ({ ip_address: `10.20.0.${this.#nextHost++}`, ...fixedIp }));
    if (collection === 'subnets') {
      const network = this.store.get('networks')?.get(String(item.network_id));
      if (network !== undefined) network.subnets = [...(network.subnets as string[]), item.id];
    }
    this.#collection(collection).set(String(item.id), item);
    return item;
  }
}

function json(status: number, body: unknown): HttpResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function matches(item: Item, query: URLSearchParams): boolean {
  for (const [name, value] of query) {
    if (name === 'fields' || name === 'limit' || name === 'marker') continue;
    if (name === 'tags') {
      if (!value.split(',').every((tag) => (item.tags as string[]).includes(tag))) return false;
    } else if (name === 'fixed_ips') {
      const [field = '', expected] = value.split('=');
      if (!(item.fixed_ips as Item[]).some((fixedIp) => String(fixedIp[field]) === expected)) return false;
    } else if (String(item[name]) !== value) {
      return false;
    }
  }
  return true;
}

class NullBinder implements PortBinder {
  async bind(request: PortBindingRequest): Promise<BoundInterface> {
    return vethNames(request.portId);
  }
  async unbind(): Promise<void> {}
}

describe('log lines of a container life cycle', () => {
  it('never contain the password or a token', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: 'trace', format: 'json', destination });
    const transport = new InMemoryNeutron();
    const session = new KeystoneSession({
      authUrl: KEYSTONE_URL,
      user: { name: 'kuryr', domain: { name: 'Default' } },
      password: PASSWORD,
      project: { name: 'service', domain: { name: 'Default' } },
      transport,
      logger,
    });
    const neutron = new NeutronClient({ tokens: session, transport, endpoint: { region: 'RegionOne' }, logger, sleep: async () => {} });
    const context = new ServiceContext(
      neutron,
      new NullBinder(),
      { hostName: 'docker-host-1', subnetPoolPrefix: 'kuryrPool', defaultSubnetPoolV4: 'kuryr', defaultSubnetPoolV6: 'kuryr6', enableDhcp: false, portActiveTimeoutMs: 1_000, portActivePollMs: 10 },
      logger,
    );
    const options = { service: createDriverService(context), logger, scope: 'local' as const };
    const networkId = 'a'.repeat(64);
    const endpointId = 'b'.repeat(64);
    const mac = '02:42:0a:14:00:05';
    const call = async (verb: string, body: Item): Promise<Item> => {
      const reply = await dispatch(verb, JSON.stringify(body), options);
      assert.equal(reply.status, 200, `${verb} failed: ${JSON.stringify(reply.body)}`);
      return reply.body;
    };

    const pool = await call('IpamDriver.RequestPool', { AddressSpace: '', Pool: '10.20.0.0/16', SubPool: '', Options: {}, V6: false });
    const poolId = String(pool.PoolID);
    await call('IpamDriver.RequestAddress', { PoolID: poolId, Address: '10.20.0.1', Options: { RequestAddressType: 'com.docker.network.gateway' } });
    await call('NetworkDriver.CreateNetwork', {
      NetworkID: networkId,
      Options: {},
      IPv4Data: [{ AddressSpace: '', Pool: '10.20.0.0/16', Gateway: '10.20.0.1/16', AuxAddresses: {} }],
      IPv6Data: [],
    });
    const address = await call('IpamDriver.RequestAddress', { PoolID: poolId, Address: '', Options: { 'com.docker.network.endpoint.macaddress': mac } });
    await call('NetworkDriver.CreateEndpoint', { NetworkID: networkId, EndpointID: endpointId, Interface: { Address: address.Address, AddressIPv6: '', MacAddress: mac }, Options: {} });
    await call('NetworkDriver.Join', { NetworkID: networkId, EndpointID: endpointId, SandboxKey: '/var/run/docker/netns/0123456789ab', Options: {} });
    await call('NetworkDriver.EndpointOperInfo', { NetworkID: networkId, EndpointID: endpointId });
    await call('NetworkDriver.Leave', { NetworkID: networkId, EndpointID: endpointId });
    await call('NetworkDriver.DeleteEndpoint', { NetworkID: networkId, EndpointID: endpointId });
    await call('IpamDriver.ReleaseAddress', { PoolID: poolId, Address: String(address.Address).split('/')[0] });
    await call('IpamDriver.ReleaseAddress', { PoolID: poolId, Address: '10.20.0.1' });
    await call('NetworkDriver.DeleteNetwork', { NetworkID: networkId });
    await call('IpamDriver.ReleasePool', { PoolID: poolId });

    const text = lines.join('');
    assert.ok(lines.length > 20, `expected a trace of the life cycle, got ${lines.length} lines`);
    assert.match(text, /keystone call/);
    assert.doesNotMatch(text, new RegExp(PASSWORD));
    assert.doesNotMatch(text, new RegExp(TOKEN));
  });
});
