/**
 * NetworkDriver.CreateNetwork and DeleteNetwork: a Docker network is a Neutron
 * network tagged with the Docker network id, with one subnet per Docker pool.
 */
import { KuryrError, isHttpStatus } from '../errors.js';
import type { Network, Subnet, SubnetCreate } from '../neutron/index.js';
import type { CreateNetwork, DeleteNetwork, IpamDatum } from '../protocol/index.js';
import { allocationPools, defaultGateway, formatCidr, parseCidr, type IpVersion } from './cidr.js';
import type { NetworkInfo, PoolInfo, ServiceContext } from './context.js';
import { deleteOwnedPool } from './ipam-pools.js';
import { AUX_ADDRESS_TAG_PREFIX, dockerIdTags, INTERNAL_NETWORK_TAG, networkName, subnetName, subnetPoolName } from './naming.js';

const INTERNAL_OPTION = 'com.docker.network.internal';

export async function createNetwork(ctx: ServiceContext, request: CreateNetwork): Promise<void> {
  await ctx.locks.run(`network:${request.NetworkID}`, async () => {
    const existing = await findNetwork(ctx, request.NetworkID);
    // A re-sent CreateNetwork finds the network made the first time.
    if (existing !== undefined) return;

    const network = await createTaggedNetwork(ctx, request.NetworkID, isInternal(request));
    try {
      const subnets = await createSubnets(ctx, network, request);
      ctx.networks.set(request.NetworkID, toNetworkInfo(request.NetworkID, network, subnets));
    } catch (error) {
      await ctx.neutron.networks.delete(network.id, { ignoreNotFound: true });
      throw error;
    }
    ctx.logger.info({ networkId: request.NetworkID, neutronNetworkId: network.id }, 'network created');
  });
}

/** dockerd sends `--internal` as a boolean option, which the schema keeps as given. */
function isInternal(request: CreateNetwork): boolean {
  const value: unknown = request.Options[INTERNAL_OPTION];
  return value === true || value === 'true';
}

async function createTaggedNetwork(ctx: ServiceContext, networkId: string, internal: boolean): Promise<Network> {
  const network = await ctx.neutron.networks.create({ name: networkName(networkId), admin_state_up: true });
  // The internal mark is a tag so that Join still omits the gateway after a daemon restart.
  const tags = internal ? [...dockerIdTags(networkId), INTERNAL_NETWORK_TAG] : dockerIdTags(networkId);
  try {
    await ctx.neutron.replaceTags('networks', network.id, tags);
  } catch (error) {
    await ctx.neutron.networks.delete(network.id, { ignoreNotFound: true });
    throw error;
  }
  return { ...network, tags };
}

async function createSubnets(ctx: ServiceContext, network: Network, request: CreateNetwork): Promise<Subnet[]> {
  const bodies = [];
  for (const [version, data] of [[4, request.IPv4Data], [6, request.IPv6Data]] as const) {
    for (const datum of data) {
      if (datum.Pool === '') continue;
      bodies.push(subnetBody(ctx, network.id, version, datum, await poolForCidr(ctx, datum.Pool)));
    }
  }
  if (bodies.length === 0) {
    throw new KuryrError('INVALID_REQUEST', 'the network has no IPv4 or IPv6 pool: pass --subnet, or use --ipam-driver kuryr');
  }
  // Neutron requires all subnets of one IP version on a network to come from
  // the same subnet pool, so several --subnet of one family are created
  // without a pool; findPoolSubnets finds them by name and CIDR.
  for (const version of [4, 6]) {
    const sameFamily = bodies.filter((body) => body.ip_version === version);
    if (sameFamily.length > 1) for (const body of sameFamily) delete body.subnetpool_id;
  }
  const subnets = await ctx.neutron.subnets.createBulk(bodies);
  await tagAuxAddresses(ctx, subnets, [...request.IPv4Data, ...request.IPv6Data]);
  return subnets;
}

/**
 * Tags each subnet with its aux addresses (`kuryr.aux:<ip>`). Neutron accepts
 * a fixed IP outside the allocation pools, so RequestAddress reads these tags
 * to reject a --ip that names an aux address.
 */
async function tagAuxAddresses(ctx: ServiceContext, subnets: Subnet[], data: IpamDatum[]): Promise<void> {
  for (const subnet of subnets) {
    const datum = data.find((candidate) => candidate.Pool !== '' && formatCidr(parseCidr(candidate.Pool)) === formatCidr(parseCidr(subnet.cidr)));
    const auxAddresses = datum === undefined ? [] : auxAddressesOf(datum);
    if (auxAddresses.length === 0) continue;
    subnet.tags = auxAddresses.map((address) => `${AUX_ADDRESS_TAG_PREFIX}${address}`);
    await ctx.neutron.replaceTags('subnets', subnet.id, subnet.tags);
  }
}

/** Returns the --aux-address values without the prefix length dockerd appends. */
function auxAddressesOf(datum: IpamDatum): string[] {
  return Object.values(datum.AuxAddresses).map((address) => address.split('/')[0] ?? address);
}

