/**
 * CreateNetwork and DeleteNetwork for `-o neutron.net.*` or
 * `-o neutron.subnet.*`: the Docker network uses an operator's Neutron
 * network. kuryr records the adoption in tags and undoes exactly that on
 * removal. It never renames or deletes the network, and it deletes only the
 * subnets it created. Each Docker network has its own tags, so two Docker
 * networks can share one Neutron network.
 */
import { KuryrError } from '../errors.js';
import type { Network, Subnet } from '../neutron/index.js';
import type { CreateNetwork } from '../protocol/index.js';
import { formatCidr, parseCidr } from './cidr.js';
import type { NetworkInfo, ServiceContext } from './context.js';
import { findExistingNetwork, findExistingSubnet } from './existing-lookup.js';
import type { ExistingOptions } from './existing-options.js';
import { dockerIdTags, EXISTING_NETWORK_TAG_PREFIX, INTERNAL_NETWORK_TAG, SUBNET_NAME_PREFIX } from './naming.js';

export function existingNetworkTag(networkId: string): string {
  return `${EXISTING_NETWORK_TAG_PREFIX}${networkId.slice(0, 12)}`;
}

/** Tags that mark a Docker network's claim on an adopted network, and on the subnets made or reused for it. */
function claimTags(networkId: string, internal: boolean): string[] {
  return [...dockerIdTags(networkId), existingNetworkTag(networkId), ...(internal ? [INTERNAL_NETWORK_TAG] : [])];
}

/** Finds the operator's network named by the options, directly or through a named subnet. */
export async function findNetworkToAdopt(ctx: ServiceContext, options: ExistingOptions): Promise<Network> {
  if (options.network !== undefined) return findExistingNetwork(ctx, options.network);
  const subnetRef = options.subnet[4] ?? options.subnet[6];
  if (subnetRef === undefined) throw new KuryrError('INVALID_OPTION', 'no neutron.net.* or neutron.subnet.* option names a network to use');
  const subnet = await findExistingSubnet(ctx, subnetRef);
  return ctx.neutron.networks.get(subnet.network_id);
}

/**
 * Tags the network for this Docker network and creates the subnets it lacks.
 * `createSubnets` makes the missing ones; on any failure the tags are put
 * back as they were and the new subnets are deleted.
 */
export async function adoptNetwork(
  ctx: ServiceContext,
  request: CreateNetwork,
  network: Network,
  options: ExistingOptions,
  internal: boolean,
  createSubnets: (network: Network, existing: Subnet[]) => Promise<Subnet[]>,
): Promise<NetworkInfo> {
  if (options.shared !== undefined && network.shared !== options.shared) {
    throw new KuryrError(
      'INVALID_OPTION',
      `network "${network.id}" has shared=${String(network.shared)} but -o neutron.net.shared=${String(options.shared)}: pass the network's value or leave the option out`,
    );
  }
  const originalTags = network.tags ?? [];
  const existingSubnets = await ctx.neutron.subnets.list({ network_id: network.id });

  await ctx.neutron.replaceTags('networks', network.id, [...new Set([...originalTags, ...claimTags(request.NetworkID, internal)])]);
  let created: Subnet[] = [];
  try {
    created = await createSubnets(network, existingSubnets);
    const ownerTag = dockerIdTags(request.NetworkID)[0] as string;
    for (const subnet of created) {
      subnet.tags = [...(subnet.tags ?? []), ownerTag];
      await ctx.neutron.replaceTags('subnets', subnet.id, subnet.tags);
    }
  } catch (error) {
    for (const subnet of created) await ctx.neutron.subnets.delete(subnet.id, { ignoreNotFound: true });
    await ctx.neutron.replaceTags('networks', network.id, originalTags);
    throw error;
  }

  const wanted = new Set([...request.IPv4Data, ...request.IPv6Data].filter((datum) => datum.Pool !== '').map((datum) => formatCidr(parseCidr(datum.Pool))));
  const reused = existingSubnets.filter((subnet) => wanted.has(formatCidr(parseCidr(subnet.cidr))));
  ctx.logger.info({ networkId: request.NetworkID, neutronNetworkId: network.id, created: created.length, reused: reused.length }, 'existing network adopted');
  return {
    networkId: request.NetworkID,
    neutronNetworkId: network.id,
    projectId: network.project_id ?? '',
    mtu: network.mtu ?? 1500,
    subnets: [...reused, ...created],
    adopted: true,
    internal,
  };
}

/**
 * Hands an adopted network back: deletes the subnets kuryr created for this
 * Docker network (ReleasePool usually did already) and removes this Docker
 * network's tags, leaving any other Docker network's claim in place.
 */
export async function releaseAdoptedNetwork(ctx: ServiceContext, networkId: string, neutronNetworkId: string): Promise<void> {
  const ownerTag = dockerIdTags(networkId)[0] as string;
  const subnets = await ctx.neutron.subnets.list({ network_id: neutronNetworkId, tags: [ownerTag] });
  for (const subnet of subnets.filter((candidate) => candidate.name.startsWith(SUBNET_NAME_PREFIX))) {
    await ctx.neutron.subnets.delete(subnet.id, { ignoreNotFound: true });
  }
  const network = await ctx.neutron.networks.get(neutronNetworkId);
  const claim = new Set(claimTags(networkId, false));
  let remaining = (network.tags ?? []).filter((tag) => !claim.has(tag));
  // The internal mark belongs to the last Docker network that set it.
  if (!remaining.some((tag) => tag.startsWith(EXISTING_NETWORK_TAG_PREFIX))) remaining = remaining.filter((tag) => tag !== INTERNAL_NETWORK_TAG);
  await ctx.neutron.replaceTags('networks', neutronNetworkId, remaining);
  ctx.logger.info({ networkId, neutronNetworkId }, 'existing network handed back');
}
