/**
 * Creates Neutron resources without risking duplicates. The client never
 * retries a POST, because Neutron may have created the resource before the
 * reply was lost. After such an ambiguous failure the resource is looked up
 * by what identifies it (a name, a MAC, an address) and used if found.
 */
import { KuryrError, OpenStackHttpError } from '../errors.js';
import type { Network, Port, Subnet, SubnetCreate } from '../neutron/index.js';
import type { ServiceContext } from './context.js';
import { networkName, PORT_DEVICE_OWNER } from './naming.js';

/**
 * Runs `create`. When it fails without telling whether Neutron processed the
 * request, runs `find` and returns what it found. Otherwise, and when
 * `find` finds nothing or fails, the create's error is thrown.
 */
export async function createOrFind<T>(ctx: ServiceContext, what: string, create: () => Promise<T>, find: () => Promise<T | undefined>): Promise<T> {
  try {
    return await create();
  } catch (error) {
    if (!isAmbiguousFailure(error)) throw error;
    let found: T | undefined;
    try {
      found = await find();
    } catch (lookupError) {
      ctx.logger.warn({ err: lookupError, cause: error, resource: what }, 'lookup after an ambiguous create failed');
      throw error;
    }
    if (found === undefined) throw error;
    ctx.logger.warn({ err: error, resource: what, ids: idsOf(found) }, 'create failed without a clear reply, but the resource exists; using it');
    return found;
  }
}

/**
 * True when the POST may have been processed: no reply arrived (a reset, a
 * timeout), or a 5xx came back that a proxy or load balancer in front of
 * Neutron may have sent after forwarding the request. 501 means the server
 * does not implement the call at all.
 */
export function isAmbiguousFailure(error: unknown): boolean {
  if (error instanceof OpenStackHttpError) return error.status >= 500 && error.status <= 599 && error.status !== 501;
  return error instanceof KuryrError && error.code === 'NEUTRON_UNREACHABLE';
}

/**
 * Finds the network a lost create made for a Docker network: named after the
 * Docker id and still without tags, because the tags come in a second call.
 */
export async function findCreatedNetwork(ctx: ServiceContext, networkId: string): Promise<Network | undefined> {
  const networks = await ctx.neutron.networks.list({ name: networkName(networkId) });
  const untagged = networks.filter((network) => (network.tags ?? []).length === 0);
  return untagged.length === 1 ? untagged[0] : undefined;
}

/** Finds the subnets a lost bulk create made on a new network: one per body, matched by name and CIDR. */
export async function findCreatedSubnets(ctx: ServiceContext, neutronNetworkId: string, bodies: readonly SubnetCreate[]): Promise<Subnet[] | undefined> {
  const subnets = await ctx.neutron.subnets.list({ network_id: neutronNetworkId });
  const matched = bodies.map((body) => subnets.find((subnet) => subnet.name === body.name && subnet.cidr === body.cidr));
  return matched.every((subnet) => subnet !== undefined) ? (matched as Subnet[]) : undefined;
}

/**
 * Finds the port a lost RequestAddress create made: a kuryr port on the
 * subnet that no endpoint claimed yet, with the MAC (unique per network)
 * or else the requested address.
 */
export async function findCreatedAddressPort(ctx: ServiceContext, subnet: Subnet, address: string, mac: string | undefined): Promise<Port | undefined> {
  // NOTE: without a MAC or an address nothing distinguishes this port from
  // another request's, so the create's error is raised and the port is left to `kuryr gc`.
  if (mac === undefined && address === '') return undefined;
  const match = mac === undefined ? { fixed_ips: [{ subnet_id: subnet.id, ip_address: address }] } : { mac_address: mac.toLowerCase() };
  const ports = await ctx.neutron.ports.list({ network_id: subnet.network_id, device_owner: PORT_DEVICE_OWNER, ...match });
  return ports.find(
    (port) =>
      !(port.tags ?? []).some((tag) => tag.startsWith('kuryr.net.uuid.')) &&
      port.fixed_ips.some((fixedIp) => fixedIp.subnet_id === subnet.id && (address === '' || fixedIp.ip_address === address)),
  );
}

function idsOf(found: unknown): string[] {
  const items: unknown[] = Array.isArray(found) ? found : [found];
  return items.flatMap((item) => (typeof item === 'object' && item !== null && typeof (item as { id?: unknown }).id === 'string' ? [(item as { id: string }).id] : []));
}
