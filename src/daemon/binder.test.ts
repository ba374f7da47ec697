import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { MacvlanBinder, SelectingBinder, VlanBinder } from '../binding/index.js';
import { FakeRunner } from '../host/fake-runner.js';
import { setupClient } from '../neutron/test-support.js';
import { createBinder, createNormalBinder, portSettings } from './binder.js';

const dependencies = () => ({ runner: new FakeRunner(), neutron: setupClient([]).client, bindir: '/usr/libexec/kuryr', logger: pino({ enabled: false }) });

describe('createNormalBinder', () => {
  it('uses the vif_type binder for veth', () => {
    assert.ok(createNormalBinder({ driver: 'veth', enabledDrivers: ['veth'], linkIface: '' }, dependencies()) instanceof SelectingBinder);
  });

  for (const driver of ['macvlan', 'ipvlan'] as const) {
    it(`uses the nested address binder for ${driver}`, () => {
      assert.ok(createNormalBinder({ driver, enabledDrivers: [driver], linkIface: 'ens3' }, dependencies()) instanceof MacvlanBinder);
    });
  }

  it('uses the trunk binder for vlan', () => {
    assert.ok(createNormalBinder({ driver: 'vlan', enabledDrivers: ['vlan'], linkIface: 'ens3' }, dependencies()) instanceof VlanBinder);
  });

  it('uses the vif_type binder for sriov', () => {
    assert.ok(createNormalBinder({ driver: 'sriov', enabledDrivers: ['sriov'], linkIface: '' }, dependencies()) instanceof SelectingBinder);
  });
});

describe('createBinder', () => {
  const directPort = {
    portId: '3f2b8c1e-9a47-4d2b-8e1f-6c5a4b3d2e10',
    endpointId: 'e4d2c1b0a9f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a2918070605',
    neutronNetworkId: 'net-1',
    projectId: 'project-1',
    macAddress: 'fa:16:3e:12:34:56',
    mtu: 1500,
    vifType: 'hw_veb',
    vifDetails: {},
    vnicType: 'direct',
    bindingProfile: { pci_slot: '0000:ff:1f.7' },
  };

  it('sends direct ports to SR-IOV when enabled', async () => {
    const binder = createBinder({ driver: 'veth', enabledDrivers: ['veth', 'sriov'], linkIface: '' }, dependencies());
    // This host has no such VF, so the SR-IOV binder's sysfs lookup is what fails.
    await assert.rejects(binder.bind(directPort), /PCI device "0000:ff:1f.7" is no virtual function/);
  });

  it('rejects direct ports when SR-IOV is off', async () => {
    const binder = createBinder({ driver: 'veth', enabledDrivers: ['veth'], linkIface: '' }, dependencies());
    await assert.rejects(binder.bind(directPort), /add sriov to \[binding\] enabled_drivers/);
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
