/**
 * SR-IOV binding for ports of `binding:vnic_type` `direct`: the container gets a virtual function
 * (VF) of a physical NIC, configured through its physical function (PF). Neutron's SR-IOV
 * mechanism driver puts the VF's PCI address in `binding:profile.pci_slot` and the VLAN in
 * `binding:vif_details.vlan`.
 */
import { readdir, readlink } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { KuryrError } from '../errors.js';
import { normalizeMac, validateIfName } from '../host/index.js';
import type { CommandRunner } from '../host/index.js';
import { validatePortId } from './names.js';
import type { BoundInterface, PortBinder, PortBindingRequest } from './types.js';

/** vnic_types whose ports get a VF, as upstream Kuryr selects its SR-IOV port driver. */
export const SRIOV_VNIC_TYPES: readonly string[] = ['direct', 'direct-physical', 'macvtap'];

/** The file system calls the VF lookup makes under /sys; tests pass a fake tree. */
export interface Sysfs {
  readdir(path: string): Promise<string[]>;
  readlink(path: string): Promise<string>;
}

export const hostSysfs: Sysfs = { readdir: (path) => readdir(path), readlink: (path) => readlink(path) };

export interface VirtualFunction {
  /** The PF's netdev, which `ip link set ... vf N` configures. */
  pfIfName: string;
  /** The VF's index on its PF, from the PF's `virtfnN` link that points to the VF. */
  vfIndex: number;
  /** The VF's own netdev, which Docker moves into the container. */
  vfIfName: string;
}

// The domain:bus:device.function form the kernel uses under /sys/bus/pci/devices.
const PCI_ADDRESS = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

/**
 * Finds a VF's PF and index: `/sys/bus/pci/devices/<vf>/physfn/net/` names the PF netdev, the
 * PF's `virtfnN` links point to its VFs, and `/sys/bus/pci/devices/<vf>/net/` names the VF netdev.
 */
export async function findVirtualFunction(sysfs: Sysfs, pciSlot: string): Promise<VirtualFunction> {
  const slot = pciSlot.toLowerCase();
  if (!PCI_ADDRESS.test(slot)) {
    throw new KuryrError('BINDING_FAILED', `invalid pci_slot "${pciSlot}" in binding:profile: expected a PCI address such as 0000:0a:00.1`);
  }
  const device = `/sys/bus/pci/devices/${slot}`;
  const pfIfName = await firstEntry(sysfs, `${device}/physfn/net`, `PCI device "${slot}" is no virtual function with a PF netdev`);
  const vfIfName = await firstEntry(sysfs, `${device}/net`, `virtual function "${slot}" has no netdev (is it bound to vfio-pci?)`);

  for (const entry of await sysfs.readdir(`${device}/physfn`)) {
    const match = /^virtfn(\d+)$/.exec(entry);
    if (match === null) continue;
    if (basename(await sysfs.readlink(`${device}/physfn/${entry}`)) === slot) {
      validateIfName(pfIfName);
      validateIfName(vfIfName);
      return { pfIfName, vfIfName, vfIndex: Number(match[1]) };
    }
  }
  throw new KuryrError('BINDING_FAILED', `cannot find virtual function "${slot}" among the virtfn links of PF "${pfIfName}"`);
}

async function firstEntry(sysfs: Sysfs, path: string, missing: string): Promise<string> {
  let entries: string[];
  try {
    entries = await sysfs.readdir(path);
  } catch (error) {
    throw new KuryrError('BINDING_FAILED', `${missing}: cannot read "${path}"`, { cause: error });
  }
  const [first] = entries.sort();
  if (first === undefined) throw new KuryrError('BINDING_FAILED', `${missing}: "${path}" is empty`);
  return first;
}

/** `ip link set dev <pf> vf <n> mac <mac> vlan <vlan>`; VLAN 0 means untagged. */
export function setVfArgv(pfIfName: string, vfIndex: number, mac: string, vlan: number): string[] {
  validateIfName(pfIfName);
  return ['ip', 'link', 'set', 'dev', pfIfName, 'vf', String(vfIndex), 'mac', normalizeMac(mac), 'vlan', String(vlan)];
}

