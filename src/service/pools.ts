/**
 * Pool resolution shared by the IPAM and network verbs: which Neutron subnet
 * pool and CIDR a Docker PoolID stands for, and which subnets carry it.
 */
import { KuryrError, isHttpStatus } from '../errors.js';
import type { Subnet } from '../neutron/index.js';
import { parseCidr } from './cidr.js';
import type { PoolInfo, ServiceContext } from './context.js';
import { subnetName } from './naming.js';

/**
 * Splits a PoolID. Pools kuryr creates per CIDR are plain subnet pool UUIDs,
 * as upstream Kuryr returns them. Shared pools (the default pool, or one the
 * operator named) serve many networks, so their PoolID also names the CIDR:
 * `<uuid>:<cidr>`. A UUID never contains a colon, so the first colon splits.
 */
export function splitPoolId(poolId: string): { subnetPoolId: string; cidr: string | undefined } {
  const colon = poolId.indexOf(':');
  if (colon < 0) return { subnetPoolId: poolId, cidr: undefined };
  return { subnetPoolId: poolId.slice(0, colon), cidr: poolId.slice(colon + 1) };
}

/** Finds what a PoolID stands for; undefined when its subnet pool no longer exists. */
export async function resolvePool(ctx: ServiceContext, poolId: string): Promise<PoolInfo | undefined> {
  const cached = ctx.pools.get(poolId);
  if (cached !== undefined) return cached;
  if (poolId.startsWith(EXISTING_SUBNET_POOL_PREFIX)) return resolveExistingSubnetPool(ctx, poolId);

  const { subnetPoolId, cidr } = splitPoolId(poolId);
  if (cidr !== undefined) {
    const version = parseCidr(cidr).version;
    const info: PoolInfo = { poolId, subnetPoolId, cidr, version, subPool: undefined, ownedByKuryr: false };
    ctx.pools.set(poolId, info);
    return info;
  }

  let pool;
  try {
    pool = await ctx.neutron.subnetpools.get(subnetPoolId);
  } catch (error) {
    if (isHttpStatus(error, 404)) return undefined;
    throw error;
  }
  const prefix = pool.prefixes[0];
  if (prefix === undefined) {
    throw new KuryrError('CONFLICT', `subnet pool "${subnetPoolId}" has no prefixes: it cannot serve Docker pool "${poolId}"`);
  }
  const info: PoolInfo = {
    poolId,
    subnetPoolId,
    cidr: prefix,
    version: parseCidr(prefix).version,
    subPool: parseSubPool(pool.description),
    ownedByKuryr: pool.name.startsWith(`${ctx.config.subnetPoolPrefix}-`),
  };
  ctx.pools.set(poolId, info);
  return info;
}

/** PoolID prefix for a pool that stands for an operator's subnet (`--ipam-opt neutron.subnet.*`). */
export const EXISTING_SUBNET_POOL_PREFIX = 'subnet:';

async function resolveExistingSubnetPool(ctx: ServiceContext, poolId: string): Promise<PoolInfo | undefined> {
  const subnetId = poolId.slice(EXISTING_SUBNET_POOL_PREFIX.length);
  let subnet;
  try {
    subnet = await ctx.neutron.subnets.get(subnetId);
  } catch (error) {
    if (isHttpStatus(error, 404)) return undefined;
    throw error;
  }
  const info = existingSubnetPoolInfo(subnet);
  ctx.pools.set(poolId, info);
  return info;
}

export function existingSubnetPoolInfo(subnet: Subnet): PoolInfo {
  return {
    poolId: `${EXISTING_SUBNET_POOL_PREFIX}${subnet.id}`,
    subnetPoolId: subnet.subnetpool_id ?? '',
    cidr: subnet.cidr,
    version: parseCidr(subnet.cidr).version,
    subPool: undefined,
    ownedByKuryr: false,
    existingSubnetId: subnet.id,
  };
}

const SUB_POOL_MARK = 'kuryr-ts ip-range ';

/** Returns the description kuryr writes on its own pools, so the --ip-range survives a daemon restart. */
export function subPoolDescription(subPool: string | undefined): string {
  return subPool === undefined ? 'kuryr-ts' : `${SUB_POOL_MARK}${subPool}`;
}

function parseSubPool(description: string | undefined): string | undefined {
  if (description === undefined || !description.startsWith(SUB_POOL_MARK)) return undefined;
  return description.slice(SUB_POOL_MARK.length);
}

/**
 * Finds the Neutron subnets allocated for a pool, from the network cache when
 * possible (never in global scope, where other hosts change them). A network
 * with several subnets of one family has them without a subnet pool, so a
 * pool kuryr owns also matches its `kuryr-subnet-<cidr>`.
 */
export async function findPoolSubnets(ctx: ServiceContext, pool: PoolInfo): Promise<Subnet[]> {
  if (pool.existingSubnetId !== undefined) return findExistingSubnetOfPool(ctx, pool.existingSubnetId);
  // An operator's subnet reused for a kuryr pool carries the pool's id as a tag, as upstream Kuryr tags it.
  const matches = (subnet: Subnet): boolean =>
    subnet.cidr === pool.cidr &&
    (subnet.subnetpool_id === pool.subnetPoolId ||
      (pool.ownedByKuryr && !subnet.subnetpool_id && (subnet.name === subnetName(pool.cidr) || (subnet.tags ?? []).includes(pool.subnetPoolId))));
  if (ctx.config.globalScope !== true) {
    const cached: Subnet[] = [];
    for (const network of ctx.networks.values()) cached.push(...network.subnets.filter(matches));
    if (cached.length > 0) return cached;
  }
  const pooled = await ctx.neutron.subnets.list({ subnetpool_id: pool.subnetPoolId, cidr: pool.cidr });
  if (pooled.length > 0 || !pool.ownedByKuryr) return pooled;
  const named = await ctx.neutron.subnets.list({ name: subnetName(pool.cidr), cidr: pool.cidr });
  if (named.some(matches)) return named.filter(matches);
  return (await ctx.neutron.subnets.list({ tags: [pool.subnetPoolId], cidr: pool.cidr })).filter(matches);
}

async function findExistingSubnetOfPool(ctx: ServiceContext, subnetId: string): Promise<Subnet[]> {
  for (const network of ctx.networks.values()) {
    const cached = network.subnets.find((subnet) => subnet.id === subnetId);
    if (cached !== undefined) return [cached];
  }
  try {
    return [await ctx.neutron.subnets.get(subnetId)];
  } catch (error) {
    if (isHttpStatus(error, 404)) return [];
    throw error;
  }
}
