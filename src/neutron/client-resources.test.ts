import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KuryrError, OpenStackHttpError } from '../errors.js';
import { networkFixture, neutronFault, portFixture, requestBody, setupClient, subnetFixture, subnetPoolFixture } from './test-support.js';
import type { ExpectedCall } from './test-support.js';

describe('NeutronClient list', () => {
  it('encodes filters and fields in the query', async () => {
    const path =
      '/v2.0/ports?network_id=net-1&fixed_ips=ip_address%3D10.0.0.5&fixed_ips=subnet_id%3Dsubnet-1' +
      '&tags=kuryr.net%3Aendpoint,x&fields=id&fields=name';
    const { client, transport } = setupClient([{ method: 'GET', path, reply: { body: { ports: [{ id: 'port-1', name: 'p' }] } } }]);

    const ports = await client.ports.list({
      network_id: 'net-1',
      fixed_ips: [{ ip_address: '10.0.0.5' }, { subnet_id: 'subnet-1' }],
      tags: ['kuryr.net:endpoint', 'x'],
      fields: ['id', 'name'],
    });

    assert.deepEqual(ports, [{ id: 'port-1', name: 'p' }]);
    transport.assertDone();
  });

  it('follows next links across three pages', async () => {
    const page = (ids: string[], next?: string): ExpectedCall['reply'] => ({
      body: {
        ports: ids.map((id) => portFixture({ id })),
        // Neutron builds links from its own host name, which may differ from the endpoint in use.
        ...(next === undefined ? {} : { ports_links: [{ rel: 'next', href: `http://controller:9696/v2.0/ports?${next}` }] }),
      },
    });
    const { client, transport } = setupClient([
      { method: 'GET', path: '/v2.0/ports?device_owner=kuryr%3Acontainer&limit=2', reply: page(['p1', 'p2'], 'device_owner=kuryr%3Acontainer&limit=2&marker=p2') },
      { method: 'GET', path: '/v2.0/ports?device_owner=kuryr%3Acontainer&limit=2&marker=p2', reply: page(['p3', 'p4'], 'device_owner=kuryr%3Acontainer&limit=2&marker=p4') },
      { method: 'GET', path: '/v2.0/ports?device_owner=kuryr%3Acontainer&limit=2&marker=p4', reply: page(['p5']) },
    ]);

    const ports = await client.ports.list({ device_owner: 'kuryr:container', limit: 2 });

    assert.deepEqual(
      ports.map((port) => port.id),
      ['p1', 'p2', 'p3', 'p4', 'p5'],
    );
    assert.ok(transport.calls.every((call) => call.url.startsWith('http://127.0.0.1:')), 'a request left the configured endpoint');
    transport.assertDone();
  });

  it('stops at the page bound', async () => {
    const next = { ports_links: [{ rel: 'next', href: 'http://127.0.0.1:9696/v2.0/ports?limit=1&marker=x' }] };
    const { client } = setupClient(
      [
        { method: 'GET', path: '/v2.0/ports?limit=1', reply: { body: { ports: [portFixture()], ...next } } },
        { method: 'GET', path: '/v2.0/ports?limit=1&marker=x', reply: { body: { ports: [portFixture()], ...next } } },
      ],
      { maxPages: 2 },
    );

    await assert.rejects(client.ports.list({ limit: 1 }), (error: unknown) => {
      assert.ok(error instanceof KuryrError, `expected KuryrError, got ${String(error)}`);
      assert.equal(error.code, 'NEUTRON_ERROR');
      assert.equal(error.message, 'list ports failed: more than 2 pages, so narrow the filters or raise the page size');
      return true;
    });
  });

  it('reports a malformed reply as NEUTRON_ERROR', async () => {
    const { client } = setupClient([{ method: 'GET', path: '/v2.0/networks', reply: { body: { networks: [{ id: 'net-1' }] } } }]);

    await assert.rejects(client.networks.list(), (error: unknown) => {
      assert.ok(error instanceof KuryrError, `expected KuryrError, got ${String(error)}`);
      assert.equal(error.code, 'NEUTRON_ERROR');
      assert.match(error.message, /^list networks failed: unexpected reply from GET http:\/\/127\.0\.0\.1:9696\/v2\.0\/networks: networks\.0\.name: /);
      return true;
    });
  });
});

