import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { MacvlanBinder, SelectingBinder, VlanBinder } from '../binding/index.js';
import { FakeRunner } from '../host/fake-runner.js';
import { setupClient } from '../neutron/test-support.js';
import { createBinder, portSettings } from './binder.js';

const dependencies = () => ({ runner: new FakeRunner(), neutron: setupClient([]).client, bindir: '/usr/libexec/kuryr', logger: pino({ enabled: false }) });

describe('createBinder', () => {
  it('uses the vif_type binder for veth', () => {
    assert.ok(createBinder({ driver: 'veth', enabledDrivers: ['veth'], linkIface: '' }, dependencies()) instanceof SelectingBinder);
  });

  for (const driver of ['macvlan', 'ipvlan'] as const) {
    it(`uses the nested address binder for ${driver}`, () => {
      assert.ok(createBinder({ driver, enabledDrivers: [driver], linkIface: 'ens3' }, dependencies()) instanceof MacvlanBinder);
    });
  }

  it('uses the trunk binder for vlan', () => {
    assert.ok(createBinder({ driver: 'vlan', enabledDrivers: ['vlan'], linkIface: 'ens3' }, dependencies()) instanceof VlanBinder);
  });
});

describe('portSettings', () => {
  it('binds veth ports to the host and waits', () => {
    assert.deepEqual(portSettings({ driver: 'veth', enabledDrivers: ['veth'], linkIface: '' }, 'node-1', 60_000), { hostName: 'node-1', portActiveTimeoutMs: 60_000 });
  });

  for (const driver of ['macvlan', 'ipvlan', 'vlan'] as const) {
    it(`leaves ${driver} ports unbound without a wait`, () => {
      assert.deepEqual(portSettings({ driver, enabledDrivers: [driver], linkIface: 'ens3' }, 'node-1', 60_000), { hostName: '', portActiveTimeoutMs: 0 });
    });
  }
});