/** Reads the VLAN that Neutron's SR-IOV driver put in vif_details; none means untagged. */
export function vfVlan(vifDetails: Record<string, unknown>): number {
  const value = vifDetails['vlan'];
  if (value === undefined || value === null) return 0;
  const vlan = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(vlan) || vlan < 0 || vlan > 4094) {
    throw new KuryrError('BINDING_FAILED', `invalid vlan ${JSON.stringify(value)} in binding:vif_details: expected an integer from 0 to 4094`);
  }
  return vlan;
}

/**
 * Binds by setting the VF's MAC and VLAN through its PF. No IP, MTU or namespace work happens
 * here: Docker moves the VF netdev into the container. Unbind resets the VLAN to 0 and keeps the
 * MAC, as upstream's hw_veb driver does.
 */
export class SriovBinder implements PortBinder {
  readonly #runner: CommandRunner;
  readonly #sysfs: Sysfs;
  readonly #logger: Logger;

  constructor(options: { runner: CommandRunner; sysfs?: Sysfs; logger?: Logger }) {
    this.#runner = options.runner;
    this.#sysfs = options.sysfs ?? hostSysfs;
    this.#logger = options.logger ?? pino({ enabled: false });
  }

  async bind(request: PortBindingRequest): Promise<BoundInterface> {
    validatePortId(request.portId);
    const vf = await findVirtualFunction(this.#sysfs, pciSlotOf(request));
    await this.#runner.run(setVfArgv(vf.pfIfName, vf.vfIndex, request.macAddress, vfVlan(request.vifDetails)));
    this.#logger.info({ portId: request.portId, ...vf }, 'bound port to SR-IOV virtual function');
    return { hostIfName: vf.pfIfName, containerIfName: vf.vfIfName };
  }

  async unbind(request: PortBindingRequest): Promise<void> {
    validatePortId(request.portId);
    const vf = await findVirtualFunction(this.#sysfs, pciSlotOf(request));
    await this.#runner.run(setVfArgv(vf.pfIfName, vf.vfIndex, request.macAddress, 0));
    this.#logger.info({ portId: request.portId, ...vf }, 'unbound port from SR-IOV virtual function');
  }

  /** Returns the VF's netdev, which Docker moves into the container. */
  async containerIfName(request: PortBindingRequest): Promise<string> {
    return (await findVirtualFunction(this.#sysfs, pciSlotOf(request))).vfIfName;
  }
}

function pciSlotOf(request: PortBindingRequest): string {
  const slot = request.bindingProfile?.['pci_slot'];
  if (typeof slot === 'string' && slot !== '') return slot;
  throw new KuryrError(
    'BINDING_FAILED',
    `cannot bind port "${request.portId}" of vnic_type "${request.vnicType ?? 'direct'}": its binding:profile has no pci_slot, ` +
      'which Neutron sets when its SR-IOV mechanism driver binds the port',
  );
}

/**
 * Sends ports of an SR-IOV vnic_type to the SR-IOV binder and every other port to `normal`. With
 * SR-IOV not enabled, such a port fails with the setting to change instead of getting a veth.
 */
export class VnicTypeBinder implements PortBinder {
  readonly #normal: PortBinder;
  readonly #sriov: PortBinder | undefined;

  constructor(normal: PortBinder, sriov: PortBinder | undefined) {
    this.#normal = normal;
    this.#sriov = sriov;
  }

  async bind(request: PortBindingRequest): Promise<BoundInterface> {
    return this.#binderFor(request).bind(request);
  }

  async unbind(request: PortBindingRequest): Promise<void> {
    return this.#binderFor(request).unbind(request);
  }

  async containerIfName(request: PortBindingRequest): Promise<string | undefined> {
    return this.#binderFor(request).containerIfName?.(request);
  }

  #binderFor(request: PortBindingRequest): PortBinder {
    const vnicType = request.vnicType ?? 'normal';
    if (!SRIOV_VNIC_TYPES.includes(vnicType)) return this.#normal;
    if (this.#sriov !== undefined) return this.#sriov;
    throw new KuryrError(
      'BINDING_FAILED',
      `cannot bind port "${request.portId}": its vnic_type is "${vnicType}", which needs SR-IOV binding; add sriov to [binding] enabled_drivers`,
    );
  }
}
