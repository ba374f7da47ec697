/**
 * NetworkDriver.AllocateNetwork and FreeNetwork, which a swarm manager calls
 * for networks of a global-scope driver. The manager hands out container
 * addresses (RequestAddress) before any host calls CreateNetwork, so the
 * Neutron network and subnets are made here, tagged as the swarm's. Each
 * host's CreateNetwork then finds them by their Docker id tags.
 */
import type { AllocateNetwork, FreeNetwork } from '../protocol/index.js';
import type { ServiceContext } from './context.js';
import { SWARM_NETWORK_TAG } from './naming.js';
import { createNetwork, deleteNetwork, findNetwork } from './networks.js';

export async function allocateNetwork(ctx: ServiceContext, request: AllocateNetwork): Promise<{ Options: Record<string, unknown> }> {
  await createNetwork(ctx, { NetworkID: request.NetworkID, Options: request.Options, IPv4Data: request.IPv4Data ?? [], IPv6Data: request.IPv6Data ?? [] }, true);
  const network = await findNetwork(ctx, request.NetworkID);
  // An operator's network adopted with `-o neutron.net.*` gets its swarm tag here.
  if (network !== undefined && network.swarm !== true) {
    const current = await ctx.neutron.networks.get(network.neutronNetworkId);
    await ctx.neutron.replaceTags('networks', network.neutronNetworkId, [...(current.tags ?? []), SWARM_NETWORK_TAG]);
    network.swarm = true;
  }
  ctx.logger.info({ networkId: request.NetworkID, neutronNetworkId: network?.neutronNetworkId }, 'swarm network allocated');
  // The options go back unchanged, as upstream Kuryr replies.
  return { Options: request.Options };
}

export async function freeNetwork(ctx: ServiceContext, request: FreeNetwork): Promise<void> {
  await deleteNetwork(ctx, { NetworkID: request.NetworkID }, true);
}
