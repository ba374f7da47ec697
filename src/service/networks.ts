/**
 * NetworkDriver.CreateNetwork and DeleteNetwork: a Docker network is a Neutron
 * network tagged with the Docker network id, with one subnet per Docker pool.
 */
import { KuryrError, isHttpStatus } from '../errors.js';
import type { Network, Subnet, SubnetCreate } from '../neutron/index.js';
import type { CreateNetwork, DeleteNetwork, IpamDatum } from '../protocol/index.js';
import { allocationPools, defaultGateway, formatCidr, parseCidr, type IpVersion } from './cidr.js';
import type { NetworkInfo, PoolInfo, ServiceContext } from './context.js';
import { createOrFind, findCreatedNetwork, findCreatedSubnets } from './create-or-find.js';
import { adoptNetwork, existingNetworkTag, findNetworkToAdopt, releaseAdoptedNetwork } from './adopt-network.js';
import { parseExistingOptions } from './existing-options.js';
import { NO_FEATURES, resolveFeatures, type ResolvedFeatures } from './feature-lookup.js';
import { hasFeatures, parseFeatureOptions } from './feature-options.js';
import { deleteOwnedPool } from './ipam-pools.js';
import { deleteNetworkAndLeftovers } from './leftover-ports.js';
import { attachSubnetsToRouter, checkNetworkFeatures, detachSubnetFromRouter, featuresFromTags, featureTags, networkFeatureAttributes } from './network-features.js';
import { AUX_ADDRESS_TAG_PREFIX, dockerIdTags, INTERNAL_NETWORK_TAG, networkName, subnetName, subnetPoolName, SWARM_NETWORK_TAG } from './naming.js';

const INTERNAL_OPTION = 'com.docker.network.internal';
const GENERIC_OPTIONS = 'com.docker.network.generic';

/** Creates the network; `swarm` marks one a swarm manager allocates, which only FreeNetwork deletes. */
export async function createNetwork(ctx: ServiceContext, request: CreateNetwork, swarm = false): Promise<void> {
  await ctx.locks.run(`network:${request.NetworkID}`, async () => {
    // A re-sent CreateNetwork finds the network made the first time. When
    // this daemon just handed out every pool of the request, and no cached
    // network uses them, the network cannot exist yet: the lookup is skipped.
    const existing = freshPools(ctx, request) ? ctx.networks.get(request.NetworkID) : await findNetwork(ctx, request.NetworkID);
    if (existing !== undefined) return;

    const options = parseExistingOptions(genericOptions(request), '-o');
    const featureOptions = parseFeatureOptions(genericOptions(request), '-o');
    const adopting = options.network !== undefined || options.subnet[4] !== undefined || options.subnet[6] !== undefined;
    checkNetworkFeatures(featureOptions, isInternal(request), adopting);
    if (adopting) {
      const target = await findNetworkToAdopt(ctx, options);
      const info = await adoptNetwork(ctx, request, target, options, isInternal(request), (network, existingSubnets) => createSubnets(ctx, network, request, existingSubnets));
      await tagReusedSubnets(ctx, info);
      ctx.networks.set(request.NetworkID, info);
      return;
    }

    const features = hasFeatures(featureOptions) ? await resolveFeatures(ctx, featureOptions, '-o') : NO_FEATURES;
    const network = await createTaggedNetwork(ctx, request.NetworkID, { internal: isInternal(request), shared: options.shared ?? false, swarm }, features);
    try {
      const subnets = await createSubnets(ctx, network, request, []);
      if (features.routerId !== undefined) await attachSubnetsToRouter(ctx, features.routerId, subnets);
      ctx.networks.set(request.NetworkID, toNetworkInfo(request.NetworkID, network, subnets));
    } catch (error) {
      await ctx.neutron.networks.delete(network.id, { ignoreNotFound: true });
      throw error;
    }
    ctx.logger.info({ networkId: request.NetworkID, neutronNetworkId: network.id }, 'network created');
  });
}

function freshPools(ctx: ServiceContext, request: CreateNetwork): boolean {
  const cidrs = [...request.IPv4Data, ...request.IPv6Data].filter((datum) => datum.Pool !== '').map((datum) => formatCidr(parseCidr(datum.Pool)));
  if (cidrs.length === 0) return false;
  const pending = new Set([...ctx.pools.values()].map((pool) => pool.cidr));
  const inUse = new Set([...ctx.networks.values()].flatMap((network) => network.subnets.map((subnet) => formatCidr(parseCidr(subnet.cidr)))));
  return cidrs.every((cidr) => pending.has(cidr) && !inUse.has(cidr));
}

/** Returns the `-o key=value` options, which dockerd passes as a map of strings. */
function genericOptions(request: CreateNetwork): Record<string, string> {
  const value: unknown = request.Options[GENERIC_OPTIONS];
  if (value === undefined || value === null) return {};
  const valid = typeof value === 'object' && Object.values(value).every((item) => typeof item === 'string');
  if (!valid) throw new KuryrError('INVALID_OPTION', 'invalid -o options: every value must be a string');
  return value as Record<string, string>;
}

/**
 * Tags an operator's subnet that a kuryr pool now stands for with the pool's
 * id, as upstream Kuryr does, so RequestAddress finds it after a restart.
 */