function subnetBody(ctx: ServiceContext, neutronNetworkId: string, version: IpVersion, datum: IpamDatum, pool: PoolInfo | undefined): SubnetCreate {
  const cidr = parseCidr(datum.Pool);
  const gateway = datum.Gateway === '' ? undefined : datum.Gateway.split('/')[0];
  const body: SubnetCreate = {
    network_id: neutronNetworkId,
    name: subnetName(datum.Pool),
    ip_version: version,
    cidr: datum.Pool,
    enable_dhcp: ctx.config.enableDhcp,
  };
  if (gateway !== undefined) body.gateway_ip = gateway;
  if (pool !== undefined) body.subnetpool_id = pool.subnetPoolId;
  // --aux-address values are cut out of the allocation pools, so Neutron never
  // hands them to a port and they disappear with the subnet on network rm.
  const auxAddresses = auxAddressesOf(datum);
  if (pool?.subPool !== undefined || auxAddresses.length > 0) {
    const range = pool?.subPool === undefined ? cidr : parseCidr(pool.subPool);
    body.allocation_pools = allocationPools(cidr, range, [gateway ?? defaultGateway(cidr), ...auxAddresses]);
  }
  return body;
}

/**
 * Finds the pool RequestPool handed out for a CIDR. CreateNetwork carries only the
 * CIDR, not the PoolID, so the pool is matched by CIDR: first among the pools
 * this daemon handed out, then by the `kuryrPool-<cidr>` name. A network whose
 * pool came from Docker's built-in IPAM has none, and its subnet has no pool.
 */
async function poolForCidr(ctx: ServiceContext, cidr: string): Promise<PoolInfo | undefined> {
  const pending = [...ctx.pools.values()].filter((pool) => pool.cidr === cidr);
  if (pending.length > 0) return pending[pending.length - 1];
  const name = subnetPoolName(ctx.config.subnetPoolPrefix, cidr);
  const [pool] = await ctx.neutron.subnetpools.list({ name });
  if (pool === undefined) return undefined;
  return { poolId: pool.id, subnetPoolId: pool.id, cidr, version: parseCidr(cidr).version, subPool: undefined, ownedByKuryr: true };
}

function toNetworkInfo(networkId: string, network: Network, subnets: Subnet[]): NetworkInfo {
  return {
    networkId,
    neutronNetworkId: network.id,
    projectId: network.project_id ?? '',
    mtu: network.mtu ?? 1500,
    subnets,
    adopted: false,
    internal: (network.tags ?? []).includes(INTERNAL_NETWORK_TAG),
  };
}

/** Finds the Neutron network of a Docker network by its tags; undefined when there is none. */
export async function findNetwork(ctx: ServiceContext, networkId: string): Promise<NetworkInfo | undefined> {
  const cached = ctx.networks.get(networkId);
  if (cached !== undefined) return cached;
  const networks = await ctx.neutron.networks.list({ tags: dockerIdTags(networkId) });
  if (networks.length > 1) {
    const ids = networks.map((network) => network.id).join(', ');
    throw new KuryrError('CONFLICT', `several Neutron networks carry Docker network "${networkId}" (${ids}): delete the extra ones`);
  }
  const network = networks[0];
  if (network === undefined) return undefined;
  const subnets = await ctx.neutron.subnets.list({ network_id: network.id });
  const info = toNetworkInfo(networkId, network, subnets);
  ctx.networks.set(networkId, info);
  return info;
}

/** Like findNetwork, but a missing network is an error naming the Docker network. */
export async function requireNetwork(ctx: ServiceContext, networkId: string): Promise<NetworkInfo> {
  const network = await findNetwork(ctx, networkId);
  if (network === undefined) {
    throw new KuryrError(
      'NOT_FOUND',
      `no Neutron network carries Docker network "${networkId}": it was deleted in Neutron, or created by another driver; recreate the Docker network`,
    );
  }
  return network;
}

export async function deleteNetwork(ctx: ServiceContext, request: DeleteNetwork): Promise<void> {
  await ctx.locks.run(`network:${request.NetworkID}`, async () => {
    const network = await findNetwork(ctx, request.NetworkID);
    // Already deleted, by an earlier DeleteNetwork or by an operator.
    if (network === undefined) return;

    await ctx.neutron.networks.delete(network.neutronNetworkId, { ignoreNotFound: true });
    ctx.networks.delete(request.NetworkID);

    // ReleasePool normally deleted kuryr's subnets and pools already. A pool
    // left behind, because its release failed or the daemon restarted in
    // between, is deleted now that its network is gone.
    const poolIds = new Set(network.subnets.flatMap((subnet) => (subnet.subnetpool_id ? [subnet.subnetpool_id] : [])));
    for (const subnetPoolId of poolIds) await deleteIfOwnedPool(ctx, subnetPoolId);
    ctx.logger.info({ networkId: request.NetworkID, neutronNetworkId: network.neutronNetworkId }, 'network deleted');
  });
}

async function deleteIfOwnedPool(ctx: ServiceContext, subnetPoolId: string): Promise<void> {
  let pool;
  try {
    pool = await ctx.neutron.subnetpools.get(subnetPoolId);
  } catch (error) {
    if (isHttpStatus(error, 404)) return;
    throw error;
  }
  if (pool.name.startsWith(`${ctx.config.subnetPoolPrefix}-`)) await deleteOwnedPool(ctx, subnetPoolId);
}
