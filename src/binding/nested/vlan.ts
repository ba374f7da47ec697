import type { Logger } from 'pino';
import { pino } from 'pino';
import { KuryrError, isHttpStatus } from '../../errors.js';
import { IpLink, normalizeMac, validateIfName, validateMtu } from '../../host/index.js';
import type { CommandRunner } from '../../host/index.js';
import { isNeutronNotFound } from '../../neutron/index.js';
import type { NeutronClient, Trunk } from '../../neutron/index.js';
import { validatePortId, vethNames } from '../names.js';
import type { BoundInterface, PortBinder, PortBindingRequest } from '../types.js';
import { addChildDevice, addVlanArgv } from './devices.js';
import { PerKeyQueue } from './serialize.js';
import { UndoList, messageOf } from './undo.js';
import { VmPortLocator } from './vm-port.js';

export interface VlanBinderOptions {
  runner: CommandRunner;
  neutron: Pick<NeutronClient, 'ports' | 'trunks'>;
  /** The VM interface whose Neutron port is the trunk's parent (`[binding] link_iface`). */
  linkIface: string;
  logger?: Logger;
}

/** 802.1Q ids usable on a trunk; 0 and 4095 are reserved. */
const FIRST_VLAN_ID = 1;
const LAST_VLAN_ID = 4094;

/**
 * Rounds of "read the trunk, pick a free id, add the subport". A round fails with 409 only when
 * another writer took the same id after our read, so a few rounds cover writers racing at once.
 */
const ADD_SUBPORT_ATTEMPTS = 5;

/**
 * Nested binding through a trunk: the VM port is the trunk's parent, each container port becomes
 * a subport with its own VLAN id, and the container gets a VLAN child of `link_iface` with that id.
 *
 * VLAN ids are never kept in memory. Each bind reads the trunk's current subports from Neutron and
 * takes the lowest free id, so a restarted daemon never reuses an id that is still taken. Unbind
 * frees the id by removing the subport. Binds on one trunk run one at a time in this
 * daemon. A concurrent writer elsewhere makes Neutron reject a duplicate id with 409, and the bind
 * then re-reads the trunk and tries the next free id.
 */
export class VlanBinder implements PortBinder {
  readonly #runner: CommandRunner;
  readonly #ip: IpLink;
  readonly #neutron: Pick<NeutronClient, 'ports' | 'trunks'>;
  readonly #vmPort: VmPortLocator;
  readonly #queue = new PerKeyQueue();
  readonly #logger: Logger;

  constructor(options: VlanBinderOptions) {
    validateIfName(options.linkIface);
    this.#runner = options.runner;
    this.#ip = new IpLink(options.runner);
    this.#neutron = options.neutron;
    this.#vmPort = new VmPortLocator({ neutron: options.neutron, ip: this.#ip, linkIface: options.linkIface });
    this.#logger = options.logger ?? pino({ enabled: false });
  }

  async bind(request: PortBindingRequest): Promise<BoundInterface> {
    const { containerIfName } = vethNames(request.portId);
    validatePortId(request.portId);
    validateMtu(request.mtu);
    const mac = normalizeMac(request.macAddress);
    const trunk = await this.#findTrunk();
    const log = this.#logger.child({ portId: request.portId, endpointId: request.endpointId, containerIfName, trunkId: trunk.id });

    const undo = new UndoList(log);
    try {
      const vlanId = await this.#addSubport(trunk.id, request.portId, log);
      undo.add('remove subport', () => this.#removeSubport(trunk.id, request.portId));

      await this.#ip.deleteLink(containerIfName);
      await addChildDevice(this.#runner, 'vlan', addVlanArgv(containerIfName, this.#vmPort.linkIface, vlanId), this.#vmPort.linkIface);
      undo.add('delete VLAN device', () => this.#ip.deleteLink(containerIfName));
      await this.#ip.setMtu(containerIfName, request.mtu);
      await this.#ip.setAddress(containerIfName, mac);
      await this.#ip.setUp(containerIfName);
      log.info({ vlanId }, 'bound port to VLAN device on trunk');
    } catch (error) {
      await undo.run();
      throw new KuryrError(
        'BINDING_FAILED',
        `cannot bind port "${request.portId}" as a subport of trunk "${trunk.id}" on "${this.#vmPort.linkIface}": ${messageOf(error)}`,
        { cause: error },
      );
    }
    return { hostIfName: this.#vmPort.linkIface, containerIfName };
  }

  /** Deletes the device, then removes the subport, which frees its VLAN id. Both may already be gone. */
  async unbind(request: PortBindingRequest): Promise<void> {
    validatePortId(request.portId);
    const { containerIfName } = vethNames(request.portId);
    const deleted = await this.#ip.deleteLink(containerIfName);
    const trunk = await this.#findTrunk();
    const removed = await this.#removeSubport(trunk.id, request.portId);
    this.#logger.info({ portId: request.portId, containerIfName, trunkId: trunk.id, deviceDeleted: deleted, subportRemoved: removed }, 'unbound port from trunk');
  }

  async #findTrunk(): Promise<Trunk> {
    const vmPort = await this.#vmPort.port();
    const [trunk] = await this.#neutron.trunks.list({ port_id: vmPort.id });
    if (trunk !== undefined) return trunk;
    throw new KuryrError(
      'BINDING_FAILED',
      `VM port "${vmPort.id}" on link_iface "${this.#vmPort.linkIface}" is no trunk parent: ` +
        `create a trunk with "openstack network trunk create --parent-port ${vmPort.id} <name>"`,
    );
  }

  /** Adds the port as a subport, or finds it already there, and returns its VLAN id. */
  #addSubport(trunkId: string, portId: string, log: Logger): Promise<number> {
    return this.#queue.run(`trunk:${trunkId}`, async () => {
      for (let attempt = 1; ; attempt += 1) {
        const trunk = await this.#neutron.trunks.get(trunkId);
        const existing = trunk.sub_ports.find((subport) => subport.port_id === portId);
        if (existing !== undefined) return existing.segmentation_id;

        const vlanId = lowestFreeVlanId(trunk);
        try {
          await this.#neutron.trunks.addSubports(trunkId, [{ port_id: portId, segmentation_id: vlanId }]);
          return vlanId;
        } catch (error) {
          if (!isHttpStatus(error, 409) || attempt >= ADD_SUBPORT_ATTEMPTS) throw error;
          log.warn({ err: error, vlanId, attempt }, 'trunk changed while adding a subport; retrying with a fresh read');
        }
      }
    });
  }

  /** Returns false when the port was no subport of the trunk. */
  #removeSubport(trunkId: string, portId: string): Promise<boolean> {
    return this.#queue.run(`trunk:${trunkId}`, async () => {
      try {
        await this.#neutron.trunks.removeSubports(trunkId, [portId]);
        return true;
      } catch (error) {
        // SubPortNotFound: a repeated unbind, or a bind that failed before the subport was added.
        if (isNeutronNotFound(error)) return false;
        throw error;
      }
    });
  }
}

/** Returns the lowest VLAN id that no subport of the trunk uses. */
export function lowestFreeVlanId(trunk: Pick<Trunk, 'id' | 'sub_ports'>): number {
  const used = new Set(trunk.sub_ports.map((subport) => subport.segmentation_id));
  for (let vlanId = FIRST_VLAN_ID; vlanId <= LAST_VLAN_ID; vlanId += 1) {
    if (!used.has(vlanId)) return vlanId;
  }
  throw new KuryrError('CONFLICT', `trunk "${trunk.id}" has no free VLAN id: all ${LAST_VLAN_ID} ids are taken by subports`);
}