describe('NeutronClient resource parsing', () => {
  it('coerces a string default_prefixlen and keeps unknown attributes', async () => {
    const pool = subnetPoolFixture({ default_prefixlen: '26', min_prefixlen: '8', max_prefixlen: 32, revision_number: 4, extra: 'kept' });
    const { client } = setupClient([{ method: 'GET', path: '/v2.0/subnetpools/pool-1', reply: { body: { subnetpool: pool } } }]);

    const found = await client.subnetpools.get('pool-1');

    assert.equal(found.default_prefixlen, 26);
    assert.equal(found.min_prefixlen, 8);
    assert.equal(found.max_prefixlen, 32);
    assert.equal((found as Record<string, unknown>).extra, 'kept');
  });

  it('accepts a port without admin-only and extension attributes', async () => {
    const port = portFixture();
    for (const key of ['binding:host_id', 'binding:vif_type', 'binding:vif_details', 'binding:vnic_type', 'binding:profile', 'tags', 'allowed_address_pairs']) {
      delete port[key];
    }
    const { client } = setupClient([{ method: 'GET', path: '/v2.0/ports/port-1', reply: { body: { port } } }]);

    const found = await client.ports.get('port-1');

    assert.equal(found['binding:host_id'], undefined);
    assert.deepEqual(found.tags, []);
    assert.deepEqual(found.allowed_address_pairs, []);
  });
});

describe('NeutronClient create and update', () => {
  it('creates a network with the body under its member key', async () => {
    const { client, transport } = setupClient([{ method: 'POST', path: '/v2.0/networks', reply: { status: 201, body: { network: networkFixture() } } }]);

    const network = await client.networks.create({ name: 'kuryr-net', admin_state_up: true });

    assert.equal(network.mtu, 1450);
    const [request] = transport.requestsTo('/v2.0/networks');
    assert.deepEqual(requestBody(request), { network: { name: 'kuryr-net', admin_state_up: true } });
    assert.equal(request?.headers['Content-Type'], 'application/json');
  });

  it('creates subnets in bulk', async () => {
    const replies = [subnetFixture({ id: 's4' }), subnetFixture({ id: 's6', ip_version: 6, cidr: 'fd00::/64', gateway_ip: null })];
    const { client, transport } = setupClient([{ method: 'POST', path: '/v2.0/subnets', reply: { status: 201, body: { subnets: replies } } }]);
    const bodies = [
      { network_id: 'net-1', ip_version: 4 as const, cidr: '10.0.0.0/24' },
      { network_id: 'net-1', ip_version: 6 as const, cidr: 'fd00::/64', gateway_ip: null },
    ];

    const subnets = await client.subnets.createBulk(bodies);

    assert.deepEqual(
      subnets.map((subnet) => subnet.id),
      ['s4', 's6'],
    );
    assert.equal(subnets[1]?.gateway_ip, null);
    assert.deepEqual(requestBody(transport.requestsTo('/v2.0/subnets')[0]), { subnets: bodies });
  });

  it('sends If-Match with the expected revision', async () => {
    const { client, transport } = setupClient([{ method: 'PUT', path: '/v2.0/ports/port-1', reply: { body: { port: portFixture({ revision_number: 8 }) } } }]);

    const port = await client.ports.update('port-1', { allowed_address_pairs: [{ ip_address: '10.0.0.9' }] }, { ifMatchRevision: 7 });

    assert.equal(port.revision_number, 8);
    const [request] = transport.requestsTo('/v2.0/ports/port-1');
    assert.equal(request?.headers['If-Match'], 'revision_number=7');
    assert.deepEqual(requestBody(request), { port: { allowed_address_pairs: [{ ip_address: '10.0.0.9' }] } });
  });

  it('reports a stale revision as CONFLICT', async () => {
    const { client } = setupClient([
      { method: 'PUT', path: '/v2.0/ports/port-1', reply: neutronFault(412, 'RevisionNumberConstraintFailed', 'Constrained to 7, but current revision is 8') },
    ]);

    await assert.rejects(client.ports.update('port-1', { name: 'x' }, { ifMatchRevision: 7 }), (error: unknown) => {
      assert.ok(error instanceof OpenStackHttpError, `expected OpenStackHttpError, got ${String(error)}`);
      assert.equal(error.code, 'CONFLICT');
      assert.equal(error.faultType, 'RevisionNumberConstraintFailed');
      return true;
    });
  });

  it('sends no If-Match without a revision', async () => {
    const { client, transport } = setupClient([{ method: 'PUT', path: '/v2.0/ports/port-1', reply: { body: { port: portFixture() } } }]);

    await client.ports.update('port-1', { name: 'x' });

    assert.equal(transport.requestsTo('/v2.0/ports/port-1')[0]?.headers['If-Match'], undefined);
  });
});

