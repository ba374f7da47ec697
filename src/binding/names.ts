import { KuryrError } from '../errors.js';
import type { BoundInterface } from './types.js';

/**
 * Neutron's agents and Nova name a port's tap device `tap` + the first 11 characters of the port id
 * (14 characters, within the kernel's 15), so `ip link` output traces back to the Neutron port.
 */
const PORT_ID_PREFIX_LENGTH = 11;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Returns the veth names for a port: `tap` and `t_c`, each followed by the first 11 characters of the port id. */
export function vethNames(portId: string): BoundInterface {
  const idPrefix = portId.slice(0, PORT_ID_PREFIX_LENGTH);
  return { hostIfName: `tap${idPrefix}`, containerIfName: `t_c${idPrefix}` };
}

/** The devices of an OVS hybrid plug, which puts a Linux bridge between the tap and Open vSwitch. */
export interface HybridPlugNames {
  /** `qbr<id>`: the Linux bridge that contains the tap and the `qvb` end. */
  bridgeName: string;
  /** `qvb<id>`: the veth end in the Linux bridge. */
  bridgeIfName: string;
  /** `qvo<id>`: the veth end on the OVS integration bridge. */
  ovsIfName: string;
}

/** Returns the hybrid-plug device names for a port, following Nova's and Neutron's `qbr`/`qvb`/`qvo` scheme. */
export function hybridPlugNames(portId: string): HybridPlugNames {
  const idPrefix = portId.slice(0, PORT_ID_PREFIX_LENGTH);
  return { bridgeName: `qbr${idPrefix}`, bridgeIfName: `qvb${idPrefix}`, ovsIfName: `qvo${idPrefix}` };
}

/**
 * Throws `INVALID_REQUEST` unless `portId` is a UUID, as Neutron port ids are. A shorter or empty id
 * would give device names (`tap`, `t_c`) that collide between ports.
 */
export function validatePortId(portId: string): void {
  if (!UUID.test(portId)) {
    throw new KuryrError('INVALID_REQUEST', `invalid port id "${portId}": must be a UUID such as Neutron assigns`);
  }
}
