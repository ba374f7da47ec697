/**
 * The container devices of nested binding: a macvlan, ipvlan or VLAN child of the VM's interface
 * (`link_iface`). Each is named `t_c` + 11 characters of the port id, like the container end of a
 * veth, so Join hands Docker the same name in every mode.
 */
import { CommandError, KuryrError } from '../../errors.js';
import { validateIfName } from '../../host/index.js';
import type { CommandRunner } from '../../host/index.js';

/** A child device kind and what the kernel needs for it. */
export type ChildKind = 'macvlan' | 'ipvlan' | 'vlan';

/**
 * `ip link add <child> link <parent> type macvlan mode bridge`. In bridge mode, children of one
 * parent reach each other inside the kernel, so two containers on one VM talk without the frame
 * leaving the VM.
 */
export function addMacvlanArgv(childIfName: string, parentIfName: string): string[] {
  validateIfName(childIfName);
  validateIfName(parentIfName);
  return ['ip', 'link', 'add', childIfName, 'link', parentIfName, 'type', 'macvlan', 'mode', 'bridge'];
}

/** `ip link add <child> link <parent> type ipvlan mode l2`. ipvlan children share the parent's MAC. */
export function addIpvlanArgv(childIfName: string, parentIfName: string): string[] {
  validateIfName(childIfName);
  validateIfName(parentIfName);
  return ['ip', 'link', 'add', childIfName, 'link', parentIfName, 'type', 'ipvlan', 'mode', 'l2'];
}

/** `ip link add link <parent> name <child> type vlan id <vlanId>`, an 802.1Q child that tags with `vlanId`. */
export function addVlanArgv(childIfName: string, parentIfName: string, vlanId: number): string[] {
  validateIfName(childIfName);
  validateIfName(parentIfName);
  validateVlanId(vlanId);
  return ['ip', 'link', 'add', 'link', parentIfName, 'name', childIfName, 'type', 'vlan', 'id', String(vlanId)];
}

/** Throws `INVALID_REQUEST` unless `vlanId` is a usable 802.1Q id (0 and 4095 are reserved). */
export function validateVlanId(vlanId: number): void {
  if (!Number.isInteger(vlanId) || vlanId < 1 || vlanId > 4094) {
    throw new KuryrError('INVALID_REQUEST', `invalid VLAN id ${vlanId}: must be an integer from 1 to 4094`);
  }
}

/** The kernel module behind each child kind, named in the error when the kernel lacks it. */
const KERNEL_MODULES: Record<ChildKind, string> = { macvlan: 'macvlan', ipvlan: 'ipvlan', vlan: '8021q' };

/**
 * Runs `argv` to create a child device. iproute2 6.1 prints "Unknown device type" when the kind's
 * module is missing and cannot be loaded, and the kernel returns EOPNOTSUPP ("Operation not
 * supported") when it is built without that link type. Both become an error naming the module.
 */
export async function addChildDevice(runner: CommandRunner, kind: ChildKind, argv: string[], parentIfName: string): Promise<void> {
  try {
    await runner.run(argv);
  } catch (error) {
    if (error instanceof CommandError && /Unknown device type|Operation not supported/i.test(error.stderr)) {
      const module = KERNEL_MODULES[kind];
      throw new KuryrError(
        'BINDING_FAILED',
        `cannot create a ${kind} device on "${parentIfName}": the kernel has no ${kind} support (module ${module}); ` +
          `load it with "modprobe ${module}" or choose another [binding] driver`,
        { cause: error },
      );
    }
    throw error;
  }
}
