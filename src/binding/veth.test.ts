import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandError, KuryrError } from '../errors.js';
import { FakeRunner } from '../host/fake-runner.js';
import { vethNames } from './names.js';
import type { PortBindingRequest } from './types.js';
import { VethBinder } from './veth.js';

const PORT_ID = '3f2b8c1e-9a47-4d2b-8e1f-6c5a4b3d2e10';
const HOST = 'tap3f2b8c1e-9a';
const CONTAINER = 't_c3f2b8c1e-9a';

function request(overrides: Partial<PortBindingRequest> = {}): PortBindingRequest {
  return {
    portId: PORT_ID,
    endpointId: 'e4d2c1b0a9f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a2918070605',
    neutronNetworkId: '9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f',
    projectId: 'b1c2d3e4f5a64b7c8d9e0f1a2b3c4d5e',
    macAddress: 'FA:16:3E:12:34:56',
    mtu: 1450,
    vifType: 'bridge',
    vifDetails: { port_filter: true, connectivity: 'l2' },
    ...overrides,
  };
}

/** Creates a binder whose bindir contains exactly the given executables. */
function binder(runner: FakeRunner, executables: string[] = []): VethBinder {
  return new VethBinder({
    runner,
    bindir: '/opt/kuryr/bin',
    isExecutable: async (path) => executables.includes(path),
  });
}

const missingHost = { exitCode: 1, stderr: `Device "${HOST}" does not exist.\n` };
const missingContainer = { exitCode: 1, stderr: `Device "${CONTAINER}" does not exist.\n` };

function linkJson(link: Record<string, unknown>): string {
  return JSON.stringify([{ ifindex: 7, ifname: HOST, flags: ['BROADCAST', 'MULTICAST', 'UP'], mtu: 1500, ...link }]);
}

/** Adds the expected commands that configure a pair after it exists. */
function expectConfigure(runner: FakeRunner): FakeRunner {
  return runner
    .expect(['ip', 'link', 'set', 'dev', HOST, 'mtu', '1450'])
    .expect(['ip', 'link', 'set', 'dev', CONTAINER, 'mtu', '1450'])
    .expect(['ip', 'link', 'set', 'dev', CONTAINER, 'address', 'fa:16:3e:12:34:56'])
    .expect(['ip', 'link', 'set', 'dev', HOST, 'up'])
    .expect(['ip', 'link', 'set', 'dev', CONTAINER, 'up']);
}

function expectFreshPair(runner: FakeRunner): FakeRunner {
  return runner
    .expect(['ip', '-json', '-details', 'link', 'show', 'dev', HOST], missingHost)
    .expect(['ip', '-json', 'link', 'show', 'dev', CONTAINER], missingContainer)
    .expect(['ip', 'link', 'add', HOST, 'type', 'veth', 'peer', 'name', CONTAINER]);
}

function assertBindingFailed(error: unknown, ...expectedTexts: string[]): true {
  assert.ok(error instanceof KuryrError);
  assert.equal(error.code, 'BINDING_FAILED');
  for (const text of expectedTexts) {
    assert.ok(error.message.includes(text), `"${error.message}" should contain "${text}"`);
  }
  return true;
}

describe('vethNames', () => {
  it('uses tap and t_c with 11 port id characters', () => {
    assert.deepEqual(vethNames(PORT_ID), { hostIfName: HOST, containerIfName: CONTAINER });
  });
});

