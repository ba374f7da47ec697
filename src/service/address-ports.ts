/**
 * The port behind each endpoint address. A dual-stack endpoint gets ONE
 * Neutron port: dockerd sends RequestAddress for IPv4, then for IPv6, both
 * with the MAC it generated (IPAM capability RequiresMACAddress), so the
 * second request adds its fixed IP to the port the first one made for that
 * MAC. ReleaseAddress removes one fixed IP and deletes the port with its last.
 * An operator's free port holding a `--ip` address is adopted and handed back.
 */
import { KuryrError, OpenStackHttpError } from '../errors.js';
import type { FixedIpRequest, Port, Subnet } from '../neutron/index.js';
import { addressKey, type ServiceContext } from './context.js';
import { deleteExposedPortsGroup } from './exposed-ports.js';
import { EXISTING_PORT_TAG, PORT_DEVICE_OWNER, PORT_NAME, PORT_TAG, SWARM_RESERVED_PORT_NAME } from './naming.js';

/** Tag prefixes recording what an adopted port looked like, so it is handed back unchanged. */
const ORIGINAL_MAC_TAG = 'kuryr.port.mac:';
const ORIGINAL_IP_TAG = 'kuryr.port.ip:';

/** Stores the port under each of its addresses, replacing stale copies. */
export function rememberPort(ctx: ServiceContext, port: Port): void {
  for (const [key, cached] of ctx.addressPorts) {
    if (cached.id === port.id) ctx.addressPorts.delete(key);
  }
  for (const fixedIp of port.fixed_ips) ctx.addressPorts.set(addressKey(port.network_id, fixedIp.ip_address), port);
}

/**
 * Finds the kuryr port already reserved for this MAC on the subnet's network:
 * the IPv4 half of a dual-stack endpoint. Neutron keeps MACs unique per
 * network, so at most one port matches.
 */
export async function findPortForMac(ctx: ServiceContext, subnet: Subnet, mac: string): Promise<Port | undefined> {
  const wanted = mac.toLowerCase();
  const cached = [...ctx.addressPorts.values()].find((port) => port.network_id === subnet.network_id && port.mac_address === wanted);
  const port = cached ?? (await ctx.neutron.ports.list({ network_id: subnet.network_id, mac_address: wanted }))[0];
  return port !== undefined && isSiblingCandidate(port, subnet) ? port : undefined;
}

/**
 * A port joins a dual-stack pair only while no endpoint has claimed it and it
 * has no address in this subnet yet. Otherwise the MAC is reused by a second
 * container, and the create that follows fails with a MAC-in-use error.
 */
function isSiblingCandidate(port: Port, subnet: Subnet): boolean {
  const claimed = (port.tags ?? []).some((tag) => tag.startsWith('kuryr.net.uuid.'));
  const hasSubnetAddress = port.fixed_ips.some((fixedIp) => fixedIp.subnet_id === subnet.id);
  return (isKuryrPort(port) || (port.tags ?? []).includes(EXISTING_PORT_TAG)) && !claimed && !hasSubnetAddress;
}

function isKuryrPort(port: Port): boolean {
  return port.device_owner === PORT_DEVICE_OWNER || (port.tags ?? []).includes(PORT_TAG);
}

/** Adds a fixed IP in `subnet` (the requested address, or any free one) to the port. */
export async function addAddressToPort(ctx: ServiceContext, port: Port, subnet: Subnet, address: string): Promise<Port> {
  const fixedIps: FixedIpRequest[] = port.fixed_ips.map((fixedIp) => ({ subnet_id: fixedIp.subnet_id, ip_address: fixedIp.ip_address }));
  fixedIps.push(address === '' ? { subnet_id: subnet.id } : { subnet_id: subnet.id, ip_address: address });
  try {
    return await ctx.neutron.ports.update(port.id, { fixed_ips: fixedIps });
  } catch (error) {
    if (isAddressTaken(error) && address !== '') throw await addressHeldError(ctx, subnet, address, error);
    throw error;
  }
}

