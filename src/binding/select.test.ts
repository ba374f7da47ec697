import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KuryrError } from '../errors.js';
import { FakeRunner } from '../host/fake-runner.js';
import { SelectingBinder, binderKindFor } from './select.js';
import type { PortBindingRequest } from './types.js';

const PORT_ID = '3f2b8c1e-9a47-4d2b-8e1f-6c5a4b3d2e10';
const ENDPOINT_ID = 'e4d2c1b0a9f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a2918070605';
const NETWORK_ID = '9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f';
const PROJECT_ID = 'b1c2d3e4f5a64b7c8d9e0f1a2b3c4d5e';
const TAP = 'tap3f2b8c1e-9a';
const CONTAINER = 't_c3f2b8c1e-9a';
const QVO = 'qvo3f2b8c1e-9a';
const BINDIR = '/opt/kuryr/bin';

function request(vifType: string, vifDetails: Record<string, unknown> = {}): PortBindingRequest {
  return {
    portId: PORT_ID,
    endpointId: ENDPOINT_ID,
    neutronNetworkId: NETWORK_ID,
    projectId: PROJECT_ID,
    macAddress: 'fa:16:3e:12:34:56',
    mtu: 1500,
    vifType,
    vifDetails,
  };
}

/** Creates a binder whose bindir contains exactly the given executables. */
function binder(runner: FakeRunner, executables: string[] = []): SelectingBinder {
  return new SelectingBinder({ runner, bindir: BINDIR, isExecutable: async (path) => executables.includes(path) });
}

function expectTap(runner: FakeRunner): FakeRunner {
  return runner
    .expect(['ip', '-json', '-details', 'link', 'show', 'dev', TAP], { exitCode: 1, stderr: `Device "${TAP}" does not exist.\n` })
    .expect(['ip', '-json', 'link', 'show', 'dev', CONTAINER], { exitCode: 1, stderr: `Device "${CONTAINER}" does not exist.\n` })
    .expect(['ip', 'link', 'add', TAP, 'type', 'veth', 'peer', 'name', CONTAINER])
    .expect(['ip', 'link', 'set', 'dev', TAP, 'mtu', '1500'])
    .expect(['ip', 'link', 'set', 'dev', CONTAINER, 'mtu', '1500'])
    .expect(['ip', 'link', 'set', 'dev', CONTAINER, 'address', 'fa:16:3e:12:34:56'])
    .expect(['ip', 'link', 'set', 'dev', TAP, 'up'])
    .expect(['ip', 'link', 'set', 'dev', CONTAINER, 'up']);
}

function addPort(bridge: string, ifName: string): string[] {
  return [
    'ovs-vsctl', '--may-exist', 'add-port', bridge, ifName, '--', 'set', 'Interface', ifName,
    `external_ids:iface-id=${PORT_ID}`, 'external_ids:iface-status=active', 'external_ids:attached-mac=fa:16:3e:12:34:56',
    `external_ids:vm-uuid=${ENDPOINT_ID}`, 'external_ids:owner=kuryr',
  ];
}

function scriptArgv(vifType: string, action: 'bind' | 'unbind', vifDetails: string): string[] {
  const shared = [`${BINDIR}/${vifType}`, action, PORT_ID, TAP, ENDPOINT_ID, 'fa:16:3e:12:34:56'];
  return action === 'bind' ? [...shared, NETWORK_ID, PROJECT_ID, vifDetails] : [...shared, vifDetails, NETWORK_ID];
}

describe('binderKindFor', () => {
  const cases: [string, string][] = [
    ['ovs', 'ovs'],
    ['bridge', 'veth'],
    ['tap', 'veth'],
    ['vhostuser', 'veth'],
    ['binding_failed', 'veth'],
  ];
  for (const [vifType, kind] of cases) {
    it(`maps ${vifType} to ${kind}`, () => {
      assert.equal(binderKindFor(vifType), kind);
    });
  }
});

