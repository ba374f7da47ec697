/**
 * IpamDriver.RequestPool and ReleasePool: a Docker address pool is a Neutron
 * subnet pool. With --subnet, kuryr uses (or creates) `kuryrPool-<cidr>`; the
 * network's subnet is later allocated from it with exactly that CIDR.
 * Without --subnet, kuryr carves a free subnet of the default pool's default
 * prefix length, so many networks share one default pool.
 */
import { isHttpStatus, KuryrError, OpenStackHttpError } from '../errors.js';
import type { Subnet, SubnetPool } from '../neutron/index.js';
import type { ReleasePool, RequestPool } from '../protocol/index.js';
import { containsCidr, findFreeSubnet, formatCidr, parseCidr, type Cidr } from './cidr.js';
import type { PoolInfo, ServiceContext } from './context.js';
import { createOrFind } from './create-or-find.js';
import { SUBNET_NAME_PREFIX, subnetPoolName, SWARM_NETWORK_TAG } from './naming.js';
import { detachSubnetFromRouter } from './network-features.js';
import { poolFromExistingResource } from './ipam-existing.js';
import { findPoolSubnets, resolvePool, subPoolDescription } from './pools.js';

export async function requestPool(ctx: ServiceContext, request: RequestPool): Promise<{ PoolID: string; Pool: string; Data: Record<string, string> }> {
  const info =
    (await poolFromExistingResource(ctx, request)) ??
    (request.Pool === '' ? await carveFromDefaultPool(ctx, request.V6) : await ensureCidrPool(ctx, request));
  ctx.pools.set(info.poolId, info);
  ctx.logger.info({ poolId: info.poolId, cidr: info.cidr, subnetPoolId: info.subnetPoolId }, 'pool requested');
  return { PoolID: info.poolId, Pool: info.cidr, Data: {} };
}

async function ensureCidrPool(ctx: ServiceContext, request: RequestPool): Promise<PoolInfo> {
  const cidr = parseCidr(request.Pool);
  const version = request.V6 ? 6 : 4;
  if (cidr.version !== version) {
    throw new KuryrError('INVALID_REQUEST', `pool "${request.Pool}" is IPv${cidr.version} but the request is for IPv${version}`);
  }
  const subPool = request.SubPool === '' ? undefined : parseCidr(request.SubPool);
  if (subPool !== undefined && !containsCidr(cidr, subPool)) {
    throw new KuryrError(
      'INVALID_REQUEST',
      `--ip-range "${request.SubPool}" is not inside --subnet "${request.Pool}": choose a range within the subnet`,
    );
  }
  const cidrText = formatCidr(cidr);
  const name = subnetPoolName(ctx.config.subnetPoolPrefix, cidrText);

  // Serialised per CIDR: a concurrent second request must find the pool the
  // first one creates instead of creating a duplicate.
  const pool = await ctx.locks.run(`pool:${name}`, async () => {
    const found = await ctx.neutron.subnetpools.list({ name });
    if (found.length > 1) {
      const ids = found.map((candidate) => candidate.id).join(', ');
      throw new KuryrError('CONFLICT', `several subnet pools are named "${name}" (${ids}): delete the extra ones`);
    }
    return found[0] ?? (await createCidrPool(ctx, name, cidr, request));
  });
  return {
    poolId: pool.id,
    subnetPoolId: pool.id,
    cidr: cidrText,
    version,
    subPool: subPool === undefined ? undefined : formatCidr(subPool),
    ownedByKuryr: true,
  };
}

async function createCidrPool(ctx: ServiceContext, name: string, cidr: Cidr, request: RequestPool): Promise<SubnetPool> {
  const create = (): Promise<SubnetPool> =>
    ctx.neutron.subnetpools.create({
      name,
      prefixes: [formatCidr(cidr)],
      default_prefixlen: cidr.prefixLength,
      description: subPoolDescription(request.SubPool === '' ? undefined : formatCidr(parseCidr(request.SubPool))),
      shared: request.Options['neutron.net.shared'] === 'true',
    });
  // The pool's name is unique per CIDR, so a pool with it is the one this create made.
  return createOrFind(ctx, 'subnet pool', create, async () => (await ctx.neutron.subnetpools.list({ name }))[0]);
}

async function carveFromDefaultPool(ctx: ServiceContext, v6: boolean): Promise<PoolInfo> {
  const name = v6 ? ctx.config.defaultSubnetPoolV6 : ctx.config.defaultSubnetPoolV4;
  const pools = await ctx.neutron.subnetpools.list({ name });
  const pool = pools[0];
  if (pool === undefined) {
    throw new KuryrError(
      'NOT_FOUND',
      `default subnet pool "${name}" not found: create it (openstack subnet pool create --pool-prefix <cidr> --default-prefix-length <len> ${name}) or pass --subnet`,
    );
  }
  if (pools.length > 1) {
    throw new KuryrError('CONFLICT', `several subnet pools are named "${name}": rename all but one`);
  }
  return carveFromPool(ctx, pool, undefined);
}

