import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { KuryrError } from '../errors.js';
import type { HttpRequest } from '../neutron/transport.js';
import { FakeTransport, neutronFault, portFixture } from '../neutron/test-support.js';
import type { Port } from '../neutron/index.js';
import type { ServiceContext } from './context.js';
import { newTestContext } from './test-support.js';
import {
  deleteExposedPortsGroup,
  exposedPortRanges,
  programExternalConnectivity,
  revokeExternalConnectivity,
  type PortRange,
} from './exposed-ports.js';

const NETWORK_ID = '62c112064cbf927c954e5bc8fe09c168e3d3a8c09586e1aaa480bd95199eb536';
const ENDPOINT_ID = '4bb8fa2d5679855fa7d9fb0204679102ec29d7bdc0393a23aaa427c932b600e4';
const PORT_UUID = '9c8b7a6d-3333-4e4d-8a9b-4c5d6e7f8091';
const GROUP_UUID = '1f2e3d4c-4444-4b5a-9c8d-7e6f5a4b3c2d';
const DEFAULT_GROUP = 'sg-default';
const GROUP_NAME = `kuryr-exposed-${PORT_UUID}`;
const LIST_BY_NAME = `/v2.0/security-groups?name=${GROUP_NAME}`;
const LIST_BY_ENDPOINT = `/v2.0/security-groups?tags=kuryr.exposed,kuryr.net.uuid.lh%3A${ENDPOINT_ID.slice(0, 32)},kuryr.net.uuid.uh%3A${ENDPOINT_ID.slice(32)}&fields=id`;

const GROUP_TAGS = ['kuryr.exposed', `kuryr.net.uuid.lh:${ENDPOINT_ID.slice(0, 32)}`, `kuryr.net.uuid.uh:${ENDPOINT_ID.slice(32)}`];

const port = portFixture({ id: PORT_UUID, security_groups: [DEFAULT_GROUP], revision_number: 7, project_id: 'p1' });

function groupFixture(rules: Array<Record<string, unknown>> = []): Record<string, unknown> {
  return { id: GROUP_UUID, name: GROUP_NAME, description: '', project_id: 'p1', security_group_rules: rules, tags: GROUP_TAGS };
}

function ruleFixture(ethertype: string, protocol: string, min: number, max: number): Record<string, unknown> {
  return {
    id: `rule-${ethertype}-${protocol}-${min}`,
    security_group_id: GROUP_UUID,
    direction: 'ingress',
    ethertype,
    protocol,
    port_range_min: min,
    port_range_max: max,
    remote_ip_prefix: null,
    remote_group_id: null,
    project_id: 'p1',
  };
}

function jsonBody(request: HttpRequest): Record<string, unknown> {
  return JSON.parse(request.body ?? '{}') as Record<string, unknown>;
}

function request(options: Record<string, unknown>) {
  return { NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID, Options: options };
}

const EXPOSE_8080 = { 'com.docker.network.endpoint.exposedports': [{ Proto: 6, Port: 8080 }] };

