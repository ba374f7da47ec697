/**
 * Neutron names and tags shared with upstream Kuryr, so networks and ports
 * made by either implementation are found by the other.
 */

export const PORT_DEVICE_OWNER = 'kuryr:container';
/** Tag on every port kuryr creates; upstream Kuryr uses the same tag on its IPAM ports. */
export const PORT_TAG = 'compute:kuryr';
/** Tag on an operator's port that kuryr adopted and must hand back unchanged. */
export const EXISTING_PORT_TAG = 'kuryr.port.existing';
/** Tag prefix on an operator's network that kuryr adopted; the suffix is the Docker id's first 12 characters. */
export const EXISTING_NETWORK_TAG_PREFIX = 'kuryr.net.existing:';
/** Tag on the Neutron network of a Docker `--internal` network: Join returns no gateway for it. */
export const INTERNAL_NETWORK_TAG = 'kuryr.net.internal';
/** Tag of a network a swarm manager allocated: only FreeNetwork deletes it, never a host's DeleteNetwork. */
export const SWARM_NETWORK_TAG = 'kuryr.net.swarm';
/** Tag prefix on a subnet for each --aux-address, which kuryr keeps out of Docker's --ip. */
export const AUX_ADDRESS_TAG_PREFIX = 'kuryr.aux:';
export const SUBNET_NAME_PREFIX = 'kuryr-subnet-';
export const NETWORK_NAME_PREFIX = 'kuryr-net-';
export const PORT_NAME = 'kuryr-port';
/**
 * Name of a port a swarm manager reserved: RequestAddress without a MAC. It
 * stays unbound until the host that runs the container claims it with its
 * own RequestAddress for the same address.
 */
export const SWARM_RESERVED_PORT_NAME = 'kuryr-swarm-reserved';

/**
 * Tags that identify a Docker network (or endpoint) on a Neutron resource.
 * Neutron limits a tag to 60 characters, so a 64-character Docker id is split
 * into a low half and a high half. A 25-character swarm id needs only one tag.
 */
export function dockerIdTags(dockerId: string): string[] {
  const tags = [`kuryr.net.uuid.lh:${dockerId.slice(0, 32)}`];
  if (dockerId.length > 32) tags.push(`kuryr.net.uuid.uh:${dockerId.slice(32, 64)}`);
  return tags;
}

export function networkName(networkId: string): string {
  return `${NETWORK_NAME_PREFIX}${networkId.slice(0, 8)}`;
}

export function subnetName(cidr: string): string {
  return `${SUBNET_NAME_PREFIX}${cidr}`;
}

export function subnetPoolName(prefix: string, cidr: string): string {
  return `${prefix}-${cidr}`;
}