/** Claims a free subnet of the pool's default prefix length; the PoolID is `<pool uuid>:<cidr>`. */
export async function carveFromPool(ctx: ServiceContext, pool: SubnetPool, subPool: string | undefined): Promise<PoolInfo> {
  const name = pool.name;
  // Serialised per pool so that two networks created at once get different subnets.
  return ctx.locks.run(`carve:${pool.id}`, async () => {
    const allocated = await ctx.neutron.subnets.list({ subnetpool_id: pool.id, fields: ['cidr'] });
    const used = [...allocated.map((subnet) => subnet.cidr), ...pendingCarvedCidrs(ctx, pool.id)].map((cidr) => parseCidr(cidr));
    const prefixLength = Number(pool.default_prefixlen);
    const free = findFreeSubnet(pool.prefixes.map((prefix) => parseCidr(prefix)), used, prefixLength);
    if (free === undefined) {
      throw new KuryrError(
        'CONFLICT',
        `subnet pool "${name}" has no free /${prefixLength} left: add a prefix to it or pass --subnet`,
      );
    }
    const cidr = formatCidr(free);
    const info: PoolInfo = {
      poolId: `${pool.id}:${cidr}`,
      subnetPoolId: pool.id,
      cidr,
      version: free.version,
      subPool,
      ownedByKuryr: false,
    };
    // Claimed now, so a concurrent carve skips it before CreateNetwork allocates it in Neutron.
    ctx.pools.set(info.poolId, info);
    return info;
  });
}

/**
 * CIDRs carved from a shared pool whose networks are not created yet. A
 * created network's subnet is in Neutron's list already. In global scope,
 * another host may have removed that network, and its pool entry here is
 * then stale and must not hold the CIDR.
 */
function pendingCarvedCidrs(ctx: ServiceContext, subnetPoolId: string): string[] {
  const created = new Set(
    [...ctx.networks.values()].flatMap((network) =>
      network.subnets.filter((subnet) => subnet.subnetpool_id === subnetPoolId).map((subnet) => formatCidr(parseCidr(subnet.cidr))),
    ),
  );
  return [...ctx.pools.values()]
    .filter((info) => info.subnetPoolId === subnetPoolId && !info.ownedByKuryr && !created.has(info.cidr))
    .map((info) => info.cidr);
}

export async function releasePool(ctx: ServiceContext, request: ReleasePool): Promise<void> {
  const pool = await resolvePool(ctx, request.PoolID);
  ctx.pools.delete(request.PoolID);
  // A repeated ReleasePool, or one after an operator deleted the pool, has nothing left to do.
  if (pool === undefined || !pool.ownedByKuryr) return;

  // dockerd releases the pool before it deletes the network, so kuryr's
  // subnet in this pool goes first; the network itself goes in DeleteNetwork.
  const subnets = await findPoolSubnets(ctx, pool);
  if (await usedBySwarmNetwork(ctx, subnets)) {
    ctx.logger.info({ poolId: pool.poolId, cidr: pool.cidr }, 'pool of a swarm network kept until the manager frees the network');
    return;
  }
  for (const subnet of subnets) {
    if (subnet.name.startsWith(SUBNET_NAME_PREFIX)) {
      // Neutron refuses to delete a subnet whose released ports are still being deleted.
      await ctx.reaper.waitForNetwork(subnet.network_id);
      // Neutron refuses to delete a subnet that still has a router interface.
      await detachSubnetFromRouter(ctx, subnet);
      await ctx.neutron.subnets.delete(subnet.id, { ignoreNotFound: true });
      forgetSubnet(ctx, subnet.id);
    } else if ((subnet.tags ?? []).includes(pool.subnetPoolId)) {
      // An operator's subnet reused for this pool gets its tags back; the subnet stays.
      await ctx.neutron.replaceTags('subnets', subnet.id, (subnet.tags ?? []).filter((tag) => tag !== pool.subnetPoolId));
    }
  }
  await deleteOwnedPool(ctx, pool.subnetPoolId);
  ctx.logger.info({ poolId: pool.poolId, cidr: pool.cidr }, 'pool released');
}

/**
 * True when a subnet belongs to a network a swarm manager allocated. A host
 * releases the pool when its last container on the network goes, but other
 * hosts may still use the subnet, so FreeNetwork deletes it with the network.
 */
async function usedBySwarmNetwork(ctx: ServiceContext, subnets: Subnet[]): Promise<boolean> {
  if (ctx.config.globalScope !== true) return false;
  for (const networkId of new Set(subnets.map((subnet) => subnet.network_id))) {
    const network = await ctx.neutron.networks.get(networkId).catch((error: unknown) => {
      if (isHttpStatus(error, 404)) return undefined;
      throw error;
    });
    if ((network?.tags ?? []).includes(SWARM_NETWORK_TAG)) return true;
  }
  return false;
}

/** Deletes a `kuryrPool-*` subnet pool unless a subnet still uses it; DeleteNetwork retries later. */
export async function deleteOwnedPool(ctx: ServiceContext, subnetPoolId: string): Promise<void> {
  try {
    await ctx.neutron.subnetpools.delete(subnetPoolId, { ignoreNotFound: true });
  } catch (error) {
    // Neutron refuses to delete a pool with allocations: 400 SubnetPoolDeleteError
    // in Zed, 409 SubnetPoolInUse in other releases.
    if (error instanceof OpenStackHttpError && (error.faultType === 'SubnetPoolDeleteError' || error.status === 409)) {
      ctx.logger.info({ subnetPoolId }, 'subnet pool still has allocations; it is deleted with its last network');
      return;
    }
    throw error;
  }
}

function forgetSubnet(ctx: ServiceContext, subnetId: string): void {
  for (const network of ctx.networks.values()) {
    network.subnets = network.subnets.filter((subnet) => subnet.id !== subnetId);
  }
}
