import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeRunner } from '../host/fake-runner.js';
import { SriovBinder, VnicTypeBinder, findVirtualFunction, setVfArgv, vfVlan } from './sriov.js';
import type { Sysfs } from './sriov.js';
import type { BoundInterface, PortBinder, PortBindingRequest } from './types.js';

const VF = '0000:0a:00.3';
const DEVICE = `/sys/bus/pci/devices/${VF}`;
const PORT_ID = '3f2b8c1e-9a47-4d2b-8e1f-6c5a4b3d2e10';

/** A sysfs tree of one PF "ens1f0" with VFs 0000:0a:00.2 (virtfn0) and 0000:0a:00.3 (virtfn1). */
function fakeSysfs(overrides: Record<string, string[]> = {}): Sysfs {
  const directories: Record<string, string[]> = {
    [`${DEVICE}/physfn/net`]: ['ens1f0'],
    [`${DEVICE}/net`]: ['ens1f0v1'],
    [`${DEVICE}/physfn`]: ['device', 'net', 'virtfn0', 'virtfn1'],
    ...overrides,
  };
  const links: Record<string, string> = { [`${DEVICE}/physfn/virtfn0`]: '../0000:0a:00.2', [`${DEVICE}/physfn/virtfn1`]: '../0000:0a:00.3' };
  return {
    readdir: async (path) => {
      const entries = directories[path];
      if (entries === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return [...entries];
    },
    readlink: async (path) => {
      const target = links[path];
      if (target === undefined) throw new Error(`EINVAL: ${path}`);
      return target;
    },
  };
}

function request(overrides: Partial<PortBindingRequest> = {}): PortBindingRequest {
  return {
    portId: PORT_ID,
    endpointId: 'e4d2c1b0a9f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a2918070605',
    neutronNetworkId: '9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f',
    projectId: 'b1c2d3e4f5a64b7c8d9e0f1a2b3c4d5e',
    macAddress: 'FA:16:3E:12:34:56',
    mtu: 1500,
    vifType: 'hw_veb',
    vifDetails: { vlan: '101', port_filter: false },
    vnicType: 'direct',
    bindingProfile: { pci_slot: VF, physical_network: 'physnet2', pci_vendor_info: '8086:154c' },
    ...overrides,
  };
}

describe('findVirtualFunction', () => {
  it('finds PF, VF index and VF netdev', async () => {
    assert.deepEqual(await findVirtualFunction(fakeSysfs(), VF), { pfIfName: 'ens1f0', vfIndex: 1, vfIfName: 'ens1f0v1' });
  });

  const failures: [string, string, Record<string, string[]>, string][] = [
    ['an invalid PCI address', '0a:00.3', {}, 'invalid pci_slot "0a:00.3"'],
    ['a device without a PF', VF, { [`${DEVICE}/physfn/net`]: [] }, 'is no virtual function with a PF netdev'],
    ['a VF bound to vfio-pci', VF, { [`${DEVICE}/net`]: [] }, 'has no netdev (is it bound to vfio-pci?)'],
    ['a VF missing from its PF', VF, { [`${DEVICE}/physfn`]: ['virtfn0'] }, 'among the virtfn links of PF "ens1f0"'],
  ];
  for (const [label, slot, overrides, expectedText] of failures) {
    it(`rejects ${label}`, async () => {
      await assert.rejects(findVirtualFunction(fakeSysfs(overrides), slot), (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.ok(error.message.includes(expectedText), error.message);
        return true;
      });
    });
  }
});

describe('SriovBinder', () => {
  it('sets the VF MAC and VLAN through the PF', async () => {
    const runner = new FakeRunner().expect(['ip', 'link', 'set', 'dev', 'ens1f0', 'vf', '1', 'mac', 'fa:16:3e:12:34:56', 'vlan', '101']);
    const bound = await new SriovBinder({ runner, sysfs: fakeSysfs() }).bind(request());
    assert.deepEqual(bound, { hostIfName: 'ens1f0', containerIfName: 'ens1f0v1' });
    runner.assertDone();
  });

  it('resets the VLAN on unbind', async () => {
    const runner = new FakeRunner().expect(['ip', 'link', 'set', 'dev', 'ens1f0', 'vf', '1', 'mac', 'fa:16:3e:12:34:56', 'vlan', '0']);
    await new SriovBinder({ runner, sysfs: fakeSysfs() }).unbind(request());
    runner.assertDone();
  });

  it('rejects a port without pci_slot', async () => {
    const runner = new FakeRunner();
    await assert.rejects(new SriovBinder({ runner, sysfs: fakeSysfs() }).bind(request({ bindingProfile: {} })), /binding:profile has no pci_slot/);
    assert.equal(runner.calls.length, 0);
  });
});

describe('vfVlan', () => {
  const cases: [Record<string, unknown>, number][] = [
    [{}, 0],
    [{ vlan: 0 }, 0],
    [{ vlan: '101' }, 101],
    [{ vlan: 4094 }, 4094],
  ];
  for (const [details, expected] of cases) {
    it(`reads ${JSON.stringify(details)}`, () => {
      assert.equal(vfVlan(details), expected);
    });
  }

  it('rejects a VLAN above 4094', () => {
    assert.throws(() => vfVlan({ vlan: 5000 }), /invalid vlan 5000/);
  });
});

describe('setVfArgv', () => {
  it('builds the ip link vf command', () => {
    assert.deepEqual(setVfArgv('ens1f0', 3, 'FA:16:3E:00:00:01', 0), ['ip', 'link', 'set', 'dev', 'ens1f0', 'vf', '3', 'mac', 'fa:16:3e:00:00:01', 'vlan', '0']);
  });
});

describe('VnicTypeBinder', () => {
  class RecordingBinder implements PortBinder {
    readonly calls: string[] = [];
    constructor(readonly name: string) {}
    async bind(portRequest: PortBindingRequest): Promise<BoundInterface> {
      this.calls.push(`bind ${portRequest.vnicType ?? ''}`);
      return { hostIfName: this.name, containerIfName: this.name };
    }
    async unbind(portRequest: PortBindingRequest): Promise<void> {
      this.calls.push(`unbind ${portRequest.vnicType ?? ''}`);
    }
  }

  it('routes direct ports to SR-IOV', async () => {
    const normal = new RecordingBinder('veth');
    const sriov = new RecordingBinder('sriov');
    const binder = new VnicTypeBinder(normal, sriov);

    await binder.bind(request({ vnicType: 'normal' }));
    await binder.bind(request({ vnicType: 'direct' }));
    await binder.unbind(request({ vnicType: 'macvtap' }));

    assert.deepEqual(normal.calls, ['bind normal']);
    assert.deepEqual(sriov.calls, ['bind direct', 'unbind macvtap']);
  });

  it('rejects direct ports without SR-IOV', async () => {
    const binder = new VnicTypeBinder(new RecordingBinder('veth'), undefined);
    await assert.rejects(binder.bind(request({ vnicType: 'direct-physical' })), /vnic_type is "direct-physical".*add sriov to \[binding\] enabled_drivers/);
  });
});

describe('SR-IOV container interface name', () => {
  it('is the VF netdev', async () => {
    const binder = new SriovBinder({ runner: new FakeRunner(), sysfs: fakeSysfs() });
    assert.equal(await binder.containerIfName(request()), 'ens1f0v1');
  });

  it('comes from SR-IOV only for direct ports', async () => {
    const veth = new RecordingBinderWithoutName();
    const binder = new VnicTypeBinder(veth, new SriovBinder({ runner: new FakeRunner(), sysfs: fakeSysfs() }));

    assert.equal(await binder.containerIfName(request({ vnicType: 'direct' })), 'ens1f0v1');
    assert.equal(await binder.containerIfName(request({ vnicType: 'normal' })), undefined);
  });
});

/** A binder without containerIfName, as the veth binders are. */
class RecordingBinderWithoutName implements PortBinder {
  async bind(): Promise<BoundInterface> {
    return { hostIfName: 'tap', containerIfName: 't_c' };
  }
  async unbind(): Promise<void> {}
}