describe('SelectingBinder.bind', () => {
  for (const vifType of ['bridge', 'tap']) {
    it(`creates only the veth pair for ${vifType}`, async () => {
      const runner = expectTap(new FakeRunner());
      await binder(runner).bind(request(vifType));
      runner.assertDone();
    });
  }

  it('plugs an ovs port into bridge_name', async () => {
    const runner = expectTap(new FakeRunner()).expect(addPort('br-int', TAP));
    await binder(runner).bind(request('ovs', { bridge_name: 'br-int', ovs_hybrid_plug: false }));
    runner.assertDone();
  });

  it('takes the hybrid path when ovs_hybrid_plug is true', async () => {
    // The full hybrid sequence is pinned in ovs.test.ts. Here the qbr lookup fails on purpose,
    // which shows that the hybrid path ran and that its rollback removed the tap pair.
    const qbr = 'qbr3f2b8c1e-9a';
    const runner = expectTap(new FakeRunner())
      .expect(['ip', '-json', '-details', 'link', 'show', 'dev', qbr], { exitCode: 255, stderr: 'netlink error\n' })
      .expect(['ip', 'link', 'delete', 'dev', qbr])
      .expect(['ip', 'link', 'delete', 'dev', TAP]);
    await assert.rejects(binder(runner).bind(request('ovs', { ovs_hybrid_plug: true })), /netlink error/);
    runner.assertDone();
  });

  it('ignores an ovs script in the bindir', async () => {
    const runner = expectTap(new FakeRunner()).expect(addPort('br-int', TAP));
    await binder(runner, [`${BINDIR}/ovs`]).bind(request('ovs'));
    runner.assertDone();
  });

  it('runs the bindir script for another vif_type', async () => {
    const runner = expectTap(new FakeRunner()).expect(scriptArgv('vhostuser', 'bind', `"{'vhostuser_mode': 'server'}"`));
    await binder(runner, [`${BINDIR}/vhostuser`]).bind(request('vhostuser', { vhostuser_mode: 'server' }));
    runner.assertDone();
  });

  const rejected: [string, string[], string][] = [
    ['vhostuser', [], 'no executable binding script named "vhostuser"'],
    ['binding_failed', [], 'no mechanism driver bound it'],
    ['unbound', [`${BINDIR}/unbound`], 'no mechanism driver bound it'],
  ];
  for (const [vifType, executables, expectedText] of rejected) {
    it(`rejects ${vifType} with BINDING_FAILED before any command`, async () => {
      const runner = new FakeRunner();
      await assert.rejects(binder(runner, executables).bind(request(vifType)), (error: unknown) => {
        assert.ok(error instanceof KuryrError);
        assert.equal(error.code, 'BINDING_FAILED');
        assert.ok(error.message.includes(`port "${PORT_ID}"`), error.message);
        assert.ok(error.message.includes(expectedText), error.message);
        return true;
      });
      assert.equal(runner.calls.length, 0);
    });
  }
});

describe('SelectingBinder.unbind', () => {
  it('removes the OVS port of an ovs port', async () => {
    const runner = new FakeRunner()
      .expect(['ovs-vsctl', '--if-exists', 'del-port', TAP])
      .expect(['ip', 'link', 'delete', 'dev', TAP]);
    await binder(runner).unbind(request('ovs', { bridge_name: 'br-int' }));
    runner.assertDone();
  });

  it('removes the hybrid devices of a hybrid ovs port', async () => {
    const runner = new FakeRunner()
      .expect(['ovs-vsctl', '--if-exists', 'del-port', QVO])
      .expect(['ip', 'link', 'delete', 'dev', 'qvb3f2b8c1e-9a'])
      .expect(['ip', 'link', 'delete', 'dev', TAP])
      .expect(['ip', 'link', 'delete', 'dev', 'qbr3f2b8c1e-9a']);
    await binder(runner).unbind(request('ovs', { ovs_hybrid_plug: true }));
    runner.assertDone();
  });

  for (const vifType of ['bridge', 'tap']) {
    it(`deletes only the pair for ${vifType}`, async () => {
      const runner = new FakeRunner().expect(['ip', 'link', 'delete', 'dev', TAP]);
      await binder(runner).unbind(request(vifType));
      runner.assertDone();
    });
  }

  it('runs the bindir script on unbind for another vif_type', async () => {
    const runner = new FakeRunner()
      .expect(scriptArgv('vhostuser', 'unbind', 'None'))
      .expect(['ip', 'link', 'delete', 'dev', TAP]);
    await binder(runner, [`${BINDIR}/vhostuser`]).unbind(request('vhostuser'));
    runner.assertDone();
  });
});