describe('NeutronClient errors', () => {
  it('reads the Neutron fault into the error', async () => {
    const { client } = setupClient([
      {
        method: 'DELETE',
        path: '/v2.0/subnetpools/pool-1',
        // Neutron 21 rejects deleting a subnet pool that still has subnets this way.
        reply: neutronFault(400, 'SubnetPoolDeleteError', 'Unable to delete subnet pool: Subnet pool has existing allocations.'),
      },
    ]);

    const error = await client.subnetpools.delete('pool-1').catch((rejection: unknown) => rejection);

    assert.ok(error instanceof OpenStackHttpError, `expected OpenStackHttpError, got ${String(error)}`);
    assert.equal(error.code, 'INVALID_REQUEST');
    assert.equal(error.status, 400);
    assert.equal(error.faultType, 'SubnetPoolDeleteError');
    assert.equal(error.method, 'DELETE');
    assert.equal(error.url, 'http://127.0.0.1:9696/v2.0/subnetpools/pool-1');
    assert.equal(
      error.message,
      'delete subnet pool "pool-1" failed: DELETE http://127.0.0.1:9696/v2.0/subnetpools/pool-1 returned HTTP 400: ' +
        'Unable to delete subnet pool: Subnet pool has existing allocations',
    );
  });

  it('reports IpAddressAlreadyAllocated on create', async () => {
    const { client } = setupClient([
      { method: 'POST', path: '/v2.0/ports', reply: neutronFault(409, 'IpAddressAlreadyAllocated', 'IP address 10.0.0.5 already allocated in subnet subnet-1') },
    ]);

    await assert.rejects(client.ports.create({ network_id: 'net-1', fixed_ips: [{ ip_address: '10.0.0.5' }] }), (error: unknown) => {
      assert.ok(error instanceof OpenStackHttpError, `expected OpenStackHttpError, got ${String(error)}`);
      assert.equal(error.faultType, 'IpAddressAlreadyAllocated');
      assert.equal(error.message, 'create port failed: POST http://127.0.0.1:9696/v2.0/ports returned HTTP 409: IP address 10.0.0.5 already allocated in subnet subnet-1');
      return true;
    });
  });
});

describe('NeutronClient delete', () => {
  const portNotFound: ExpectedCall = { method: 'DELETE', path: '/v2.0/ports/port-1', reply: neutronFault(404, 'PortNotFound', 'Port port-1 could not be found.') };

  it('ignores a missing resource when asked', async () => {
    const { client, transport } = setupClient([portNotFound]);

    await client.ports.delete('port-1', { ignoreNotFound: true });

    transport.assertDone();
  });

  it('reports a missing resource by default', async () => {
    const { client } = setupClient([portNotFound]);

    await assert.rejects(client.ports.delete('port-1'), (error: unknown) => error instanceof OpenStackHttpError && error.code === 'NOT_FOUND');
  });

  it('reports a wrong path even when asked to ignore', async () => {
    // Neutron's reply to a path it does not route, for example an endpoint without /v2.0.
    const { client } = setupClient([
      { method: 'DELETE', path: '/v2.0/ports/port-1', reply: neutronFault(404, 'HTTPNotFound', 'The resource could not be found.') },
    ]);

    await assert.rejects(client.ports.delete('port-1', { ignoreNotFound: true }), (error: unknown) => {
      assert.ok(error instanceof OpenStackHttpError, `expected OpenStackHttpError, got ${String(error)}`);
      assert.equal(error.faultType, 'HTTPNotFound');
      return true;
    });
  });

  it('reports a 404 without a Neutron fault even when asked to ignore', async () => {
    const { client } = setupClient([
      { method: 'DELETE', path: '/v2.0/ports/port-1', reply: { status: 404, body: '404 Not Found\n\nThe resource could not be found.\n\n' } },
    ]);

    await assert.rejects(client.ports.delete('port-1', { ignoreNotFound: true }), (error: unknown) => {
      assert.ok(error instanceof OpenStackHttpError, `expected OpenStackHttpError, got ${String(error)}`);
      assert.equal(error.status, 404);
      assert.match(error.message, /returned HTTP 404: 404 Not Found The resource could not be found$/);
      return true;
    });
  });
});