async function tagReusedSubnets(ctx: ServiceContext, info: NetworkInfo): Promise<void> {
  for (const subnet of info.subnets) {
    const pool = [...ctx.pools.values()].find((candidate) => candidate.ownedByKuryr && candidate.cidr === formatCidr(parseCidr(subnet.cidr)));
    if (pool === undefined || subnet.subnetpool_id === pool.subnetPoolId || (subnet.tags ?? []).includes(pool.subnetPoolId)) continue;
    subnet.tags = [...(subnet.tags ?? []), pool.subnetPoolId];
    await ctx.neutron.replaceTags('subnets', subnet.id, subnet.tags);
  }
}

/** dockerd sends `--internal` as a boolean option, which the schema keeps as given. */
function isInternal(request: CreateNetwork): boolean {
  const value: unknown = request.Options[INTERNAL_OPTION];
  return value === true || value === 'true';
}

interface NetworkMarks {
  internal: boolean;
  shared: boolean;
  swarm: boolean;
}

async function createTaggedNetwork(ctx: ServiceContext, networkId: string, marks: NetworkMarks, features: ResolvedFeatures): Promise<Network> {
  const { internal, shared, swarm } = marks;
  const create = (): Promise<Network> => ctx.neutron.networks.create({ name: networkName(networkId), admin_state_up: true, shared, ...networkFeatureAttributes(features) });
  const network = await createOrFind(ctx, 'network', create, () => findCreatedNetwork(ctx, networkId));
  // The internal and swarm marks and the features are tags, so later verbs still see them after a daemon restart.
  const tags = [...dockerIdTags(networkId), ...(internal ? [INTERNAL_NETWORK_TAG] : []), ...(swarm ? [SWARM_NETWORK_TAG] : []), ...featureTags(features)];
  try {
    await ctx.neutron.replaceTags('networks', network.id, tags);
  } catch (error) {
    await ctx.neutron.networks.delete(network.id, { ignoreNotFound: true });
    throw error;
  }
  return { ...network, tags };
}

/** Creates a subnet for each Docker pool whose CIDR none of the network's `existing` subnets has. */
async function createSubnets(ctx: ServiceContext, network: Network, request: CreateNetwork, existing: Subnet[]): Promise<Subnet[]> {
  const skip = new Set(existing.map((subnet) => formatCidr(parseCidr(subnet.cidr))));
  const bodies: SubnetCreate[] = [];
  for (const [version, data] of [[4, request.IPv4Data], [6, request.IPv6Data]] as const) {
    for (const datum of data) {
      if (datum.Pool === '' || skip.has(formatCidr(parseCidr(datum.Pool)))) continue;
      bodies.push(subnetBody(ctx, network.id, version, datum, await poolForCidr(ctx, datum.Pool)));
    }
  }
  if (bodies.length === 0 && skip.size > 0) return [];
  if (bodies.length === 0) {
    throw new KuryrError('INVALID_REQUEST', 'the network has no IPv4 or IPv6 pool: pass --subnet, or use --ipam-driver kuryr');
  }
  // Neutron requires all subnets of one IP version on a network to come from
  // the same subnet pool. So several --subnet of one family, or a new subnet
  // beside an adopted network's subnet from another pool, are created without
  // a pool, and findPoolSubnets finds them by name and CIDR.
  for (const version of [4, 6]) {
    const sameFamily = bodies.filter((body) => body.ip_version === version);
    const otherPool = existing.some((subnet) => subnet.ip_version === version && sameFamily.some((body) => body.subnetpool_id !== (subnet.subnetpool_id ?? undefined)));
    if (sameFamily.length > 1 || otherPool) for (const body of sameFamily) delete body.subnetpool_id;
  }
  const requested: SubnetCreate[] = bodies;
  const subnets = await createOrFind(ctx, 'subnets', () => ctx.neutron.subnets.createBulk(requested), () => findCreatedSubnets(ctx, network.id, requested));
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
    adopted: (network.tags ?? []).includes(existingNetworkTag(networkId)),
    internal: (network.tags ?? []).includes(INTERNAL_NETWORK_TAG),
    swarm: (network.tags ?? []).includes(SWARM_NETWORK_TAG),
    features: featuresFromTags(network.tags ?? []),
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

/**
 * Deletes the Neutron network of a Docker network. A network a swarm manager
 * allocated stays until FreeNetwork (`freeing`), because a host's
 * DeleteNetwork only means its last container there has gone.
 */
export async function deleteNetwork(ctx: ServiceContext, request: DeleteNetwork, freeing = false): Promise<void> {
  await ctx.locks.run(`network:${request.NetworkID}`, async () => {
    const network = await findNetwork(ctx, request.NetworkID);
    // Already deleted, by an earlier DeleteNetwork or by an operator.
    if (network === undefined) return;
    if (network.swarm === true && !freeing) {
      ctx.networks.delete(request.NetworkID);
      ctx.logger.info({ networkId: request.NetworkID, neutronNetworkId: network.neutronNetworkId }, 'swarm network kept until the manager frees it');
      return;
    }

    // Neutron refuses to delete a network whose released ports are still being deleted.
    await ctx.reaper.waitForNetwork(network.neutronNetworkId);
    // Neutron refuses to delete a network whose subnet still has a router interface.
    for (const subnet of network.subnets) await detachSubnetFromRouter(ctx, subnet);
    if (network.adopted) await releaseAdoptedNetwork(ctx, request.NetworkID, network.neutronNetworkId);
    else await deleteNetworkAndLeftovers(ctx, network);
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
