export { MacvlanBinder } from './macvlan.js';
export { VlanBinder, lowestFreeVlanId } from './vlan.js';
export type { VlanBinderOptions } from './vlan.js';
export type { AddressBindingMode, MacvlanBinderOptions } from './macvlan.js';
export { MAX_PAIR_UPDATE_ATTEMPTS } from './address-pairs.js';
export { addIpvlanArgv, addMacvlanArgv, addVlanArgv } from './devices.js';
