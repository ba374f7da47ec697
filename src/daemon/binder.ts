/** Chooses the port binder from the `[binding]` section. */
import type { Logger } from 'pino';
import { MacvlanBinder, SelectingBinder, SriovBinder, VlanBinder, VnicTypeBinder, type PortBinder } from '../binding/index.js';
import { NESTED_DRIVERS, type BindingConfig } from '../config/index.js';
import { KuryrError } from '../errors.js';
import type { CommandRunner } from '../host/index.js';
import type { NeutronClient } from '../neutron/index.js';

export interface BinderDependencies {
  runner: CommandRunner;
  neutron: NeutronClient;
  bindir: string;
  logger: Logger;
}

/**
 * Builds the binder for ports of vnic_type `normal` from `driver`, and puts the SR-IOV binder in
 * front of it for `direct`, `direct-physical` and `macvtap` ports when `sriov` is enabled.
 */
export function createBinder(binding: BindingConfig, dependencies: BinderDependencies): PortBinder {
  const { runner, logger } = dependencies;
  const sriov = binding.enabledDrivers.includes('sriov') ? new SriovBinder({ runner, logger }) : undefined;
  return new VnicTypeBinder(createNormalBinder(binding, dependencies), sriov);
}

export function createNormalBinder(binding: BindingConfig, dependencies: BinderDependencies): PortBinder {
  const { runner, neutron, bindir, logger } = dependencies;
  switch (binding.driver) {
    // SR-IOV binds only ports of an SR-IOV vnic_type, so with driver sriov the other ports use veth.
    case 'veth':
    case 'sriov':
      return new SelectingBinder({ runner, bindir, logger });
    case 'macvlan':
    case 'ipvlan':
      return new MacvlanBinder({ mode: binding.driver, runner, neutron, linkIface: binding.linkIface, logger });
    case 'vlan':
      return new VlanBinder({ runner, neutron, linkIface: binding.linkIface, logger });
    default:
      throw new KuryrError('INTERNAL', `unhandled binding driver "${String(binding.driver satisfies never)}"`);
  }
}

/**
 * Returns the port settings that follow from the binding driver. No agent plugs nested ports, so
 * they stay unbound (`binding:host_id` empty). Neutron keeps an unbound port DOWN, so the daemon
 * does not wait for ACTIVE.
 */
export function portSettings(binding: BindingConfig, hostName: string, activeTimeoutMs: number): { hostName: string; portActiveTimeoutMs: number } {
  if (NESTED_DRIVERS.includes(binding.driver)) return { hostName: '', portActiveTimeoutMs: 0 };
  return { hostName, portActiveTimeoutMs: activeTimeoutMs };
}
