import { KuryrError } from '../errors.js';
import type { CommandRunner } from './runner.js';
import { normalizeMac, validateIfName } from './validate.js';

/**
 * The `external_ids` that tell the Neutron Open vSwitch agent which port an OVS interface
 * carries. The agent matches `iface-id` against Neutron port ids and reports the port ACTIVE
 * once the interface has an OpenFlow port number.
 */
export interface OvsInterfaceIds {
  portId: string;
  macAddress: string;
  /** Docker endpoint id, stored as `vm-uuid` where Nova stores the instance uuid. */
  endpointId: string;
}

// ovs-vsctl parses `key=value` arguments with its own syntax, in which quotes, commas, braces and
// "=" have a meaning. Restricting values to these characters keeps every value a plain token.
const OVS_TOKEN = /^[A-Za-z0-9_.:-]{1,128}$/;

function validateToken(what: string, value: string): void {
  if (!OVS_TOKEN.test(value)) {
    throw new KuryrError(
      'INVALID_REQUEST',
      `invalid ${what} "${value}" for an Open vSwitch external_ids value: must be 1-128 characters from A-Z, a-z, 0-9, "_", ".", ":" and "-"`,
    );
  }
}

/**
 * Builds the one ovs-vsctl transaction that adds `ifName` to `bridgeName` and tags its Interface
 * row. `--may-exist` makes a repeated bind update the tags instead of failing, and one transaction
 * means the agent never finds the port without its `iface-id`.
 */
export function addOvsPortArgv(bridgeName: string, ifName: string, ids: OvsInterfaceIds): string[] {
  validateIfName(bridgeName);
  validateIfName(ifName);
  validateToken('port id', ids.portId);
  validateToken('endpoint id', ids.endpointId);
  const mac = normalizeMac(ids.macAddress);
  return [
    'ovs-vsctl', '--may-exist', 'add-port', bridgeName, ifName,
    '--', 'set', 'Interface', ifName,
    `external_ids:iface-id=${ids.portId}`,
    'external_ids:iface-status=active',
    `external_ids:attached-mac=${mac}`,
    `external_ids:vm-uuid=${ids.endpointId}`,
    'external_ids:owner=kuryr',
  ];
}

/** Builds the argv that removes `ifName` from whichever bridge it is on; a missing port is no error. */
export function deleteOvsPortArgv(ifName: string): string[] {
  validateIfName(ifName);
  return ['ovs-vsctl', '--if-exists', 'del-port', ifName];
}

/**
 * A typed wrapper over the ovs-vsctl calls that port binding needs. ovs-vsctl finds ovsdb-server
 * through its default socket, `$OVS_RUNDIR/db.sock`, so a daemon whose OVS runs with another
 * run directory must have `OVS_RUNDIR` in its environment.
 */
export class OvsVsctl {
  readonly #runner: CommandRunner;

  constructor(runner: CommandRunner) {
    this.#runner = runner;
  }

  async addPort(bridgeName: string, ifName: string, ids: OvsInterfaceIds): Promise<void> {
    await this.#runner.run(addOvsPortArgv(bridgeName, ifName, ids));
  }

  async deletePort(ifName: string): Promise<void> {
    await this.#runner.run(deleteOvsPortArgv(ifName));
  }
}
