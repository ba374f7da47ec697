import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KuryrError } from '../errors.js';
import { FakeRunner } from '../host/fake-runner.js';
import { OvsBinder, parseOvsVifDetails } from './ovs.js';
import type { PortBindingRequest } from './types.js';

const PORT_ID = '3f2b8c1e-9a47-4d2b-8e1f-6c5a4b3d2e10';
const ENDPOINT_ID = 'e4d2c1b0a9f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a2918070605';
const TAP = 'tap3f2b8c1e-9a';
const CONTAINER = 't_c3f2b8c1e-9a';
const QBR = 'qbr3f2b8c1e-9a';
const QVB = 'qvb3f2b8c1e-9a';
const QVO = 'qvo3f2b8c1e-9a';

function request(overrides: Partial<PortBindingRequest> = {}): PortBindingRequest {
  return {
    portId: PORT_ID,
    endpointId: ENDPOINT_ID,
    neutronNetworkId: '9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f',
    projectId: 'b1c2d3e4f5a64b7c8d9e0f1a2b3c4d5e',
    macAddress: 'FA:16:3E:12:34:56',
    mtu: 1450,
    vifType: 'ovs',
    vifDetails: { bridge_name: 'br-int', datapath_type: 'netdev', ovs_hybrid_plug: false, port_filter: true },
    ...overrides,
  };
}

const HYBRID = { bridge_name: 'br-int', ovs_hybrid_plug: true, port_filter: true };

function missing(ifName: string): { exitCode: number; stderr: string } {
  return { exitCode: 1, stderr: `Device "${ifName}" does not exist.\n` };
}

function cannotFind(ifName: string): { exitCode: number; stderr: string } {
  return { exitCode: 1, stderr: `Cannot find device "${ifName}"\n` };
}

function addPort(bridge: string, ifName: string): string[] {
  return [
    'ovs-vsctl', '--may-exist', 'add-port', bridge, ifName,
    '--', 'set', 'Interface', ifName,
    `external_ids:iface-id=${PORT_ID}`,
    'external_ids:iface-status=active',
    'external_ids:attached-mac=fa:16:3e:12:34:56',
    `external_ids:vm-uuid=${ENDPOINT_ID}`,
    'external_ids:owner=kuryr',
  ];
}

/** The commands that create and configure a fresh tap/t_c pair. */
function expectTap(runner: FakeRunner): FakeRunner {
  return runner
    .expect(['ip', '-json', '-details', 'link', 'show', 'dev', TAP], missing(TAP))
    .expect(['ip', '-json', 'link', 'show', 'dev', CONTAINER], missing(CONTAINER))
    .expect(['ip', 'link', 'add', TAP, 'type', 'veth', 'peer', 'name', CONTAINER])
    .expect(['ip', 'link', 'set', 'dev', TAP, 'mtu', '1450'])
    .expect(['ip', 'link', 'set', 'dev', CONTAINER, 'mtu', '1450'])
    .expect(['ip', 'link', 'set', 'dev', CONTAINER, 'address', 'fa:16:3e:12:34:56'])
    .expect(['ip', 'link', 'set', 'dev', TAP, 'up'])
    .expect(['ip', 'link', 'set', 'dev', CONTAINER, 'up']);
}

