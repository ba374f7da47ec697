/** Lookups of operator-made Neutron resources named by an `neutron.*` option. */
import { KuryrError, isHttpStatus } from '../errors.js';
import type { Network, Subnet, SubnetPool } from '../neutron/index.js';
import type { ServiceContext } from './context.js';
import { describeRef, type ResourceRef } from './existing-options.js';

/**
 * Finds the one resource a ref names: by id, or by a name exactly one resource
 * has. A ref that matches nothing, or several, is a bad option value, so the
 * error is INVALID_OPTION and Docker gets HTTP 400.
 */
export async function findOne<T extends { id: string }>(
  kind: string,
  ref: ResourceRef,
  get: (id: string) => Promise<T>,
  listByName: (name: string) => Promise<T[]>,
): Promise<T> {
  if ('id' in ref) {
    try {
      return await get(ref.id);
    } catch (error) {
      if (isHttpStatus(error, 404)) throw new KuryrError('INVALID_OPTION', `${describeRef(kind, ref)} not found in Neutron: check the id`);
      throw error;
    }
  }
  const found = await listByName(ref.name);
  if (found.length === 0) throw new KuryrError('INVALID_OPTION', `${describeRef(kind, ref)} not found in Neutron: check the name, or pass its uuid`);
  if (found.length > 1) {
    const ids = found.map((item) => item.id).join(', ');
    throw new KuryrError('INVALID_OPTION', `several ${kind}s are named "${ref.name}" (${ids}): pass the uuid instead`);
  }
  return found[0] as T;
}

export function findExistingNetwork(ctx: ServiceContext, ref: ResourceRef): Promise<Network> {
  return findOne('network', ref, (id) => ctx.neutron.networks.get(id), (name) => ctx.neutron.networks.list({ name }));
}

export function findExistingSubnet(ctx: ServiceContext, ref: ResourceRef): Promise<Subnet> {
  return findOne('subnet', ref, (id) => ctx.neutron.subnets.get(id), (name) => ctx.neutron.subnets.list({ name }));
}

export function findExistingPool(ctx: ServiceContext, ref: ResourceRef): Promise<SubnetPool> {
  return findOne('subnet pool', ref, (id) => ctx.neutron.subnetpools.get(id), (name) => ctx.neutron.subnetpools.list({ name }));
}
