import type { Logger } from 'pino';
import { pino } from 'pino';
import { KuryrError } from '../../errors.js';
import { IpLink, normalizeMac, validateIfName, validateMtu } from '../../host/index.js';
import type { CommandRunner } from '../../host/index.js';
import type { AddressPair, NeutronClient, Port } from '../../neutron/index.js';
import { validatePortId, vethNames } from '../names.js';
import type { BoundInterface, PortBinder, PortBindingRequest } from '../types.js';
import { addAddressPairs, removeAddressPairs } from './address-pairs.js';
import { addChildDevice, addIpvlanArgv, addMacvlanArgv } from './devices.js';
import { UndoList, messageOf } from './undo.js';
import { PerKeyQueue } from './serialize.js';
import { VmPortLocator } from './vm-port.js';

export type AddressBindingMode = 'macvlan' | 'ipvlan';

export interface MacvlanBinderOptions {
  mode: AddressBindingMode;
  runner: CommandRunner;
  neutron: Pick<NeutronClient, 'ports'>;
  /** The VM interface whose Neutron port carries the containers (`[binding] link_iface`). */
  linkIface: string;
  logger?: Logger;
}

/**
 * Nested binding for Kuryr inside a VM: each container gets a macvlan (or ipvlan L2) child of the
 * VM's interface, and the container port's addresses become allowed address pairs of the VM port.
 *
 * The container port itself stays unbound (`binding:host_id` empty): no agent plugs it, because its
 * traffic enters Neutron through the VM port. Neutron therefore keeps the port DOWN, and the
 * daemon does not wait for ACTIVE in nested modes. The port still reserves the IP and MAC.
 *
 * The pair's MAC: a macvlan child sends from its own MAC, which is set to the container port's
 * MAC, so the pair is that MAC and the IP. An ipvlan child sends from the parent's MAC, so the pair
 * is the VM port's MAC and the IP.
 */
export class MacvlanBinder implements PortBinder {
  readonly #mode: AddressBindingMode;
  readonly #runner: CommandRunner;
  readonly #ip: IpLink;
  readonly #neutron: Pick<NeutronClient, 'ports'>;
  readonly #vmPort: VmPortLocator;
  readonly #queue = new PerKeyQueue();
  readonly #logger: Logger;

  constructor(options: MacvlanBinderOptions) {
    validateIfName(options.linkIface);
    this.#mode = options.mode;
    this.#runner = options.runner;
    this.#ip = new IpLink(options.runner);
    this.#neutron = options.neutron;
    this.#vmPort = new VmPortLocator({ neutron: options.neutron, ip: this.#ip, linkIface: options.linkIface });
    this.#logger = options.logger ?? pino({ enabled: false });
  }

  async bind(request: PortBindingRequest): Promise<BoundInterface> {
    const { containerIfName } = vethNames(request.portId);
    const mac = validateRequest(request);
    const fixedIps = request.fixedIps ?? [];
    if (fixedIps.length === 0) {
      throw new KuryrError('BINDING_FAILED', `cannot bind port "${request.portId}" nested: it has no fixed IP to allow on the VM port`);
    }
    const vmPort = await this.#vmPort.port();
    requireSameNetwork(request, vmPort);
    const log = this.#logger.child({ portId: request.portId, endpointId: request.endpointId, containerIfName, vmPortId: vmPort.id });

    const undo = new UndoList(log);
    try {
      await this.#createChild(containerIfName, mac, request.mtu, undo);
      const pairs = this.#pairsFor(fixedIps, mac, vmPort);
      await addAddressPairs(this.#pairContext(log), vmPort.id, pairs);
      undo.add('remove allowed address pairs', () => removeAddressPairs(this.#pairContext(log), vmPort.id, pairs));
    } catch (error) {
      await undo.run();
      throw new KuryrError(
        'BINDING_FAILED',
        `cannot bind port "${request.portId}" to ${this.#mode} device "${containerIfName}" on "${this.#vmPort.linkIface}": ${messageOf(error)}`,
        { cause: error },
      );
    }

    log.info({ mode: this.#mode, fixedIps }, `bound port to ${this.#mode} device`);
    return { hostIfName: this.#vmPort.linkIface, containerIfName };
  }

  /** Deletes the device first, so the host is clean even when Neutron is unreachable, then removes the pairs. */
  async unbind(request: PortBindingRequest): Promise<void> {
    const { containerIfName } = vethNames(request.portId);
    const mac = validateRequest(request);
    const log = this.#logger.child({ portId: request.portId, endpointId: request.endpointId, containerIfName });

    // A missing device counts as removed: Docker destroys it with the container's namespace.
    const deleted = await this.#ip.deleteLink(containerIfName);
    const vmPort = await this.#vmPort.port();
    await removeAddressPairs(this.#pairContext(log), vmPort.id, this.#pairsFor(request.fixedIps ?? [], mac, vmPort));
    log.info({ deviceDeleted: deleted, vmPortId: vmPort.id }, `unbound port from ${this.#mode} device`);
  }

  async #createChild(containerIfName: string, mac: string, mtu: number, undo: UndoList): Promise<void> {
    // The name derives from the port id, so an existing device is left over from an earlier bind of this port.
    await this.#ip.deleteLink(containerIfName);
    const parent = this.#vmPort.linkIface;
    const argv = this.#mode === 'macvlan' ? addMacvlanArgv(containerIfName, parent) : addIpvlanArgv(containerIfName, parent);
    await addChildDevice(this.#runner, this.#mode, argv, parent);
    undo.add(`delete ${this.#mode} device`, () => this.#ip.deleteLink(containerIfName));

    // The MTU and MAC survive Docker's move of the device into the container's namespace.
    await this.#ip.setMtu(containerIfName, mtu);
    if (this.#mode === 'macvlan') await this.#ip.setAddress(containerIfName, mac);
    await this.#ip.setUp(containerIfName);
  }

  #pairsFor(fixedIps: readonly string[], containerMac: string, vmPort: Port): AddressPair[] {
    const mac = this.#mode === 'macvlan' ? containerMac : vmPort.mac_address.toLowerCase();
    return fixedIps.map((ip) => ({ ip_address: ip, mac_address: mac }));
  }

  #pairContext(logger: Logger) {
    return { neutron: this.#neutron, queue: this.#queue, logger };
  }
}

function validateRequest(request: PortBindingRequest): string {
  validatePortId(request.portId);
  validateMtu(request.mtu);
  return normalizeMac(request.macAddress);
}

/** Frames of the containers leave through the VM port, so they can only reach the VM port's network. */
function requireSameNetwork(request: PortBindingRequest, vmPort: Port): void {
  if (request.neutronNetworkId === vmPort.network_id) return;
  throw new KuryrError(
    'BINDING_FAILED',
    `cannot bind port "${request.portId}" nested: it is on Neutron network "${request.neutronNetworkId}" but the VM port ` +
      `"${vmPort.id}" is on "${vmPort.network_id}", and nested containers can only join the VM port's network: ` +
      `create the Docker network with -o neutron.net.uuid=${vmPort.network_id}`,
  );
}
