/**
 * RequestPool for `--ipam-opt neutron.subnet.*` and `neutron.pool.*`: the
 * Docker pool stands for an operator's subnet, or for a subnet allocated from
 * an operator's subnet pool. kuryr never modifies or deletes either.
 */
import { KuryrError } from '../errors.js';
import type { Subnet, SubnetPool } from '../neutron/index.js';
import type { RequestPool } from '../protocol/index.js';
import { containsCidr, formatCidr, parseCidr, type IpVersion } from './cidr.js';
import type { PoolInfo, ServiceContext } from './context.js';
import { findExistingPool, findExistingSubnet } from './existing-lookup.js';
import { parseExistingOptions } from './existing-options.js';
import { carveFromPool } from './ipam-pools.js';
import { existingSubnetPoolInfo } from './pools.js';

/** Returns the pool for an existing subnet or pool named in the IPAM options, or undefined when none is named. */
export async function poolFromExistingResource(ctx: ServiceContext, request: RequestPool): Promise<PoolInfo | undefined> {
  const version: IpVersion = request.V6 ? 6 : 4;
  const options = parseExistingOptions(request.Options, '--ipam-opt');
  const subnetRef = options.subnet[version];
  if (subnetRef !== undefined) return poolFromSubnet(await findExistingSubnet(ctx, subnetRef), request, version);
  const poolRef = options.pool[version];
  if (poolRef !== undefined) return poolFromOperatorPool(ctx, await findExistingPool(ctx, poolRef), request, version);
  return undefined;
}

function poolFromSubnet(subnet: Subnet, request: RequestPool, version: IpVersion): PoolInfo {
  if (subnet.ip_version !== version) {
    throw new KuryrError('INVALID_OPTION', `subnet "${subnet.id}" is IPv${subnet.ip_version} but the pool request is for IPv${version}: use neutron.subnet${version === 6 ? '.v6' : ''}.* for the other family`);
  }
  if (request.Pool !== '' && formatCidr(parseCidr(request.Pool)) !== formatCidr(parseCidr(subnet.cidr))) {
    throw new KuryrError('INVALID_OPTION', `--subnet ${request.Pool} differs from the CIDR ${subnet.cidr} of subnet "${subnet.id}": pass --subnet ${subnet.cidr} or leave it out`);
  }
  if (request.SubPool !== '') {
    throw new KuryrError('INVALID_OPTION', `--ip-range cannot change the allocation pools of the existing subnet "${subnet.id}": leave it out`);
  }
  return existingSubnetPoolInfo(subnet);
}

async function poolFromOperatorPool(ctx: ServiceContext, pool: SubnetPool, request: RequestPool, version: IpVersion): Promise<PoolInfo> {
  if (pool.ip_version !== undefined && pool.ip_version !== version) {
    throw new KuryrError('INVALID_OPTION', `subnet pool "${pool.id}" is IPv${pool.ip_version} but the pool request is for IPv${version}`);
  }
  const subPool = request.SubPool === '' ? undefined : formatCidr(parseCidr(request.SubPool));
  if (request.Pool === '') return carveFromPool(ctx, pool, subPool);

  const cidr = parseCidr(request.Pool);
  const inside = pool.prefixes.some((prefix) => containsCidr(parseCidr(prefix), cidr));
  if (!inside) {
    throw new KuryrError('INVALID_OPTION', `--subnet ${request.Pool} is not inside subnet pool "${pool.name}" (${pool.prefixes.join(', ')}): choose a subnet within its prefixes`);
  }
  if (subPool !== undefined && !containsCidr(cidr, parseCidr(subPool))) {
    throw new KuryrError('INVALID_REQUEST', `--ip-range "${request.SubPool}" is not inside --subnet "${request.Pool}": choose a range within the subnet`);
  }
  const cidrText = formatCidr(cidr);
  return { poolId: `${pool.id}:${cidrText}`, subnetPoolId: pool.id, cidr: cidrText, version, subPool, ownedByKuryr: false };
}
