import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeRunner } from '../../host/fake-runner.js';
import { neutronFault, setupClient } from '../../neutron/test-support.js';
import type { ExpectedCall } from '../../neutron/test-support.js';
import { MacvlanBinder } from './macvlan.js';
import type { AddressBindingMode } from './macvlan.js';
import {
  CHILD,
  CONTAINER_MAC,
  LINK,
  LINK_MAC,
  PORT_ID,
  VM_PORT_ID,
  VmPortState,
  assertBindingFailed,
  expectLinkShow,
  expectVmPortLookup,
  request,
  vmPortFixture,
} from './test-support.js';

const missingChild = { exitCode: 1, stderr: `Cannot find device "${CHILD}"\n` };

function setup(mode: AddressBindingMode, neutronCalls: ExpectedCall[]) {
  const runner = new FakeRunner();
  const { client, transport } = setupClient(neutronCalls);
  const binder = new MacvlanBinder({ mode, runner, neutron: client, linkIface: LINK });
  return { runner, transport, binder };
}

function expectChild(runner: FakeRunner, mode: AddressBindingMode): FakeRunner {
  runner
    .expect(['ip', 'link', 'delete', 'dev', CHILD], missingChild)
    .expect(
      mode === 'macvlan'
        ? ['ip', 'link', 'add', CHILD, 'link', LINK, 'type', 'macvlan', 'mode', 'bridge']
        : ['ip', 'link', 'add', CHILD, 'link', LINK, 'type', 'ipvlan', 'mode', 'l2'],
    )
    .expect(['ip', 'link', 'set', 'dev', CHILD, 'mtu', '1450']);
  if (mode === 'macvlan') runner.expect(['ip', 'link', 'set', 'dev', CHILD, 'address', CONTAINER_MAC]);
  return runner.expect(['ip', 'link', 'set', 'dev', CHILD, 'up']);
}