/** The commands of a fresh hybrid plug after the tap pair exists, up to the OVS port. */
function expectHybridDevices(runner: FakeRunner): FakeRunner {
  return runner
    .expect(['ip', '-json', '-details', 'link', 'show', 'dev', QBR], missing(QBR))
    .expect(['ip', 'link', 'add', QBR, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0'])
    .expect(['ip', 'link', 'set', 'dev', QBR, 'mtu', '1450'])
    .expect(['ip', 'link', 'set', 'dev', QBR, 'up'])
    .expect(['ip', '-json', '-details', 'link', 'show', 'dev', QVB], missing(QVB))
    .expect(['ip', '-json', 'link', 'show', 'dev', QVO], missing(QVO))
    .expect(['ip', 'link', 'add', QVB, 'type', 'veth', 'peer', 'name', QVO])
    .expect(['ip', 'link', 'set', 'dev', QVB, 'mtu', '1450'])
    .expect(['ip', 'link', 'set', 'dev', QVO, 'mtu', '1450'])
    .expect(['ip', 'link', 'set', 'dev', QVB, 'up'])
    .expect(['ip', 'link', 'set', 'dev', QVO, 'up'])
    .expect(['ip', 'link', 'set', 'dev', QVB, 'master', QBR])
    .expect(['ip', 'link', 'set', 'dev', TAP, 'master', QBR]);
}

function assertBindingFailed(error: unknown, ...expectedTexts: string[]): true {
  assert.ok(error instanceof KuryrError);
  assert.equal(error.code, 'BINDING_FAILED');
  for (const text of expectedTexts) {
    assert.ok(error.message.includes(text), `"${error.message}" should contain "${text}"`);
  }
  return true;
}

describe('parseOvsVifDetails', () => {
  const cases: [string, Record<string, unknown>, { bridgeName: string; hybrid: boolean }][] = [
    ['defaults to br-int without hybrid plug', {}, { bridgeName: 'br-int', hybrid: false }],
    ['reads bridge_name', { bridge_name: 'br-test' }, { bridgeName: 'br-test', hybrid: false }],
    ['reads ovs_hybrid_plug true', { ovs_hybrid_plug: true }, { bridgeName: 'br-int', hybrid: true }],
    ['reads ovs_hybrid_plug false', { ovs_hybrid_plug: false, datapath_type: 'netdev' }, { bridgeName: 'br-int', hybrid: false }],
  ];
  for (const [label, vifDetails, expected] of cases) {
    it(label, () => {
      assert.deepEqual(parseOvsVifDetails(request({ vifDetails })), expected);
    });
  }

  it('rejects a string ovs_hybrid_plug', () => {
    assert.throws(() => parseOvsVifDetails(request({ vifDetails: { ovs_hybrid_plug: 'True' } })), (error: unknown) =>
      assertBindingFailed(error, `port "${PORT_ID}"`, 'invalid binding:vif_details', 'ovs_hybrid_plug'),
    );
  });
});

describe('OvsBinder.bind', () => {
  it('plugs the tap into the integration bridge', async () => {
    const runner = expectTap(new FakeRunner()).expect(addPort('br-int', TAP));
    const bound = await new OvsBinder({ runner }).bind(request());
    assert.deepEqual(bound, { hostIfName: TAP, containerIfName: CONTAINER });
    runner.assertDone();
  });

  it('uses bridge_name from vif_details', async () => {
    const runner = expectTap(new FakeRunner()).expect(addPort('br-test', TAP));
    await new OvsBinder({ runner }).bind(request({ vifDetails: { bridge_name: 'br-test' } }));
    runner.assertDone();
  });

  it('reuses an existing pair on a repeated bind', async () => {
    const existing = JSON.stringify([
      { ifindex: 9, ifname: TAP, flags: ['UP'], mtu: 1450, link: CONTAINER, linkinfo: { info_kind: 'veth' } },
    ]);
    const runner = new FakeRunner()
      .expect(['ip', '-json', '-details', 'link', 'show', 'dev', TAP], { stdout: existing })
      .expect(['ip', 'link', 'set', 'dev', TAP, 'mtu', '1450'])
      .expect(['ip', 'link', 'set', 'dev', CONTAINER, 'mtu', '1450'])
      .expect(['ip', 'link', 'set', 'dev', CONTAINER, 'address', 'fa:16:3e:12:34:56'])
      .expect(['ip', 'link', 'set', 'dev', TAP, 'up'])
      .expect(['ip', 'link', 'set', 'dev', CONTAINER, 'up'])
      .expect(addPort('br-int', TAP));
    await new OvsBinder({ runner }).bind(request());
    runner.assertDone();
  });

  it('removes the OVS port and the pair when ovs-vsctl fails', async () => {
    const runner = expectTap(new FakeRunner())
      .expect(addPort('br-int', TAP), { exitCode: 1, stderr: 'ovs-vsctl: no bridge named br-int\n' })
      .expect(['ovs-vsctl', '--if-exists', 'del-port', TAP])
      .expect(['ip', 'link', 'delete', 'dev', TAP]);
    await assert.rejects(new OvsBinder({ runner }).bind(request()), (error: unknown) =>
      assertBindingFailed(error, `cannot bind port "${PORT_ID}" to Open vSwitch bridge "br-int"`, 'no bridge named br-int'),
    );
    runner.assertDone();
  });

  it('deletes the pair when configuring it fails', async () => {
    const runner = new FakeRunner()
      .expect(['ip', '-json', '-details', 'link', 'show', 'dev', TAP], missing(TAP))
      .expect(['ip', '-json', 'link', 'show', 'dev', CONTAINER], missing(CONTAINER))
      .expect(['ip', 'link', 'add', TAP, 'type', 'veth', 'peer', 'name', CONTAINER])
      .expect(['ip', 'link', 'set', 'dev', TAP, 'mtu', '1450'], { exitCode: 2, stderr: 'Error: mtu greater than device maximum.\n' })
      .expect(['ip', 'link', 'delete', 'dev', TAP]);
    await assert.rejects(new OvsBinder({ runner }).bind(request()), (error: unknown) =>
      assertBindingFailed(error, 'mtu greater than device maximum'),
    );
    runner.assertDone();
  });

  it('plugs a hybrid port through qbr, qvb and qvo', async () => {
    const runner = expectHybridDevices(expectTap(new FakeRunner())).expect(addPort('br-int', QVO));
    const bound = await new OvsBinder({ runner }).bind(request({ vifDetails: HYBRID }));
    assert.deepEqual(bound, { hostIfName: TAP, containerIfName: CONTAINER });
    runner.assertDone();
  });

  it('keeps an existing qbr bridge', async () => {
    const bridge = JSON.stringify([{ ifindex: 4, ifname: QBR, flags: [], mtu: 1500, linkinfo: { info_kind: 'bridge' } }]);
    const runner = expectTap(new FakeRunner())
      .expect(['ip', '-json', '-details', 'link', 'show', 'dev', QBR], { stdout: bridge })
      .expect(['ip', 'link', 'set', 'dev', QBR, 'mtu', '1450'])
      .expect(['ip', 'link', 'set', 'dev', QBR, 'up'])
      .expect(['ip', '-json', '-details', 'link', 'show', 'dev', QVB], missing(QVB))
      .expect(['ip', '-json', 'link', 'show', 'dev', QVO], missing(QVO))
      .expect(['ip', 'link', 'add', QVB, 'type', 'veth', 'peer', 'name', QVO])
      .expect(['ip', 'link', 'set', 'dev', QVB, 'mtu', '1450'])
      .expect(['ip', 'link', 'set', 'dev', QVO, 'mtu', '1450'])
      .expect(['ip', 'link', 'set', 'dev', QVB, 'up'])
      .expect(['ip', 'link', 'set', 'dev', QVO, 'up'])
      .expect(['ip', 'link', 'set', 'dev', QVB, 'master', QBR])
      .expect(['ip', 'link', 'set', 'dev', TAP, 'master', QBR])
      .expect(addPort('br-int', QVO));
    await new OvsBinder({ runner }).bind(request({ vifDetails: HYBRID }));
    runner.assertDone();
  });

  it('replaces a qbr device that is no bridge', async () => {
    const dummy = JSON.stringify([{ ifindex: 4, ifname: QBR, flags: [], mtu: 1500, linkinfo: { info_kind: 'dummy' } }]);
    const runner = expectTap(new FakeRunner())
      .expect(['ip', '-json', '-details', 'link', 'show', 'dev', QBR], { stdout: dummy })
      .expect(['ip', 'link', 'delete', 'dev', QBR])
      .expect(['ip', 'link', 'add', QBR, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0'])
      .expect(['ip', 'link', 'set', 'dev', QBR, 'mtu', '1450'])
      .expect(['ip', 'link', 'set', 'dev', QBR, 'up'])
      .expect(['ip', '-json', '-details', 'link', 'show', 'dev', QVB], missing(QVB))
      .expect(['ip', '-json', 'link', 'show', 'dev', QVO], missing(QVO))
      .expect(['ip', 'link', 'add', QVB, 'type', 'veth', 'peer', 'name', QVO])
      .expect(['ip', 'link', 'set', 'dev', QVB, 'mtu', '1450'])
      .expect(['ip', 'link', 'set', 'dev', QVO, 'mtu', '1450'])
      .expect(['ip', 'link', 'set', 'dev', QVB, 'up'])
      .expect(['ip', 'link', 'set', 'dev', QVO, 'up'])
      .expect(['ip', 'link', 'set', 'dev', QVB, 'master', QBR])
      .expect(['ip', 'link', 'set', 'dev', TAP, 'master', QBR])
      .expect(addPort('br-int', QVO));
    await new OvsBinder({ runner }).bind(request({ vifDetails: HYBRID }));
    runner.assertDone();
  });

  it('undoes every hybrid step when ovs-vsctl fails', async () => {
    const runner = expectHybridDevices(expectTap(new FakeRunner()))
      .expect(addPort('br-int', QVO), { exitCode: 1, stderr: 'ovs-vsctl: unix:/var/run/openvswitch/db.sock: database connection failed\n' })
      .expect(['ovs-vsctl', '--if-exists', 'del-port', QVO], { exitCode: 1, stderr: 'database connection failed\n' })
      .expect(['ip', 'link', 'delete', 'dev', QVB])
      .expect(['ip', 'link', 'delete', 'dev', QBR])
      .expect(['ip', 'link', 'delete', 'dev', TAP]);
    await assert.rejects(new OvsBinder({ runner }).bind(request({ vifDetails: HYBRID })), (error: unknown) =>
      assertBindingFailed(error, 'database connection failed'),
    );
    runner.assertDone();
  });

  it('undoes the finished hybrid steps when enslaving fails', async () => {
    const runner = expectTap(new FakeRunner())
      .expect(['ip', '-json', '-details', 'link', 'show', 'dev', QBR], missing(QBR))
      .expect(['ip', 'link', 'add', QBR, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0'])
      .expect(['ip', 'link', 'set', 'dev', QBR, 'mtu', '1450'])
      .expect(['ip', 'link', 'set', 'dev', QBR, 'up'])
      .expect(['ip', '-json', '-details', 'link', 'show', 'dev', QVB], missing(QVB))
      .expect(['ip', '-json', 'link', 'show', 'dev', QVO], missing(QVO))
      .expect(['ip', 'link', 'add', QVB, 'type', 'veth', 'peer', 'name', QVO])
      .expect(['ip', 'link', 'set', 'dev', QVB, 'mtu', '1450'])
      .expect(['ip', 'link', 'set', 'dev', QVO, 'mtu', '1450'])
      .expect(['ip', 'link', 'set', 'dev', QVB, 'up'])
      .expect(['ip', 'link', 'set', 'dev', QVO, 'up'])
      .expect(['ip', 'link', 'set', 'dev', QVB, 'master', QBR], { exitCode: 2, stderr: 'Error: Device does not allow enslaving to a bridge.\n' })
      .expect(['ip', 'link', 'delete', 'dev', QVB])
      .expect(['ip', 'link', 'delete', 'dev', QBR])
      .expect(['ip', 'link', 'delete', 'dev', TAP]);
    await assert.rejects(new OvsBinder({ runner }).bind(request({ vifDetails: HYBRID })), (error: unknown) =>
      assertBindingFailed(error, 'does not allow enslaving'),
    );
    runner.assertDone();
  });

  it('deletes the tap pair when creating qbr fails', async () => {
    const runner = expectTap(new FakeRunner())
      .expect(['ip', '-json', '-details', 'link', 'show', 'dev', QBR], missing(QBR))
      .expect(['ip', 'link', 'add', QBR, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0'], {
        exitCode: 2,
        stderr: 'Error: Unknown device type.\n',
      })
      .expect(['ip', 'link', 'delete', 'dev', QBR], cannotFind(QBR))
      .expect(['ip', 'link', 'delete', 'dev', TAP]);
    await assert.rejects(new OvsBinder({ runner }).bind(request({ vifDetails: HYBRID })), (error: unknown) =>
      assertBindingFailed(error, 'Unknown device type'),
    );
    runner.assertDone();
  });

  const invalidRequests: [string, Partial<PortBindingRequest>, string][] = [
    ['an invalid MAC', { macAddress: 'fa:16:3e:12:34' }, 'invalid MAC address "fa:16:3e:12:34"'],
    ['an invalid MTU', { mtu: 67 }, 'invalid MTU 67'],
    ['a port id that is not a UUID', { portId: '-rf' }, 'invalid port id "-rf"'],
    ['a bridge name with a space', { vifDetails: { bridge_name: 'br int' } }, 'invalid interface name "br int"'],
    ['an endpoint id with a comma', { endpointId: 'a,b' }, 'invalid endpoint id "a,b"'],
  ];
  for (const [label, overrides, expectedText] of invalidRequests) {
    it(`rejects ${label} before any command`, async () => {
      const runner = new FakeRunner();
      await assert.rejects(new OvsBinder({ runner }).bind(request(overrides)), (error: unknown) => {
        assert.ok(error instanceof KuryrError);
        assert.equal(error.code, 'INVALID_REQUEST');
        assert.ok(error.message.includes(expectedText), error.message);
        return true;
      });
      assert.equal(runner.calls.length, 0);
    });
  }
});

describe('OvsBinder.unbind', () => {
  it('removes the OVS port, then the pair', async () => {
    const runner = new FakeRunner()
      .expect(['ovs-vsctl', '--if-exists', 'del-port', TAP])
      .expect(['ip', 'link', 'delete', 'dev', TAP]);
    await new OvsBinder({ runner }).unbind(request());
    runner.assertDone();
  });

  it('succeeds when the pair is already gone', async () => {
    const runner = new FakeRunner()
      .expect(['ovs-vsctl', '--if-exists', 'del-port', TAP])
      .expect(['ip', 'link', 'delete', 'dev', TAP], cannotFind(TAP));
    await new OvsBinder({ runner }).unbind(request());
    runner.assertDone();
  });

  it('removes every hybrid device', async () => {
    const runner = new FakeRunner()
      .expect(['ovs-vsctl', '--if-exists', 'del-port', QVO])
      .expect(['ip', 'link', 'delete', 'dev', QVB])
      .expect(['ip', 'link', 'delete', 'dev', TAP])
      .expect(['ip', 'link', 'delete', 'dev', QBR]);
    await new OvsBinder({ runner }).unbind(request({ vifDetails: HYBRID }));
    runner.assertDone();
  });

  it('tolerates hybrid devices that are already gone', async () => {
    const runner = new FakeRunner()
      .expect(['ovs-vsctl', '--if-exists', 'del-port', QVO])
      .expect(['ip', 'link', 'delete', 'dev', QVB], cannotFind(QVB))
      .expect(['ip', 'link', 'delete', 'dev', TAP], cannotFind(TAP))
      .expect(['ip', 'link', 'delete', 'dev', QBR], cannotFind(QBR));
    await new OvsBinder({ runner }).unbind(request({ vifDetails: HYBRID }));
    runner.assertDone();
  });

  it('still deletes the pair when ovs-vsctl fails, then reports it', async () => {
    const runner = new FakeRunner()
      .expect(['ovs-vsctl', '--if-exists', 'del-port', TAP], { exitCode: 1, stderr: 'database connection failed\n' })
      .expect(['ip', 'link', 'delete', 'dev', TAP]);
    await assert.rejects(new OvsBinder({ runner }).unbind(request()), (error: unknown) =>
      assertBindingFailed(error, `cannot unbind port "${PORT_ID}" from Open vSwitch`, `remove OVS port "${TAP}"`, 'database connection failed'),
    );
    runner.assertDone();
  });

  it('rejects an invalid port id before any command', async () => {
    const runner = new FakeRunner();
    await assert.rejects(new OvsBinder({ runner }).unbind(request({ portId: 'tap0' })), /invalid port id "tap0"/);
    assert.equal(runner.calls.length, 0);
  });
});