export function isAddressTaken(error: unknown): error is OpenStackHttpError {
  return error instanceof OpenStackHttpError && (error.faultType === 'IpAddressAlreadyAllocated' || error.faultType === 'IpAddressInUse');
}

async function findHolder(ctx: ServiceContext, subnet: Subnet, address: string): Promise<Port | undefined> {
  const ports = await ctx.neutron.ports.list({ network_id: subnet.network_id, fixed_ips: [{ subnet_id: subnet.id, ip_address: address }] });
  return ports[0];
}

/** True for a port a swarm manager reserved and no host has claimed yet. */
function isSwarmReservation(port: Port): boolean {
  return port.name === SWARM_RESERVED_PORT_NAME && port.device_owner === PORT_DEVICE_OWNER && port.device_id === '' && (port['binding:host_id'] ?? '') === '';
}

/**
 * Binds a port the swarm manager reserved to this host, with the MAC of the
 * container's endpoint. Neutron accepts the MAC change because the port is
 * still unbound.
 */
async function claimSwarmReservation(ctx: ServiceContext, holder: Port, mac: string): Promise<Port> {
  const port = await ctx.neutron.ports.update(holder.id, { name: PORT_NAME, mac_address: mac.toLowerCase(), 'binding:host_id': ctx.config.hostName });
  ctx.logger.info({ portId: port.id, ips: port.fixed_ips.map((fixedIp) => fixedIp.ip_address) }, 'address reserved by the swarm manager claimed');
  return port;
}

/** True for a port no device owns and no host binds: an address an operator reserved for a container. */
function isAdoptable(port: Port): boolean {
  return (port['binding:host_id'] ?? '') === '' && port.device_owner === '' && port.device_id === '';
}

/**
 * Handles Neutron's "address taken" reply to a `--ip` request: a free port
 * holding the address is adopted (bound here with Docker's MAC and tagged
 * `kuryr.port.existing`); any other holder is an error naming it.
 */
export async function adoptOrExplain(ctx: ServiceContext, subnet: Subnet, address: string, mac: string | undefined, error: OpenStackHttpError): Promise<Port> {
  const holder = await findHolder(ctx, subnet, address);
  if (holder !== undefined && mac !== undefined && isSwarmReservation(holder)) return claimSwarmReservation(ctx, holder, mac);
  if (holder === undefined || !isAdoptable(holder)) throw describeHolder(subnet, address, holder, error);

  const tags = [
    ...(holder.tags ?? []),
    EXISTING_PORT_TAG,
    `${ORIGINAL_MAC_TAG}${holder.mac_address}`,
    ...holder.fixed_ips.map((fixedIp) => `${ORIGINAL_IP_TAG}${fixedIp.ip_address}`),
  ];
  await ctx.neutron.replaceTags('ports', holder.id, tags);
  const port = await ctx.neutron.ports.update(holder.id, {
    'binding:host_id': ctx.config.hostName,
    device_owner: PORT_DEVICE_OWNER,
    ...(mac === undefined ? {} : { mac_address: mac.toLowerCase() }),
  });
  ctx.logger.info({ portId: port.id, ip: address, originalMac: holder.mac_address }, 'existing port adopted');
  return { ...port, tags };
}

async function addressHeldError(ctx: ServiceContext, subnet: Subnet, address: string, error: OpenStackHttpError): Promise<KuryrError> {
  return describeHolder(subnet, address, await findHolder(ctx, subnet, address), error);
}

function describeHolder(subnet: Subnet, address: string, holder: Port | undefined, error: OpenStackHttpError): KuryrError {
  if (holder === undefined) {
    return new KuryrError('CONFLICT', `address "${address}" is already in use in subnet ${subnet.cidr}: choose another --ip`, { cause: error });
  }
  const owner = holder.device_owner === '' ? 'no device_owner' : `device_owner "${holder.device_owner}"`;
  const device = holder.device_id === '' ? 'no device_id' : `device_id "${holder.device_id}"`;
  const host = (holder['binding:host_id'] ?? '') === '' ? 'unbound' : `bound to host "${holder['binding:host_id'] ?? ''}"`;
  return new KuryrError(
    'CONFLICT',
    `address "${address}" is held by port "${holder.id}" (${owner}, ${device}, ${host}): ` +
      'choose another --ip, or free the port (openstack port delete, or unset its device and binding) so kuryr can adopt it',
    { cause: error },
  );
}

