import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KuryrError } from '../../errors.js';
import { FakeRunner } from '../../host/fake-runner.js';
import { neutronFault, setupClient, trunkFixture } from '../../neutron/test-support.js';
import type { ExpectedCall } from '../../neutron/test-support.js';
import { CHILD, CONTAINER_MAC, LINK, PORT_ID, assertBindingFailed, expectLinkShow, expectVmPortLookup, request } from './test-support.js';
import { VlanBinder, lowestFreeVlanId } from './vlan.js';

const missingChild = { exitCode: 1, stderr: `Cannot find device "${CHILD}"\n` };

function subport(portId: string, segmentationId: number) {
  return { port_id: portId, segmentation_type: 'vlan', segmentation_id: segmentationId };
}

function setup(neutronCalls: ExpectedCall[]) {
  const runner = new FakeRunner();
  const { client, transport } = setupClient(neutronCalls);
  return { runner, transport, binder: new VlanBinder({ runner, neutron: client, linkIface: LINK }) };
}

const findTrunk: ExpectedCall = { method: 'GET', path: '/v2.0/trunks?port_id=vm-port', reply: { body: { trunks: [trunkFixture()] } } };

function readTrunk(subports: unknown[]): ExpectedCall {
  return { method: 'GET', path: '/v2.0/trunks/trunk-1', reply: { body: { trunk: trunkFixture({ sub_ports: subports }) } } };
}

function addSubport(segmentationId: number, reply?: ExpectedCall['reply']): ExpectedCall {
  return {
    method: 'PUT',
    path: '/v2.0/trunks/trunk-1/add_subports',
    reply:
      reply ??
      ((httpRequest) => {
        assert.deepEqual(JSON.parse(httpRequest.body ?? '{}'), { sub_ports: [subport(PORT_ID, segmentationId)] });
        return { body: trunkFixture({ sub_ports: [subport(PORT_ID, segmentationId)] }) };
      }),
  };
}

const removeSubport: ExpectedCall = { method: 'PUT', path: '/v2.0/trunks/trunk-1/remove_subports', reply: { body: trunkFixture() } };

function expectVlanChild(runner: FakeRunner, vlanId: number): FakeRunner {
  return runner
    .expect(['ip', 'link', 'delete', 'dev', CHILD], missingChild)
    .expect(['ip', 'link', 'add', 'link', LINK, 'name', CHILD, 'type', 'vlan', 'id', String(vlanId)])
    .expect(['ip', 'link', 'set', 'dev', CHILD, 'mtu', '1450'])
    .expect(['ip', 'link', 'set', 'dev', CHILD, 'address', CONTAINER_MAC])
    .expect(['ip', 'link', 'set', 'dev', CHILD, 'up']);
}

describe('VlanBinder.bind', () => {
  it('adds a subport with the lowest free VLAN id', async () => {
    const taken = [subport('a', 1), subport('b', 2), subport('c', 4)];
    const { runner, transport, binder } = setup([expectVmPortLookup(), findTrunk, readTrunk(taken), addSubport(3)]);
    expectVlanChild(expectLinkShow(runner), 3);

    const bound = await binder.bind(request());

    assert.deepEqual(bound, { hostIfName: LINK, containerIfName: CHILD });
    runner.assertDone();
    transport.assertDone();
  });

  it('re-reads the trunk after a duplicate VLAN id', async () => {
    const duplicate = neutronFault(409, 'DuplicateSubPort', 'segmentation_type vlan and segmentation_id 1 already in use on trunk trunk-1.');
    const { runner, transport, binder } = setup([
      expectVmPortLookup(),
      findTrunk,
      readTrunk([]),
      addSubport(1, duplicate),
      readTrunk([subport('other', 1)]),
      addSubport(2),
    ]);
    expectVlanChild(expectLinkShow(runner), 2);

    await binder.bind(request());

    runner.assertDone();
    transport.assertDone();
  });

  it('keeps the VLAN id of an existing subport', async () => {
    const { runner, transport, binder } = setup([expectVmPortLookup(), findTrunk, readTrunk([subport(PORT_ID, 7)])]);
    expectVlanChild(expectLinkShow(runner), 7);

    await binder.bind(request());

    runner.assertDone();
    transport.assertDone();
  });

  it('names 8021q and removes the subport when the kernel lacks it', async () => {
    const { runner, transport, binder } = setup([expectVmPortLookup(), findTrunk, readTrunk([]), addSubport(1), removeSubport]);
    expectLinkShow(runner)
      .expect(['ip', 'link', 'delete', 'dev', CHILD], missingChild)
      .expect(['ip', 'link', 'add', 'link', LINK, 'name', CHILD, 'type', 'vlan', 'id', '1'], { exitCode: 2, stderr: 'Error: Unknown device type.\n' });

    await assert.rejects(binder.bind(request()), (error: unknown) =>
      assertBindingFailed(error, `port "${PORT_ID}"`, 'trunk "trunk-1"', 'the kernel has no vlan support (module 8021q)', 'modprobe 8021q'),
    );
    runner.assertDone();
    transport.assertDone();
  });

  it('explains a VM port without a trunk', async () => {
    const { runner, transport, binder } = setup([expectVmPortLookup(), { ...findTrunk, reply: { body: { trunks: [] } } }]);
    expectLinkShow(runner);

    await assert.rejects(binder.bind(request()), (error: unknown) =>
      assertBindingFailed(error, 'VM port "vm-port"', 'is no trunk parent', 'openstack network trunk create --parent-port vm-port'),
    );
    runner.assertDone();
    transport.assertDone();
  });
});

describe('VlanBinder.unbind', () => {
  it('deletes the device and removes the subport', async () => {
    const { runner, transport, binder } = setup([expectVmPortLookup(), findTrunk, removeSubport]);
    runner.expect(['ip', 'link', 'delete', 'dev', CHILD]);
    expectLinkShow(runner);

    await binder.unbind(request());

    assert.deepEqual(JSON.parse(transport.requestsTo('/v2.0/trunks/trunk-1/remove_subports')[0]?.body ?? '{}'), { sub_ports: [{ port_id: PORT_ID }] });
    runner.assertDone();
    transport.assertDone();
  });

  it('succeeds when device and subport are gone', async () => {
    const notFound = neutronFault(404, 'SubPortNotFound', `SubPort ${PORT_ID} on trunk trunk-1 could not be found.`);
    const { runner, transport, binder } = setup([expectVmPortLookup(), findTrunk, { ...removeSubport, reply: notFound }]);
    runner.expect(['ip', 'link', 'delete', 'dev', CHILD], missingChild);
    expectLinkShow(runner);

    await binder.unbind(request());

    runner.assertDone();
    transport.assertDone();
  });
});

describe('lowestFreeVlanId', () => {
  it('skips taken ids', () => {
    assert.equal(lowestFreeVlanId({ id: 't', sub_ports: [subport('a', 1), subport('b', 3)] }), 2);
  });

  it('fails when all 4094 ids are taken', () => {
    const subports = Array.from({ length: 4094 }, (_, index) => subport(`p${index}`, index + 1));
    assert.throws(
      () => lowestFreeVlanId({ id: 't', sub_ports: subports }),
      (error: unknown) => error instanceof KuryrError && error.code === 'CONFLICT' && /no free VLAN id/.test(error.message),
    );
  });
});