describe('exposedPortRanges', () => {
  const cases: Array<{ name: string; exposed?: unknown; portMap?: unknown; expected: PortRange[] }> = [
    { name: 'no options', expected: [] },
    { name: 'null lists', exposed: null, portMap: null, expected: [] },
    { name: 'one tcp port', exposed: [{ Proto: 6, Port: 80 }], expected: [{ protocol: 'tcp', min: 80, max: 80 }] },
    {
      name: 'consecutive ports merged',
      exposed: [{ Proto: 17, Port: 1236 }, { Proto: 17, Port: 1234 }, { Proto: 17, Port: 1235 }, { Proto: 17, Port: 1238 }],
      expected: [
        { protocol: 'udp', min: 1234, max: 1236 },
        { protocol: 'udp', min: 1238, max: 1238 },
      ],
    },
    {
      name: 'protocols kept apart',
      exposed: [{ Proto: 6, Port: 53 }, { Proto: 17, Port: 54 }, { Proto: 132, Port: 55 }],
      expected: [
        { protocol: 'sctp', min: 55, max: 55 },
        { protocol: 'tcp', min: 53, max: 53 },
        { protocol: 'udp', min: 54, max: 54 },
      ],
    },
    {
      name: 'published ports added and deduplicated',
      exposed: [{ Proto: 6, Port: 9090 }, { Proto: 6, Port: 80 }, { Proto: 17, Port: 53 }],
      portMap: [
        { Proto: 6, IP: '', Port: 80, HostIP: '', HostPort: 8080, HostPortEnd: 8080 },
        { Proto: 6, IP: '', Port: 81, HostIP: '', HostPort: 0, HostPortEnd: 0 },
        { Proto: 17, IP: '', Port: 53, HostIP: '', HostPort: 5353, HostPortEnd: 5353 },
      ],
      expected: [
        { protocol: 'tcp', min: 80, max: 81 },
        { protocol: 'tcp', min: 9090, max: 9090 },
        { protocol: 'udp', min: 53, max: 53 },
      ],
    },
    { name: 'edges of the port space', exposed: [{ Proto: 6, Port: 65535 }, { Proto: 6, Port: 1 }], expected: [{ protocol: 'tcp', min: 1, max: 1 }, { protocol: 'tcp', min: 65535, max: 65535 }] },
  ];
  for (const testCase of cases) {
    it(`returns ranges for ${testCase.name}`, () => {
      const options: Record<string, unknown> = {};
      if (testCase.exposed !== undefined) options['com.docker.network.endpoint.exposedports'] = testCase.exposed;
      if (testCase.portMap !== undefined) options['com.docker.network.portmap'] = testCase.portMap;
      assert.deepEqual(exposedPortRanges(options), testCase.expected);
    });
  }

  const invalid: Array<{ name: string; options: Record<string, unknown>; message: RegExp }> = [
    { name: 'icmp', options: { 'com.docker.network.endpoint.exposedports': [{ Proto: 1, Port: 0 }] }, message: /unsupported protocol number 1: use tcp \(6\), udp \(17\) or sctp \(132\)/ },
    { name: 'unknown protocol in port map', options: { 'com.docker.network.portmap': [{ Proto: 33, Port: 80 }] }, message: /port 80 in option "com.docker.network.portmap" has unsupported protocol number 33/ },
    { name: 'port 0', options: { 'com.docker.network.endpoint.exposedports': [{ Proto: 6, Port: 0 }] }, message: /port 0\/tcp .* is invalid/ },
    { name: 'port above 65535', options: { 'com.docker.network.endpoint.exposedports': [{ Proto: 6, Port: 70000 }] }, message: /invalid option "com.docker.network.endpoint.exposedports": 0.Port/ },
    { name: 'not a list', options: { 'com.docker.network.portmap': 'tcp/80' }, message: /invalid option "com.docker.network.portmap"/ },
  ];
  for (const testCase of invalid) {
    it(`rejects ${testCase.name}`, () => {
      assert.throws(
        () => exposedPortRanges(testCase.options),
        (error: unknown) => error instanceof KuryrError && error.code === 'INVALID_REQUEST' && testCase.message.test(error.message),
      );
    });
  }
});