describe('VethBinder.bind', () => {
  it('creates and configures a fresh pair', async () => {
    const runner = expectConfigure(expectFreshPair(new FakeRunner()));
    const bound = await binder(runner).bind(request());
    assert.deepEqual(bound, { hostIfName: HOST, containerIfName: CONTAINER });
    runner.assertDone();
  });

  it('reconfigures an existing correct pair', async () => {
    const runner = new FakeRunner().expect(['ip', '-json', '-details', 'link', 'show', 'dev', HOST], {
      stdout: linkJson({ link: CONTAINER, linkinfo: { info_kind: 'veth' } }),
    });
    expectConfigure(runner);
    await binder(runner).bind(request());
    runner.assertDone();
  });

  const unexpectedHostLinks: [string, Record<string, unknown>][] = [
    ['a veth with another peer', { link: 'other0', linkinfo: { info_kind: 'veth' } }],
    ['a veth whose peer is in another namespace', { link_netnsid: 0, linkinfo: { info_kind: 'veth' } }],
    ['a device of another kind', { linkinfo: { info_kind: 'dummy' } }],
  ];
  for (const [label, link] of unexpectedHostLinks) {
    it(`replaces ${label}`, async () => {
      const runner = new FakeRunner()
        .expect(['ip', '-json', '-details', 'link', 'show', 'dev', HOST], { stdout: linkJson(link) })
        .expect(['ip', 'link', 'delete', 'dev', HOST])
        .expect(['ip', '-json', 'link', 'show', 'dev', CONTAINER], missingContainer)
        .expect(['ip', 'link', 'add', HOST, 'type', 'veth', 'peer', 'name', CONTAINER]);
      expectConfigure(runner);
      await binder(runner).bind(request());
      runner.assertDone();
    });
  }

  it('removes a stale container end before creating the pair', async () => {
    const runner = new FakeRunner()
      .expect(['ip', '-json', '-details', 'link', 'show', 'dev', HOST], missingHost)
      .expect(['ip', '-json', 'link', 'show', 'dev', CONTAINER], { stdout: '[]' })
      .expect(['ip', 'link', 'delete', 'dev', CONTAINER])
      .expect(['ip', 'link', 'add', HOST, 'type', 'veth', 'peer', 'name', CONTAINER]);
    expectConfigure(runner);
    await binder(runner).bind(request());
    runner.assertDone();
  });

  it('deletes the pair when a step fails midway', async () => {
    const runner = expectFreshPair(new FakeRunner())
      .expect(['ip', 'link', 'set', 'dev', HOST, 'mtu', '1450'])
      .expect(['ip', 'link', 'set', 'dev', CONTAINER, 'mtu', '1450'], {
        exitCode: 2,
        stderr: 'Error: mtu greater than device maximum.\n',
      })
      .expect(['ip', 'link', 'delete', 'dev', HOST]);

    await assert.rejects(binder(runner).bind(request()), (error: unknown) => {
      assertBindingFailed(error, `cannot bind port "${PORT_ID}" to host interface "${HOST}"`, 'mtu greater than device maximum');
      assert.ok(error instanceof KuryrError);
      assert.ok(error.cause instanceof CommandError);
      return true;
    });
    runner.assertDone();
  });

  it('deletes the pair when creating it fails', async () => {
    const runner = new FakeRunner()
      .expect(['ip', '-json', '-details', 'link', 'show', 'dev', HOST], missingHost)
      .expect(['ip', '-json', 'link', 'show', 'dev', CONTAINER], missingContainer)
      .expect(['ip', 'link', 'add', HOST, 'type', 'veth', 'peer', 'name', CONTAINER], {
        exitCode: 2,
        stderr: 'RTNETLINK answers: File exists\n',
      })
      .expect(['ip', 'link', 'delete', 'dev', HOST], { exitCode: 1, stderr: `Cannot find device "${HOST}"\n` });

    await assert.rejects(binder(runner).bind(request()), (error: unknown) => assertBindingFailed(error, 'File exists'));
    runner.assertDone();
  });

  it('reports the bind error when the rollback also fails', async () => {
    const runner = expectFreshPair(new FakeRunner())
      .expect(['ip', 'link', 'set', 'dev', HOST, 'mtu', '1450'], { exitCode: 2, stderr: 'first failure\n' })
      .expect(['ip', 'link', 'delete', 'dev', HOST], { exitCode: 2, stderr: 'second failure\n' });

    await assert.rejects(binder(runner).bind(request()), (error: unknown) => assertBindingFailed(error, 'first failure'));
    runner.assertDone();
  });

  it('runs the binding script with the argument contract', async () => {
    const runner = expectConfigure(expectFreshPair(new FakeRunner())).expect([
      '/opt/kuryr/bin/ovs',
      'bind',
      PORT_ID,
      HOST,
      request().endpointId,
      'fa:16:3e:12:34:56',
      request().neutronNetworkId,
      request().projectId,
      `"{'port_filter': True, 'ovs_hybrid_plug': False}"`,
    ]);
    const vifDetails = { port_filter: true, ovs_hybrid_plug: false };

    await binder(runner, ['/opt/kuryr/bin/ovs']).bind(request({ vifType: 'ovs', vifDetails }));
    runner.assertDone();
    assert.equal(runner.calls.at(-1)?.options?.timeoutMs, 30_000);
  });

  it('runs a bridge script when one is installed', async () => {
    const runner = expectConfigure(expectFreshPair(new FakeRunner())).expect([
      '/opt/kuryr/bin/bridge',
      'bind',
      PORT_ID,
      HOST,
      request().endpointId,
      'fa:16:3e:12:34:56',
      request().neutronNetworkId,
      request().projectId,
      `"{'port_filter': True, 'connectivity': 'l2'}"`,
    ]);
    await binder(runner, ['/opt/kuryr/bin/bridge']).bind(request());
    runner.assertDone();
  });

  it('deletes the pair when the binding script fails', async () => {
    const runner = expectConfigure(expectFreshPair(new FakeRunner()))
      .expect(
        ['/opt/kuryr/bin/ovs', 'bind', PORT_ID, HOST, request().endpointId, 'fa:16:3e:12:34:56', request().neutronNetworkId, request().projectId, 'None'],
        { exitCode: 1, stderr: 'ovs-vsctl: no bridge named br-int\n' },
      )
      .expect(['ip', 'link', 'delete', 'dev', HOST]);

    await assert.rejects(binder(runner, ['/opt/kuryr/bin/ovs']).bind(request({ vifType: 'ovs', vifDetails: {} })), (error: unknown) =>
      assertBindingFailed(error, 'no bridge named br-int'),
    );
    runner.assertDone();
  });

  for (const vifType of ['binding_failed', 'unbound']) {
    it(`rejects vif_type ${vifType} before any command`, async () => {
      const runner = new FakeRunner();
      // Even an installed script cannot bind a port that Neutron did not bind.
      await assert.rejects(binder(runner, [`/opt/kuryr/bin/${vifType}`]).bind(request({ vifType })), (error: unknown) =>
        assertBindingFailed(error, `port "${PORT_ID}"`, `"${vifType}"`, 'L2 agent', 'alive on this host', 'host name'),
      );
      assert.equal(runner.calls.length, 0);
    });
  }

  for (const vifType of ['vhostuser', '../../bin/sh']) {
    it(`rejects vif_type ${JSON.stringify(vifType)} without a script`, async () => {
      const runner = new FakeRunner();
      await assert.rejects(binder(runner, ['/bin/sh']).bind(request({ vifType })), (error: unknown) =>
        assertBindingFailed(error, `port "${PORT_ID}"`, `vif_type "${vifType}"`, 'no executable binding script', '"/opt/kuryr/bin"'),
      );
      assert.equal(runner.calls.length, 0);
    });
  }

  const invalidRequests: [string, Partial<PortBindingRequest>, string][] = [
    ['a MAC with five pairs', { macAddress: 'fa:16:3e:12:34' }, 'invalid MAC address "fa:16:3e:12:34"'],
    ['a MAC with dashes', { macAddress: 'fa-16-3e-12-34-56' }, 'invalid MAC address "fa-16-3e-12-34-56"'],
    ['an MTU below 68', { mtu: 67 }, 'invalid MTU 67'],
    ['an MTU above 65535', { mtu: 65536 }, 'invalid MTU 65536'],
    ['a fractional MTU', { mtu: 1450.5 }, 'invalid MTU 1450.5'],
    ['a port id that is not a UUID', { portId: '-rf' }, 'invalid port id "-rf"'],
    ['an empty port id', { portId: '' }, 'invalid port id ""'],
  ];
  for (const [label, overrides, expectedText] of invalidRequests) {
    it(`rejects ${label} before any command`, async () => {
      const runner = new FakeRunner();
      await assert.rejects(binder(runner).bind(request(overrides)), (error: unknown) => {
        assert.ok(error instanceof KuryrError);
        assert.equal(error.code, 'INVALID_REQUEST');
        assert.ok(error.message.includes(expectedText), error.message);
        return true;
      });
      assert.equal(runner.calls.length, 0);
    });
  }
});

