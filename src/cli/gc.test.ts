import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { networkObject, portObject, securityGroupObject, subnetObject, subnetPoolObject } from '../neutron/resources.js';
import { networkFixture, portFixture, setupClient, subnetFixture, subnetPoolFixture } from '../neutron/test-support.js';
import type { DockerNetwork } from './docker.js';
import { applyGc, planGc } from './gc.js';
import type { KuryrInventory } from './inventory.js';
import { formatStatus } from './status.js';

const LIVE_NET = 'a'.repeat(64);
const GONE_NET = 'b'.repeat(64);
const LIVE_EP = 'c'.repeat(64);
const GONE_EP = 'd'.repeat(64);
const tags = (id: string) => [`kuryr.net.uuid.lh:${id.slice(0, 32)}`, `kuryr.net.uuid.uh:${id.slice(32)}`];

const docker: DockerNetwork[] = [
  {
    networkId: LIVE_NET,
    name: 'live',
    driver: 'kuryr',
    subnets: ['10.1.0.0/24'],
    endpoints: [
      { endpointId: LIVE_EP, containerId: 'x', containerName: 'web', macAddress: '', addresses: ['10.1.0.5'] },
      { endpointId: 'e'.repeat(64), containerId: 'y', containerName: 'db', macAddress: '', addresses: ['10.1.0.6'] },
    ],
  },
];

function groupFixture(id: string, portId: string): Record<string, unknown> {
  return { id, name: `kuryr-exposed-${portId}`, description: '', project_id: 'project-1', security_group_rules: [], tags: ['kuryr.exposed'] };
}

function inventory(): KuryrInventory {
  return {
    networks: [
      networkObject.parse(networkFixture({ id: 'net-live', tags: tags(LIVE_NET) })),
      networkObject.parse(networkFixture({ id: 'net-gone', tags: tags(GONE_NET) })),
      networkObject.parse(networkFixture({ id: 'net-adopted', tags: [...tags('f'.repeat(64)), 'kuryr.net.existing:ffffffffffff'] })),
      // A create that stopped before its tag update.
      networkObject.parse(networkFixture({ id: 'net-untagged', name: 'kuryr-net-12345678', tags: [], subnets: [] })),
    ],
    subnets: [
      subnetObject.parse(subnetFixture({ id: 'subnet-live', network_id: 'net-live', name: 'kuryr-subnet-10.1.0.0/24', cidr: '10.1.0.0/24', subnetpool_id: 'pool-live' })),
      subnetObject.parse(subnetFixture({ id: 'subnet-gone', network_id: 'net-gone', name: 'kuryr-subnet-10.2.0.0/24', subnetpool_id: 'pool-gone' })),
      subnetObject.parse(subnetFixture({ id: 'subnet-adopted', network_id: 'net-adopted', name: 'kuryr-subnet-10.3.0.0/24', subnetpool_id: null })),
    ],
    pools: [
      subnetPoolObject.parse(subnetPoolFixture({ id: 'pool-live', name: 'kuryrPool-10.1.0.0/24', prefixes: ['10.1.0.0/24'] })),
      subnetPoolObject.parse(subnetPoolFixture({ id: 'pool-gone', name: 'kuryrPool-10.2.0.0/24', prefixes: ['10.2.0.0/24'] })),
    ],
    ports: [
      portObject.parse(portFixture({ id: '11111111-aaaa', network_id: 'net-live', tags: ['compute:kuryr', ...tags(LIVE_EP)] })),
      // Made by RequestAddress, not yet tagged by CreateEndpoint: its address is on a Docker endpoint.
      portObject.parse(portFixture({ id: '22222222-bbbb', network_id: 'net-live', tags: ['compute:kuryr'], fixed_ips: [{ subnet_id: 'subnet-live', ip_address: '10.1.0.6' }] })),
      portObject.parse(portFixture({ id: '33333333-cccc', network_id: 'net-live', tags: ['compute:kuryr', ...tags(GONE_EP)], fixed_ips: [{ subnet_id: 'subnet-live', ip_address: '10.1.0.9' }] })),
    ],
    hostPortIds: ['11111111-aaaa', '22222222-bbbb', '33333333-cccc', '44444444-dddd'],
    exposedGroups: [
      securityGroupObject.parse(groupFixture('sg-live', '11111111-aaaa')),
      securityGroupObject.parse(groupFixture('sg-orphan-port', '33333333-cccc')),
      securityGroupObject.parse(groupFixture('sg-gone', '55555555-eeee')),
    ],
    exposedGroupPortIds: ['11111111-aaaa', '33333333-cccc'],
  };
}