describe('MacvlanBinder.bind', () => {
  it('creates a macvlan child and allows its IP and MAC', async () => {
    const vmPort = new VmPortState();
    const { runner, transport, binder } = setup('macvlan', [expectVmPortLookup(), vmPort.get(), vmPort.put()]);
    expectChild(expectLinkShow(runner), 'macvlan');

    const bound = await binder.bind(request({ fixedIps: ['10.72.0.5', 'fd72::5'] }));

    assert.deepEqual(bound, { hostIfName: LINK, containerIfName: CHILD });
    assert.deepEqual(vmPort.writes, [
      {
        ifMatch: 'revision_number=7',
        pairs: [
          { ip_address: '10.72.0.5', mac_address: CONTAINER_MAC },
          { ip_address: 'fd72::5', mac_address: CONTAINER_MAC },
        ],
      },
    ]);
    runner.assertDone();
    transport.assertDone();
  });

  it('allows ipvlan IPs with the VM port MAC', async () => {
    const vmPort = new VmPortState();
    const { runner, transport, binder } = setup('ipvlan', [expectVmPortLookup(), vmPort.get(), vmPort.put()]);
    expectChild(expectLinkShow(runner), 'ipvlan');

    await binder.bind(request());

    assert.deepEqual(vmPort.writes[0]?.pairs, [{ ip_address: '10.72.0.5', mac_address: LINK_MAC }]);
    runner.assertDone();
    transport.assertDone();
  });

  it('names the ipvlan module when the kernel lacks it', async () => {
    const { runner, transport, binder } = setup('ipvlan', [expectVmPortLookup()]);
    expectLinkShow(runner)
      .expect(['ip', 'link', 'delete', 'dev', CHILD], missingChild)
      .expect(['ip', 'link', 'add', CHILD, 'link', LINK, 'type', 'ipvlan', 'mode', 'l2'], { exitCode: 2, stderr: 'Error: Unknown device type.\n' });

    await assert.rejects(binder.bind(request()), (error: unknown) =>
      assertBindingFailed(error, `port "${PORT_ID}"`, 'the kernel has no ipvlan support (module ipvlan)', 'modprobe ipvlan'),
    );
    runner.assertDone();
    transport.assertDone();
  });

  it('keeps a concurrent writer pair after a 412', async () => {
    const vmPort = new VmPortState(vmPortFixture({ allowed_address_pairs: [{ ip_address: '10.72.0.9', mac_address: 'fa:16:3e:00:00:09' }] }));
    const firstGet = vmPort.get();
    const { runner, transport, binder } = setup('macvlan', [
      expectVmPortLookup(),
      {
        ...firstGet,
        // Another kuryr or an operator adds a pair right after our read.
        reply: async (httpRequest) => {
          const reply = typeof firstGet.reply === 'function' ? await firstGet.reply(httpRequest) : {};
          vmPort.changeBehindOurBack([
            { ip_address: '10.72.0.9', mac_address: 'fa:16:3e:00:00:09' },
            { ip_address: '10.72.0.10', mac_address: 'fa:16:3e:00:00:10' },
          ]);
          return reply;
        },
      },
      vmPort.put(),
      vmPort.get(),
      vmPort.put(),
    ]);
    expectChild(expectLinkShow(runner), 'macvlan');

    await binder.bind(request());

    assert.deepEqual(
      vmPort.writes.map((write) => write.ifMatch),
      ['revision_number=7', 'revision_number=8'],
    );
    assert.deepEqual(vmPort.port.allowed_address_pairs, [
      { ip_address: '10.72.0.9', mac_address: 'fa:16:3e:00:00:09' },
      { ip_address: '10.72.0.10', mac_address: 'fa:16:3e:00:00:10' },
      { ip_address: '10.72.0.5', mac_address: CONTAINER_MAC },
    ]);
    runner.assertDone();
    transport.assertDone();
  });

  it('deletes the child when the pair update fails', async () => {
    const vmPort = new VmPortState();
    const { runner, transport, binder } = setup('macvlan', [
      expectVmPortLookup(),
      vmPort.get(),
      { method: 'PUT', path: `/v2.0/ports/${VM_PORT_ID}`, reply: neutronFault(400, 'BadRequest', 'Port Security must be enabled in order to have allowed address pairs on a port.') },
    ]);
    expectChild(expectLinkShow(runner), 'macvlan').expect(['ip', 'link', 'delete', 'dev', CHILD]);

    await assert.rejects(binder.bind(request()), (error: unknown) => assertBindingFailed(error, 'Port Security must be enabled'));
    runner.assertDone();
    transport.assertDone();
  });

  it('rejects a port on another network before any device', async () => {
    const { runner, transport, binder } = setup('macvlan', [expectVmPortLookup(vmPortFixture({ network_id: 'vm-net' }))]);
    expectLinkShow(runner);

    await assert.rejects(binder.bind(request()), (error: unknown) =>
      assertBindingFailed(error, 'the VM port "vm-port" is on "vm-net"', "can only join the VM port's network", '-o neutron.net.uuid=vm-net'),
    );
    runner.assertDone();
    transport.assertDone();
  });

  it('rejects a port without fixed IPs', async () => {
    const { runner, binder } = setup('macvlan', []);
    await assert.rejects(binder.bind(request({ fixedIps: [] })), (error: unknown) => assertBindingFailed(error, 'no fixed IP'));
    assert.equal(runner.calls.length, 0);
  });

  it('explains a link_iface MAC that no port has', async () => {
    const { runner, binder } = setup('macvlan', [{ ...expectVmPortLookup(), reply: { body: { ports: [] } } }]);
    expectLinkShow(runner);
    await assert.rejects(binder.bind(request()), (error: unknown) =>
      assertBindingFailed(error, `no Neutron port has MAC address "${LINK_MAC}" of link_iface "${LINK}"`),
    );
  });

  it('looks the VM port up once', async () => {
    const vmPort = new VmPortState();
    const { runner, transport, binder } = setup('ipvlan', [expectVmPortLookup(), vmPort.get(), vmPort.put(), vmPort.get()]);
    expectChild(expectLinkShow(runner), 'ipvlan');
    expectChild(runner, 'ipvlan');

    await binder.bind(request());
    await binder.bind(request());

    assert.equal(vmPort.writes.length, 1, 'the second bind finds its pair present and writes nothing');
    runner.assertDone();
    transport.assertDone();
  });
});

describe('MacvlanBinder.unbind', () => {
  it('deletes the child and removes only its pairs', async () => {
    const other = { ip_address: '10.72.0.9', mac_address: 'fa:16:3e:00:00:09' };
    const vmPort = new VmPortState(vmPortFixture({ allowed_address_pairs: [other, { ip_address: '10.72.0.5', mac_address: CONTAINER_MAC }] }));
    const { runner, transport, binder } = setup('macvlan', [expectVmPortLookup(), vmPort.get(), vmPort.put()]);
    runner.expect(['ip', 'link', 'delete', 'dev', CHILD]);
    expectLinkShow(runner);

    await binder.unbind(request());

    assert.deepEqual(vmPort.writes, [{ ifMatch: 'revision_number=7', pairs: [other] }]);
    runner.assertDone();
    transport.assertDone();
  });

  it('succeeds when device and pairs are gone', async () => {
    const vmPort = new VmPortState();
    const { runner, transport, binder } = setup('macvlan', [expectVmPortLookup(), vmPort.get()]);
    runner.expect(['ip', 'link', 'delete', 'dev', CHILD], missingChild);
    expectLinkShow(runner);

    await binder.unbind(request());

    assert.deepEqual(vmPort.writes, []);
    runner.assertDone();
    transport.assertDone();
  });
});