describe('exposed ports security group', () => {
  let transport: FakeTransport;
  let context: ServiceContext;

  beforeEach(() => {
    transport = new FakeTransport();
    context = newTestContext(transport);
    context.endpoints.set(ENDPOINT_ID, { endpointId: ENDPOINT_ID, networkId: NETWORK_ID, port: port as Port });
  });

  function expectGroupCreated(): void {
    transport.expect(
      { method: 'GET', path: `/v2.0/ports/${PORT_UUID}`, reply: { body: { port } } },
      { method: 'GET', path: LIST_BY_NAME, reply: { body: { security_groups: [] } } },
      {
        method: 'POST',
        path: '/v2.0/security-groups',
        reply: (sent) => {
          assert.deepEqual(jsonBody(sent), {
            security_group: { name: GROUP_NAME, description: `kuryr-ts exposed and published ports of Docker endpoint ${ENDPOINT_ID}`, project_id: 'p1' },
          });
          // Neutron adds egress rules to every new group, with a null description.
          const egress = ['IPv4', 'IPv6'].map((ethertype) => ({ ...ruleFixture(ethertype, 'tcp', 1, 1), direction: 'egress', protocol: null, port_range_min: null, port_range_max: null, description: null }));
          return { status: 201, body: { security_group: groupFixture(egress) } };
        },
      },
      {
        method: 'PUT',
        path: `/v2.0/security-groups/${GROUP_UUID}/tags`,
        reply: (sent) => {
          const tags = ['kuryr.exposed', `kuryr.net.uuid.lh:${ENDPOINT_ID.slice(0, 32)}`, `kuryr.net.uuid.uh:${ENDPOINT_ID.slice(32)}`];
          assert.deepEqual(jsonBody(sent), { tags });
          return { body: { tags } };
        },
      },
    );
  }

  function expectRule(ethertype: string, protocol: string, min: number, max: number): void {
    transport.expect({
      method: 'POST',
      path: '/v2.0/security-group-rules',
      reply: (sent) => {
        assert.deepEqual(jsonBody(sent), {
          security_group_rule: { security_group_id: GROUP_UUID, direction: 'ingress', ethertype, protocol, port_range_min: min, port_range_max: max, project_id: 'p1' },
        });
        return { status: 201, body: { security_group_rule: ruleFixture(ethertype, protocol, min, max) } };
      },
    });
  }

  function expectPortUpdate(revision: number, groups: string[], status = 200): void {
    transport.expect({
      method: 'PUT',
      path: `/v2.0/ports/${PORT_UUID}`,
      reply: (sent) => {
        assert.equal(sent.headers['If-Match'] ?? sent.headers['if-match'], `revision_number=${revision}`);
        assert.deepEqual(jsonBody(sent), { port: { security_groups: groups } });
        if (status !== 200) return neutronFault(status, 'PreconditionFailed', 'revision mismatch');
        return { body: { port: { ...port, security_groups: groups, revision_number: revision + 1 } } };
      },
    });
  }

  it('program creates group, rules and attaches it', async () => {
    expectGroupCreated();
    expectRule('IPv4', 'tcp', 8080, 8081);
    expectRule('IPv6', 'tcp', 8080, 8081);
    expectRule('IPv4', 'udp', 53, 53);
    expectRule('IPv6', 'udp', 53, 53);
    expectPortUpdate(7, [DEFAULT_GROUP, GROUP_UUID]);

    await programExternalConnectivity(
      context,
      request({
        'com.docker.network.endpoint.exposedports': [{ Proto: 6, Port: 8081 }, { Proto: 17, Port: 53 }],
        'com.docker.network.portmap': [{ Proto: 6, IP: '', Port: 8080, HostIP: '', HostPort: 80, HostPortEnd: 80 }],
      }),
    );
    transport.assertDone();
    assert.deepEqual(context.endpoints.get(ENDPOINT_ID)?.port.security_groups, [DEFAULT_GROUP, GROUP_UUID]);
  });

  it('program without ports makes no call', async () => {
    await programExternalConnectivity(context, request({ 'com.docker.network.endpoint.dnsservers': ['127.0.0.1'] }));
    transport.assertDone();
  });

  it('program rejects icmp before any call', async () => {
    await assert.rejects(
      programExternalConnectivity(context, request({ 'com.docker.network.endpoint.exposedports': [{ Proto: 1, Port: 8 }] })),
      (error: unknown) => error instanceof KuryrError && error.code === 'INVALID_REQUEST',
    );
    transport.assertDone();
  });

  it('program rolls back group when a rule fails', async () => {
    expectGroupCreated();
    expectRule('IPv4', 'tcp', 8080, 8080);
    transport.expect(
      { method: 'POST', path: '/v2.0/security-group-rules', reply: neutronFault(409, 'OverQuota', 'Quota exceeded for resources: security_group_rule.') },
      { method: 'DELETE', path: `/v2.0/security-groups/${GROUP_UUID}`, reply: { status: 204 } },
    );
    await assert.rejects(programExternalConnectivity(context, request(EXPOSE_8080)), /Quota exceeded/);
    transport.assertDone();
  });

  it('program rolls back group when the port update fails', async () => {
    expectGroupCreated();
    expectRule('IPv4', 'tcp', 8080, 8080);
    expectRule('IPv6', 'tcp', 8080, 8080);
    transport.expect(
      { method: 'PUT', path: `/v2.0/ports/${PORT_UUID}`, reply: neutronFault(400, 'BadRequest', 'port security disabled') },
      { method: 'DELETE', path: `/v2.0/security-groups/${GROUP_UUID}`, reply: { status: 204 } },
    );
    await assert.rejects(programExternalConnectivity(context, request(EXPOSE_8080)), /port security disabled/);
    transport.assertDone();
  });

  it('program deletes group after unreadable create reply', async () => {
    transport.expect(
      { method: 'GET', path: `/v2.0/ports/${PORT_UUID}`, reply: { body: { port } } },
      { method: 'GET', path: LIST_BY_NAME, reply: { body: { security_groups: [] } } },
      { method: 'POST', path: '/v2.0/security-groups', reply: { status: 201, body: { security_group: { id: GROUP_UUID } } } },
      { method: 'GET', path: `/v2.0/security-groups?name=${GROUP_NAME}&fields=id`, reply: { body: { security_groups: [{ id: GROUP_UUID }] } } },
      { method: 'DELETE', path: `/v2.0/security-groups/${GROUP_UUID}`, reply: { status: 204 } },
    );
    await assert.rejects(programExternalConnectivity(context, request(EXPOSE_8080)), /create security group failed: unexpected reply/);
    transport.assertDone();
  });

  it('program retries the port update once on 412', async () => {
    expectGroupCreated();
    expectRule('IPv4', 'tcp', 8080, 8080);
    expectRule('IPv6', 'tcp', 8080, 8080);
    expectPortUpdate(7, [DEFAULT_GROUP, GROUP_UUID], 412);
    transport.expect({ method: 'GET', path: `/v2.0/ports/${PORT_UUID}`, reply: { body: { port: { ...port, security_groups: [DEFAULT_GROUP, 'sg-operator'], revision_number: 9 } } } });
    expectPortUpdate(9, [DEFAULT_GROUP, 'sg-operator', GROUP_UUID]);

    await programExternalConnectivity(context, request(EXPOSE_8080));
    transport.assertDone();
  });

  it('program re-sent reuses the group', async () => {
    transport.expect(
      { method: 'GET', path: `/v2.0/ports/${PORT_UUID}`, reply: { body: { port: { ...port, security_groups: [DEFAULT_GROUP, GROUP_UUID] } } } },
      {
        method: 'GET',
        path: LIST_BY_NAME,
        reply: { body: { security_groups: [groupFixture([ruleFixture('IPv4', 'tcp', 8080, 8080), ruleFixture('IPv6', 'tcp', 8080, 8080)])] } },
      },
    );
    await programExternalConnectivity(context, request(EXPOSE_8080));
    transport.assertDone();
  });

  it('program re-sent completes a half-made group', async () => {
    transport.expect(
      { method: 'GET', path: `/v2.0/ports/${PORT_UUID}`, reply: { body: { port } } },
      { method: 'GET', path: LIST_BY_NAME, reply: { body: { security_groups: [groupFixture([ruleFixture('IPv4', 'tcp', 8080, 8080)])] } } },
    );
    expectRule('IPv6', 'tcp', 8080, 8080);
    expectPortUpdate(7, [DEFAULT_GROUP, GROUP_UUID]);
    await programExternalConnectivity(context, request(EXPOSE_8080));
    transport.assertDone();
  });

  it('program re-sent tags an untagged group', async () => {
    transport.expect(
      { method: 'GET', path: `/v2.0/ports/${PORT_UUID}`, reply: { body: { port } } },
      {
        method: 'GET',
        path: LIST_BY_NAME,
        reply: { body: { security_groups: [{ ...groupFixture([ruleFixture('IPv4', 'tcp', 8080, 8080), ruleFixture('IPv6', 'tcp', 8080, 8080)]), tags: [] }] } },
      },
      {
        method: 'PUT',
        path: `/v2.0/security-groups/${GROUP_UUID}/tags`,
        reply: (sent) => {
          assert.deepEqual(jsonBody(sent), { tags: GROUP_TAGS });
          return { body: { tags: GROUP_TAGS } };
        },
      },
    );
    expectPortUpdate(7, [DEFAULT_GROUP, GROUP_UUID]);
    await programExternalConnectivity(context, request(EXPOSE_8080));
    transport.assertDone();
  });

  it('program skips ports without port security', async () => {
    transport.expect({ method: 'GET', path: `/v2.0/ports/${PORT_UUID}`, reply: { body: { port: { ...port, port_security_enabled: false } } } });
    await programExternalConnectivity(context, request(EXPOSE_8080));
    transport.assertDone();
  });

  it('revoke detaches and deletes the group', async () => {
    transport.expect(
      { method: 'GET', path: LIST_BY_ENDPOINT, reply: { body: { security_groups: [{ id: GROUP_UUID }] } } },
      { method: 'GET', path: `/v2.0/ports/${PORT_UUID}`, reply: { body: { port: { ...port, security_groups: [DEFAULT_GROUP, GROUP_UUID], revision_number: 8 } } } },
    );
    expectPortUpdate(8, [DEFAULT_GROUP]);
    transport.expect({ method: 'DELETE', path: `/v2.0/security-groups/${GROUP_UUID}`, reply: { status: 204 } });

    await revokeExternalConnectivity(context, { NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID });
    transport.assertDone();
  });

  it('revoke after port deletion deletes the group', async () => {
    transport.expect(
      { method: 'GET', path: LIST_BY_ENDPOINT, reply: { body: { security_groups: [{ id: GROUP_UUID }] } } },
      { method: 'GET', path: `/v2.0/ports/${PORT_UUID}`, reply: neutronFault(404, 'PortNotFound', `Port ${PORT_UUID} could not be found.`) },
      { method: 'DELETE', path: `/v2.0/security-groups/${GROUP_UUID}`, reply: neutronFault(404, 'SecurityGroupNotFound', 'gone') },
    );
    await revokeExternalConnectivity(context, { NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID });
    transport.assertDone();
  });

  it('revoke without a group makes one lookup', async () => {
    transport.expect({ method: 'GET', path: LIST_BY_ENDPOINT, reply: { body: { security_groups: [] } } });
    await revokeExternalConnectivity(context, { NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID });
    transport.assertDone();
  });

  it('deleteExposedPortsGroup deletes the group of a deleted port', async () => {
    transport.expect(
      { method: 'GET', path: `${LIST_BY_NAME}&fields=id`, reply: { body: { security_groups: [{ id: GROUP_UUID }] } } },
      { method: 'DELETE', path: `/v2.0/security-groups/${GROUP_UUID}`, reply: { status: 204 } },
    );
    await deleteExposedPortsGroup(context, PORT_UUID);
    transport.assertDone();
  });
});
