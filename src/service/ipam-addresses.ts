/**
 * IpamDriver.RequestAddress and ReleaseAddress. An endpoint address is a
 * Neutron port, created already bound to this host with Docker's MAC, so the
 * POST reply carries the binding details and CreateEndpoint needs no second update.
 */
import { KuryrError, OpenStackHttpError } from '../errors.js';
import type { Port, Subnet } from '../neutron/index.js';
import type { ReleaseAddress, RequestAddress } from '../protocol/index.js';
import { contains, defaultGateway, parseCidr, parseIp } from './cidr.js';
import { addAddressToPort, adoptOrExplain, findPortForMac, isAddressTaken, releasePortAddress, rememberPort } from './address-ports.js';
import { addressKey, type PoolInfo, type ServiceContext } from './context.js';
import { createOrFind, findCreatedAddressPort } from './create-or-find.js';
import { AUX_ADDRESS_TAG_PREFIX, PORT_DEVICE_OWNER, PORT_NAME, SWARM_RESERVED_PORT_NAME } from './naming.js';
import { findPoolSubnets, resolvePool } from './pools.js';

const GATEWAY_REQUEST = 'com.docker.network.gateway';
const MAC_OPTION = 'com.docker.network.endpoint.macaddress';

export async function requestAddress(ctx: ServiceContext, request: RequestAddress): Promise<{ Address: string; Data: Record<string, string> }> {
  const pool = await resolvePool(ctx, request.PoolID);
  if (pool === undefined) {
    throw new KuryrError('NOT_FOUND', `pool "${request.PoolID}" not found in Neutron: recreate the Docker network`);
  }
  const prefixLength = parseCidr(pool.cidr).prefixLength;
  if (request.Address !== '') assertInPool(pool, request.Address);

  if (request.Options.RequestAddressType === GATEWAY_REQUEST) {
    return { Address: `${await gatewayAddress(ctx, pool, request.Address)}/${prefixLength}`, Data: {} };
  }

  const subnet = await findSubnet(ctx, pool);
  if (subnet === undefined) {
    // dockerd reserves --aux-address before CreateNetwork, when no subnet exists
    // yet; CreateNetwork reserves those addresses in Neutron.
    if (request.Address !== '' && request.Options[MAC_OPTION] === undefined) {
      return { Address: `${request.Address}/${prefixLength}`, Data: {} };
    }
    throw new KuryrError('NOT_FOUND', `no Neutron subnet allocated from pool "${request.PoolID}" (${pool.cidr}): recreate the Docker network`);
  }

  if (request.Address !== '' && (subnet.tags ?? []).includes(`${AUX_ADDRESS_TAG_PREFIX}${request.Address}`)) {
    throw new KuryrError('CONFLICT', `address "${request.Address}" is reserved by --aux-address on subnet ${subnet.cidr}: choose another --ip`);
  }
  const mac = request.Options[MAC_OPTION];
  // dockerd requests the IPv4 address first, so only an IPv6 request can find
  // its endpoint's port already made; an IPv4 request saves the lookup.
  const sibling = mac === undefined || subnet.ip_version !== 6 ? undefined : await findPortForMac(ctx, subnet, mac);
  const port = sibling === undefined
    ? await createAddressPort(ctx, subnet, request.Address, mac)
    : await addAddressToPort(ctx, sibling, subnet, request.Address);
  const ip = port.fixed_ips.find((fixedIp) => fixedIp.subnet_id === subnet.id && (request.Address === '' || fixedIp.ip_address === request.Address))?.ip_address;
  if (ip === undefined) {
    throw new KuryrError('NEUTRON_ERROR', `port "${port.id}" has no address in subnet "${subnet.id}" after the update`);
  }
  rememberPort(ctx, port);
  ctx.logger.info({ portId: port.id, ip, subnetId: subnet.id }, 'address reserved');
  return { Address: `${ip}/${parseCidr(subnet.cidr).prefixLength}`, Data: {} };
}

function assertInPool(pool: PoolInfo, address: string): void {
  const { version, value } = parseIp(address);
  if (!contains(parseCidr(pool.cidr), version, value)) {
    throw new KuryrError('INVALID_REQUEST', `address "${address}" is outside the network's subnet ${pool.cidr}: choose an address inside it`);
  }
}

/**
 * Returns the gateway Docker records for the network. Before CreateNetwork no subnet
 * exists, so the requested address (or Neutron's default, the first host) is
 * returned and becomes the subnet's gateway_ip in CreateNetwork.
 */
async function gatewayAddress(ctx: ServiceContext, pool: PoolInfo, requested: string): Promise<string> {
  const subnet = pool.ownedByKuryr && isPending(ctx, pool) ? undefined : await findSubnet(ctx, pool);
  if (subnet === undefined) return requested !== '' ? requested : defaultGateway(parseCidr(pool.cidr));
  if (subnet.gateway_ip === null) {
    throw new KuryrError('CONFLICT', `subnet "${subnet.id}" (${subnet.cidr}) has no gateway: Docker needs one`);
  }
  if (requested !== '' && requested !== subnet.gateway_ip) {
    throw new KuryrError(
      'CONFLICT',
      `gateway "${requested}" differs from the gateway ${subnet.gateway_ip} of subnet "${subnet.id}": pass --gateway ${subnet.gateway_ip}`,
    );
  }
  return subnet.gateway_ip;
}

