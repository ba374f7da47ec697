/**
 * Leak checks for the reliability tests: every Neutron resource a fault
 * proxy saw created, looked up one by one, and the host devices of every
 * created port in the lab namespace. Only resources the test itself made
 * are checked, so concurrent tests on the same lab never count.
 */
import { vethNames } from '../../src/binding/names.js';
import { labLinkNames, neutronGet } from './lab.js';

/** Collections checked for leftovers. Security group rules go with their group, so they are not listed. */
const CHECKED_COLLECTIONS = ['ports', 'subnets', 'networks', 'subnetpools', 'security-groups'] as const;

export interface Leftovers {
  /** Ids still in Neutron, by collection. */
  neutron: Record<string, string[]>;
  /** Device names still in the lab namespace. */
  devices: string[];
}

/** Returns the created resources that still exist. */
export async function findLeftovers(created: ReadonlyMap<string, ReadonlySet<string>>): Promise<Leftovers> {
  const neutron: Record<string, string[]> = {};
  for (const collection of CHECKED_COLLECTIONS) {
    const ids = [...(created.get(collection) ?? [])];
    const present = await Promise.all(ids.map(async (id) => ((await exists(`/${collection}/${id}`)) ? id : undefined)));
    neutron[collection] = present.filter((id): id is string => id !== undefined);
  }
  const links = new Set(await labLinkNames());
  const devices = [...(created.get('ports') ?? [])].flatMap((portId) => {
    const names = vethNames(portId);
    return [names.hostIfName, names.containerIfName].filter((name) => links.has(name));
  });
  return { neutron, devices };
}

/** Returns the number of leftovers of every kind together. */
export function countLeftovers(leftovers: Leftovers): number {
  return Object.values(leftovers.neutron).reduce((sum, ids) => sum + ids.length, 0) + leftovers.devices.length;
}

async function exists(path: string): Promise<boolean> {
  try {
    await neutronGet(path);
    return true;
  } catch (error) {
    if (error instanceof Error && / returned HTTP 404:/.test(error.message)) return false;
    throw error;
  }
}