describe('VethBinder.unbind', () => {
  it('deletes the host end', async () => {
    const runner = new FakeRunner().expect(['ip', 'link', 'delete', 'dev', HOST]);
    await binder(runner).unbind(request());
    runner.assertDone();
  });

  it('succeeds when the pair is already gone', async () => {
    const runner = new FakeRunner().expect(['ip', 'link', 'delete', 'dev', HOST], {
      exitCode: 1,
      stderr: `Cannot find device "${HOST}"\n`,
    });
    await binder(runner).unbind(request());
    runner.assertDone();
  });

  it('fails on other delete errors', async () => {
    const runner = new FakeRunner().expect(['ip', 'link', 'delete', 'dev', HOST], {
      exitCode: 2,
      stderr: 'RTNETLINK answers: Operation not permitted\n',
    });
    await assert.rejects(binder(runner).unbind(request()), (error: unknown) =>
      assertBindingFailed(error, `cannot remove host interface "${HOST}" of port "${PORT_ID}"`, 'Operation not permitted'),
    );
    runner.assertDone();
  });

  it('runs the unbind script in kuryr-lib order', async () => {
    // Unbind takes vif_details fifth and the network id last, and no project id.
    const runner = new FakeRunner()
      .expect([
        '/opt/kuryr/bin/bridge',
        'unbind',
        PORT_ID,
        HOST,
        request().endpointId,
        'fa:16:3e:12:34:56',
        `"{'port_filter': True, 'connectivity': 'l2'}"`,
        request().neutronNetworkId,
      ])
      .expect(['ip', 'link', 'delete', 'dev', HOST]);
    await binder(runner, ['/opt/kuryr/bin/bridge']).unbind(request());
    runner.assertDone();
  });

  it('deletes the pair when the unbind script fails', async () => {
    const runner = new FakeRunner()
      .expect(
        ['/opt/kuryr/bin/ovs', 'unbind', PORT_ID, HOST, request().endpointId, 'fa:16:3e:12:34:56', 'None', request().neutronNetworkId],
        { exitCode: 1, stderr: 'no OVS port for this Neutron port\n' },
      )
      .expect(['ip', 'link', 'delete', 'dev', HOST]);
    await binder(runner, ['/opt/kuryr/bin/ovs']).unbind(request({ vifType: 'ovs', vifDetails: {} }));
    runner.assertDone();
  });

  it('skips the script for a port Neutron never bound', async () => {
    const runner = new FakeRunner().expect(['ip', 'link', 'delete', 'dev', HOST]);
    await binder(runner, ['/opt/kuryr/bin/unbound']).unbind(request({ vifType: 'unbound' }));
    runner.assertDone();
  });

  it('rejects an invalid port id before any command', async () => {
    const runner = new FakeRunner();
    await assert.rejects(binder(runner).unbind(request({ portId: 'tap0' })), /invalid port id "tap0"/);
    assert.equal(runner.calls.length, 0);
  });
});
