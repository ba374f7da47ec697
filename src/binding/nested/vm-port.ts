/** Finding the VM's own Neutron port, behind which nested containers sit. */
import { KuryrError } from '../../errors.js';
import type { IpLink } from '../../host/index.js';
import type { NeutronClient, Port } from '../../neutron/index.js';

/**
 * Finds the VM port as the Neutron port whose MAC equals the MAC of `link_iface`, as upstream
 * kuryr-libnetwork does. Nova gives each VM NIC the MAC of its port, so the MAC identifies the
 * port from inside the VM without Nova credentials.
 */
export class VmPortLocator {
  readonly #neutron: Pick<NeutronClient, 'ports'>;
  readonly #ip: IpLink;
  readonly #linkIface: string;
  #found: Promise<Port> | undefined;

  constructor(options: { neutron: Pick<NeutronClient, 'ports'>; ip: IpLink; linkIface: string }) {
    this.#neutron = options.neutron;
    this.#ip = options.ip;
    this.#linkIface = options.linkIface;
  }

  get linkIface(): string {
    return this.#linkIface;
  }

  /**
   * Returns the VM port as first found; a failed lookup is not cached. Its id, network and MAC stay
   * fixed for the VM's lifetime. Its pairs and revision are as of the lookup, so writers re-read it.
   */
  async port(): Promise<Port> {
    this.#found ??= this.#find();
    try {
      return await this.#found;
    } catch (error) {
      this.#found = undefined;
      throw error;
    }
  }

  async #find(): Promise<Port> {
    const link = await this.#ip.showLink(this.#linkIface);
    if (link?.address === undefined) {
      throw new KuryrError(
        'BINDING_FAILED',
        `cannot find the VM port: link_iface "${this.#linkIface}" ${link === undefined ? 'does not exist' : 'has no MAC address'} in this network namespace`,
      );
    }
    const ports = await this.#neutron.ports.list({ mac_address: link.address });
    if (ports.length === 1 && ports[0] !== undefined) return ports[0];
    if (ports.length === 0) {
      throw new KuryrError(
        'BINDING_FAILED',
        `cannot find the VM port: no Neutron port has MAC address "${link.address}" of link_iface "${this.#linkIface}"; ` +
          'set link_iface to the interface Nova attached, or check that kuryr sees the VM project',
      );
    }
    const ids = ports.map((port) => `"${port.id}"`).join(', ');
    throw new KuryrError(
      'BINDING_FAILED',
      `cannot find the VM port: ports ${ids} all have MAC address "${link.address}" of link_iface "${this.#linkIface}", so the VM port is ambiguous`,
    );
  }
}