/**
 * Releases one address of a port. An adopted port is handed back when one of
 * its original addresses is released, and a port with other addresses keeps
 * them. A kuryr port that loses its last address is deleted with its
 * exposed-ports security group, in the background when the reaper runs so.
 */
export async function releasePortAddress(ctx: ServiceContext, port: Port, ip: string): Promise<void> {
  const tags = port.tags ?? [];
  if (tags.includes(EXISTING_PORT_TAG)) {
    await releaseAdoptedAddress(ctx, port, ip);
    return;
  }
  if (!isKuryrPort(port)) {
    ctx.logger.warn({ portId: port.id, ip }, 'address belongs to a port kuryr did not create; leaving it');
    return;
  }

  const remaining = port.fixed_ips.filter((fixedIp) => fixedIp.ip_address !== ip);
  if (remaining.length > 0 && remaining.length < port.fixed_ips.length) {
    const updated = await ctx.neutron.ports.update(port.id, { fixed_ips: remaining.map((fixedIp) => ({ subnet_id: fixedIp.subnet_id, ip_address: fixedIp.ip_address })) });
    ctx.addressPorts.delete(addressKey(port.network_id, ip));
    rememberPort(ctx, updated);
    ctx.logger.info({ portId: port.id, ip }, 'address removed from port');
    return;
  }
  forgetPort(ctx, port.id);
  const ips = port.fixed_ips.map((fixedIp) => fixedIp.ip_address);
  await ctx.reaper.schedule({ portId: port.id, networkId: port.network_id, ips }, () => deleteExposedPortsGroup(ctx, port.id));
  ctx.logger.info({ portId: port.id, ip }, 'address released');
}

function forgetPort(ctx: ServiceContext, portId: string): void {
  for (const [key, cached] of ctx.addressPorts) {
    if (cached.id === portId) ctx.addressPorts.delete(key);
  }
}

async function releaseAdoptedAddress(ctx: ServiceContext, port: Port, ip: string): Promise<void> {
  const tags = port.tags ?? [];
  const originalIps = new Set(tags.filter((tag) => tag.startsWith(ORIGINAL_IP_TAG)).map((tag) => tag.slice(ORIGINAL_IP_TAG.length)));
  const originalMac = tags.find((tag) => tag.startsWith(ORIGINAL_MAC_TAG))?.slice(ORIGINAL_MAC_TAG.length);
  const kept = port.fixed_ips.filter((fixedIp) => originalIps.has(fixedIp.ip_address));
  if (!originalIps.has(ip)) {
    // An address kuryr added (the other family of a dual-stack endpoint): drop only that one.
    const remaining = port.fixed_ips.filter((fixedIp) => fixedIp.ip_address !== ip);
    await ctx.neutron.ports.update(port.id, { fixed_ips: remaining.map((fixedIp) => ({ subnet_id: fixedIp.subnet_id, ip_address: fixedIp.ip_address })) });
    ctx.addressPorts.delete(addressKey(port.network_id, ip));
    return;
  }

  // Neutron refuses a MAC change on a bound port, so the binding goes first.
  await ctx.neutron.ports.update(port.id, {
    'binding:host_id': '',
    device_owner: '',
    fixed_ips: kept.map((fixedIp) => ({ subnet_id: fixedIp.subnet_id, ip_address: fixedIp.ip_address })),
  });
  if (originalMac !== undefined && originalMac !== port.mac_address) await ctx.neutron.ports.update(port.id, { mac_address: originalMac });
  await ctx.neutron.replaceTags('ports', port.id, tags.filter((tag) => !isKuryrTag(tag)));
  forgetPort(ctx, port.id);
  ctx.logger.info({ portId: port.id, ip }, 'adopted port handed back');
}

function isKuryrTag(tag: string): boolean {
  return tag === PORT_TAG || tag.startsWith('kuryr.');
}