describe('planGc', () => {
  const taps = [{ ifName: 'tap11111111-aa' }, { ifName: 'tap33333333-cc' }, { ifName: 'tap44444444-dd' }, { ifName: 'tap99999999-99' }];
  const plan = planGc(inventory(), docker, taps);
  const ids = plan.map((leftover) => `${leftover.kind} ${leftover.id}`);

  it('lists exactly the leftovers in deletion order', () => {
    assert.deepEqual(ids, [
      'port 33333333-cccc',
      'tap tap33333333-cc',
      'tap tap99999999-99',
      'security-group sg-orphan-port',
      'security-group sg-gone',
      'subnet subnet-gone',
      'subnet subnet-adopted',
      'network net-gone',
      'network net-untagged',
      'pool pool-gone',
    ]);
  });

  it('keeps adopted networks', () => {
    assert.ok(!ids.includes('network net-adopted'));
  });

  it('keeps taps of non-kuryr ports on this host', () => {
    assert.ok(!ids.includes('tap tap44444444-dd'));
  });

  it('marks network-level leftovers as shared', () => {
    assert.deepEqual(
      plan.filter((leftover) => leftover.shared).map((leftover) => leftover.kind),
      ['subnet', 'subnet', 'network', 'network', 'pool'],
    );
  });

  it('finds nothing when Docker has everything', () => {
    const all: DockerNetwork[] = [
      ...docker,
      { networkId: GONE_NET, name: 'gone', driver: 'kuryr', subnets: ['10.2.0.0/24'], endpoints: [{ endpointId: GONE_EP, containerId: 'z', containerName: 'z', macAddress: '', addresses: [] }] },
      { networkId: 'f'.repeat(64), name: 'adopted', driver: 'kuryr', subnets: [], endpoints: [] },
    ];

    const complete = inventory();
    complete.networks = complete.networks.filter((network) => network.id !== 'net-untagged');
    complete.exposedGroups = complete.exposedGroups.filter((group) => group.id !== 'sg-gone');

    assert.deepEqual(planGc(complete, all, [{ ifName: 'tap11111111-aa' }]), []);
  });
});

describe('applyGc', () => {
  it('deletes in order and counts a missing one as deleted', async () => {
    const { client, transport } = setupClient([
      { method: 'DELETE', path: '/v2.0/ports/33333333-cccc', reply: { status: 204 } },
      { method: 'DELETE', path: '/v2.0/security-groups/sg-gone', reply: { status: 204 } },
      { method: 'DELETE', path: '/v2.0/subnets/subnet-gone', reply: { status: 404, body: { NeutronError: { type: 'SubnetNotFound', message: 'gone', detail: '' } } } },
    ]);
    const deletedLinks: string[] = [];
    const lines: string[] = [];

    const failures = await applyGc(
      [
        { kind: 'port', id: '33333333-cccc', description: '', shared: false },
        { kind: 'tap', id: 'tap33333333-cc', description: '', shared: false },
        { kind: 'security-group', id: 'sg-gone', description: '', shared: false },
        { kind: 'subnet', id: 'subnet-gone', description: '', shared: true },
      ],
      { neutron: client, deleteLink: async (ifName) => void deletedLinks.push(ifName) },
      (line) => lines.push(line),
    );

    assert.equal(failures, 0);
    assert.deepEqual(deletedLinks, ['tap33333333-cc']);
    assert.deepEqual(lines, ['deleted port 33333333-cccc', 'deleted tap tap33333333-cc', 'deleted security-group sg-gone', 'deleted subnet subnet-gone (already gone)']);
    transport.assertDone();
  });
});

describe('formatStatus', () => {
  it('puts endpoints next to their ports', () => {
    const text = formatStatus(docker, inventory());

    assert.match(text, /^network live aaaaaaaaaaaa: neutron network net-live/m);
    assert.match(text, /^ {2}subnet 10\.1\.0\.0\/24: subnet-live$/m);
    assert.match(text, /^ {2}endpoint cccccccccccc web 10\.1\.0\.5: port 11111111-aaaa DOWN tap11111111-aa$/m);
    assert.match(text, /^ {2}endpoint eeeeeeeeeeee db 10\.1\.0\.6: port 22222222-bbbb DOWN/m);
    assert.doesNotMatch(text, /MISSING/);
    assert.match(text, /^neutron network net-gone \(kuryr-net\): no Docker network on this host$/m);
  });
});