/** True while the pool's network is not created yet: then no subnet can exist for it. */
function isPending(ctx: ServiceContext, pool: PoolInfo): boolean {
  for (const network of ctx.networks.values()) {
    if (network.subnets.some((subnet) => subnet.subnetpool_id === pool.subnetPoolId)) return false;
  }
  return true;
}

async function findSubnet(ctx: ServiceContext, pool: PoolInfo): Promise<Subnet | undefined> {
  const subnets = await findPoolSubnets(ctx, pool);
  if (subnets.length > 1) {
    const ids = subnets.map((subnet) => subnet.id).join(', ');
    throw new KuryrError('CONFLICT', `several subnets with CIDR ${pool.cidr} use pool "${pool.poolId}" (${ids}): delete the extra ones`);
  }
  return subnets[0];
}

async function createAddressPort(ctx: ServiceContext, subnet: Subnet, address: string, mac: string | undefined): Promise<Port> {
  // A released port still holds its address until its background delete ends.
  if (address !== '') await ctx.reaper.waitForAddress(subnet.network_id, address);
  let port: Port;
  try {
    const create = (): Promise<Port> =>
      ctx.neutron.ports.create({
        network_id: subnet.network_id,
        name: mac === undefined ? SWARM_RESERVED_PORT_NAME : PORT_NAME,
        admin_state_up: true,
        device_owner: PORT_DEVICE_OWNER,
        ...(mac === undefined ? {} : { 'binding:host_id': ctx.config.hostName, mac_address: mac.toLowerCase() }),
        fixed_ips: [address === '' ? { subnet_id: subnet.id } : { subnet_id: subnet.id, ip_address: address }],
      });
    port = await createOrFind(ctx, 'port', create, () => findCreatedAddressPort(ctx, subnet, address, mac));
  } catch (error) {
    // A re-sent request (its first reply was lost, or the daemon restarted)
    // finds the port its first try made: same MAC, not yet claimed.
    const resent = mac !== undefined && isTakenOrMacInUse(error) ? await findCreatedAddressPort(ctx, subnet, address, mac) : undefined;
    if (resent !== undefined) {
      ctx.logger.info({ portId: resent.id, mac }, 'address request re-sent: reusing the port of the first request');
      return resent;
    }
    // A taken --ip may sit on an operator's free port, which kuryr adopts as it is.
    if (isAddressTaken(error) && address !== '') return adoptOrExplain(ctx, subnet, address, mac, error);
    throw explainPortCreateError(error, subnet, address, mac);
  }

  // Neutron rejects tags in a POST, and the device_owner already marks the
  // port as kuryr's, so the tags (`compute:kuryr` and the endpoint's) are
  // added in one call by CreateEndpoint.
  return port;
}

// NOTE: a second container given the same --mac-address on one network
// gets the first one's port, instead of a MAC-in-use error, while the first
// one's CreateEndpoint has not claimed the port yet.
function isTakenOrMacInUse(error: unknown): boolean {
  return isAddressTaken(error) || (error instanceof OpenStackHttpError && error.faultType === 'MacAddressInUse');
}

function explainPortCreateError(error: unknown, subnet: Subnet, address: string, mac: string | undefined): unknown {
  if (!(error instanceof OpenStackHttpError)) return error;
  if (error.faultType === 'IpAddressGenerationFailure') {
    return new KuryrError('CONFLICT', `no free address left in subnet ${subnet.cidr} ("${subnet.id}"): widen --ip-range or remove unused containers`, { cause: error });
  }
  if (error.faultType === 'MacAddressInUse') {
    return new KuryrError('CONFLICT', `MAC address "${mac ?? ''}" is already in use on Neutron network "${subnet.network_id}": choose another --mac-address`, { cause: error });
  }
  return error;
}

export async function releaseAddress(ctx: ServiceContext, request: ReleaseAddress): Promise<void> {
  const pool = await resolvePool(ctx, request.PoolID);
  // The pool, and with it every port, is already gone: a repeated release.
  if (pool === undefined) return;
  const subnets = await findPoolSubnets(ctx, pool);
  // A gateway has no port, because Neutron reserves it in the subnet itself.
  if (subnets.some((candidate) => candidate.gateway_ip === request.Address)) return;
  const { version, value } = parseIp(request.Address);
  const subnet = subnets.find((candidate) => contains(parseCidr(candidate.cidr), version, value));
  if (subnet === undefined) return;

  const port = await findAddressPort(ctx, subnet, request.Address);
  if (port === undefined) return;
  await releasePortAddress(ctx, port, request.Address);
}

async function findAddressPort(ctx: ServiceContext, subnet: Subnet, ip: string): Promise<Port | undefined> {
  const cached = ctx.addressPorts.get(addressKey(subnet.network_id, ip));
  if (cached !== undefined) return cached;
  for (const endpoint of ctx.endpoints.values()) {
    if (endpoint.port.fixed_ips.some((fixedIp) => fixedIp.subnet_id === subnet.id && fixedIp.ip_address === ip)) {
      return endpoint.port;
    }
  }
  const ports = await ctx.neutron.ports.list({ fixed_ips: [{ subnet_id: subnet.id, ip_address: ip }] });
  return ports[0];
}
