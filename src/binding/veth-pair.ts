import type { Logger } from 'pino';
import type { IpLink } from '../host/index.js';

/** The two ends of a veth pair as this module creates it. */
export interface VethEnds {
  /** The end that stays on the host. */
  hostIfName: string;
  /** The other end: the container end for `tap`/`t_c`, the OVS end for `qvb`/`qvo`. */
  peerIfName: string;
}

/** Creates the pair, or keeps an existing one whose host end is a veth peered with the expected peer. */
export async function ensureVethPair(ip: IpLink, { hostIfName, peerIfName }: VethEnds, log: Logger): Promise<void> {
  const existing = await ip.showLink(hostIfName);
  if (existing?.kind === 'veth' && existing.link === peerIfName) {
    log.debug({ hostIfName, peerIfName }, 'reusing existing veth pair');
    return;
  }

  // The names derive from the port id, so a device with either name is left over from an
  // earlier bind of this port. That includes a pair whose container end Docker already moved
  // into a container: its peer is then in another namespace and cannot be checked by name.
  if (existing !== undefined) {
    log.warn({ hostIfName, kind: existing.kind, link: existing.link }, 'replacing host interface that is not the expected veth');
    await ip.deleteLink(hostIfName);
  }
  if (await ip.linkExists(peerIfName)) {
    log.warn({ peerIfName }, 'removing stale veth peer');
    await ip.deleteLink(peerIfName);
  }
  await ip.addVethPair(hostIfName, peerIfName);
}

/**
 * Sets the MTU on both ends, the MAC on the peer when given, and brings both ends up.
 */
export async function configureVethPair(ip: IpLink, { hostIfName, peerIfName }: VethEnds, mtu: number, peerMac?: string): Promise<void> {
  // Both ends get the network MTU. A veth drops frames longer than the receiving end's MTU,
  // so a host end left at the kernel default of 1500 breaks networks with jumbo frames.
  await ip.setMtu(hostIfName, mtu);
  await ip.setMtu(peerIfName, mtu);

  // Neutron's anti-spoofing rules drop frames whose source MAC is not the port's.
  if (peerMac !== undefined) await ip.setAddress(peerIfName, peerMac);

  // No traffic passes the bridge until the host end is up. Bringing the container end up now
  // does no harm, and its MTU and MAC survive Docker's move into the container namespace.
  await ip.setUp(hostIfName);
  await ip.setUp(peerIfName);
}