describe('NeutronClient tags', () => {
  it('replaces all tags in one request', async () => {
    const { client, transport } = setupClient([{ method: 'PUT', path: '/v2.0/networks/net-1/tags', reply: { body: { tags: ['a', 'b'] } } }]);

    assert.deepEqual(await client.replaceTags('networks', 'net-1', ['a', 'b']), ['a', 'b']);

    assert.deepEqual(requestBody(transport.requestsTo('/v2.0/networks/net-1/tags')[0]), { tags: ['a', 'b'] });
  });

  it('encodes a tag in the URL', async () => {
    const path = '/v2.0/ports/port-1/tags/kuryr.net%3Aendpoint%20%231%3F%25';
    const { client, transport } = setupClient([
      { method: 'PUT', path, reply: { status: 201 } },
      { method: 'DELETE', path, reply: { status: 204 } },
    ]);

    await client.addTag('ports', 'port-1', 'kuryr.net:endpoint #1?%');
    await client.removeTag('ports', 'port-1', 'kuryr.net:endpoint #1?%');

    transport.assertDone();
  });

  it('rejects a tag with a slash', async () => {
    const { client, transport } = setupClient([]);

    await assert.rejects(client.addTag('ports', 'port-1', 'a/b'), (error: unknown) => {
      assert.ok(error instanceof KuryrError, `expected KuryrError, got ${String(error)}`);
      assert.equal(error.code, 'INVALID_REQUEST');
      assert.equal(error.message, 'add tag "a/b" to port "port-1" failed: a tag with "/" cannot be addressed in a URL, so use replaceTags');
      return true;
    });
    await assert.rejects(client.removeTag('ports', 'port-1', 'a/b'), /remove tag "a\/b" from port "port-1" failed: a tag with "\/"/);
    assert.equal(transport.requestsTo('/v2.0/ports/port-1/tags/a%2Fb').length, 0);
  });

  it('ignores a missing tag when asked', async () => {
    const { client } = setupClient([
      { method: 'DELETE', path: '/v2.0/subnetpools/pool-1/tags/x', reply: neutronFault(404, 'TagNotFound', 'Tag x could not be found for subnetpool pool-1.') },
    ]);

    await client.removeTag('subnetpools', 'pool-1', 'x', { ignoreNotFound: true });
  });
});

describe('NeutronClient extensions and agents', () => {
  const extensions = {
    extensions: [
      { alias: 'revision-if-match', name: 'If-Match constraints based on revision_number', description: '' },
      { alias: 'tag-ext', name: 'Tag support' },
    ],
  };

  it('fetches the extension list once', async () => {
    const { client, transport } = setupClient([{ method: 'GET', path: '/v2.0/extensions', reply: { body: extensions } }]);

    assert.equal(await client.hasExtension('revision-if-match'), true);
    assert.equal(await client.hasExtension('trunk'), false);

    assert.equal(transport.requestsTo('/v2.0/extensions').length, 1);
    transport.assertDone();
  });

  it('fetches the extension list again after a failure', async () => {
    const { client, transport } = setupClient(
      [
        { method: 'GET', path: '/v2.0/extensions', reply: { status: 500, body: 'boom' } },
        { method: 'GET', path: '/v2.0/extensions', reply: { body: extensions } },
      ],
      { retry: { attempts: 1 } },
    );

    await assert.rejects(client.hasExtension('tag-ext'), OpenStackHttpError);
    assert.equal(await client.hasExtension('tag-ext'), true);

    transport.assertDone();
  });

  it('lists agents by filter', async () => {
    const agent = { id: 'a1', agent_type: 'Linux bridge agent', binary: 'neutron-linuxbridge-agent', host: 'node-1', alive: true, admin_state_up: true };
    const { client, transport } = setupClient([
      { method: 'GET', path: '/v2.0/agents?agent_type=Linux%20bridge%20agent&host=node-1', reply: { body: { agents: [agent] } } },
    ]);

    const agents = await client.agents.list({ agent_type: 'Linux bridge agent', host: 'node-1' });

    assert.equal(agents[0]?.alive, true);
    transport.assertDone();
  });

  it('creates and deletes a security group rule', async () => {
    const rule = {
      id: 'rule-1',
      security_group_id: 'sg-1',
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      port_range_min: 80,
      port_range_max: 80,
      remote_ip_prefix: null,
      remote_group_id: null,
      project_id: 'project-1',
    };
    const { client, transport } = setupClient([
      { method: 'POST', path: '/v2.0/security-group-rules', reply: { status: 201, body: { security_group_rule: rule } } },
      { method: 'DELETE', path: '/v2.0/security-group-rules/rule-1', reply: { status: 204 } },
    ]);

    const created = await client.securityGroupRules.create({ security_group_id: 'sg-1', direction: 'ingress', protocol: 'tcp', port_range_min: 80, port_range_max: 80 });
    await client.securityGroupRules.delete(created.id);

    assert.deepEqual(requestBody(transport.requestsTo('/v2.0/security-group-rules')[0]), {
      security_group_rule: { security_group_id: 'sg-1', direction: 'ingress', protocol: 'tcp', port_range_min: 80, port_range_max: 80 },
    });
    transport.assertDone();
  });
});
