/**
 * Deletes the ports a crash left on a network that Docker is deleting.
 * dockerd sends DeleteNetwork only when no endpoint of this host is left on
 * the network, so every kuryr port still bound to this host there is a
 * leftover: a RequestAddress or CreateEndpoint whose daemon was killed
 * before Docker released it. Neutron refuses to delete a network with such
 * ports (NetworkInUse), while Docker drops the network from its own state
 * anyway.
 */
import { isHttpStatus } from '../errors.js';
import type { Port } from '../neutron/index.js';
import type { NetworkInfo, ServiceContext } from './context.js';
import { bindingRequest } from './endpoints.js';
import { deleteExposedPortsGroup } from './exposed-ports.js';
import { EXISTING_PORT_TAG, PORT_DEVICE_OWNER } from './naming.js';

/**
 * Deletes the network. When Neutron reports it in use, deletes this host's
 * leftover kuryr ports on it and tries once more, so the normal path costs
 * no extra request.
 */
export async function deleteNetworkAndLeftovers(ctx: ServiceContext, network: NetworkInfo): Promise<void> {
  try {
    await ctx.neutron.networks.delete(network.neutronNetworkId, { ignoreNotFound: true });
  } catch (error) {
    if (!isHttpStatus(error, 409)) throw error;
    const deleted = await deleteLeftoverPorts(ctx, network);
    if (deleted === 0) throw error;
    await ctx.neutron.networks.delete(network.neutronNetworkId, { ignoreNotFound: true });
  }
}

/** Deletes this host's kuryr ports on the network, with their devices and groups; returns how many. */
async function deleteLeftoverPorts(ctx: ServiceContext, network: NetworkInfo): Promise<number> {
  // Nested modes leave container ports unbound, so an empty host name would
  // match the ports of every other VM on the network.
  if (ctx.config.hostName === '') return 0;
  const ports = await ctx.neutron.ports.list({
    network_id: network.neutronNetworkId,
    device_owner: PORT_DEVICE_OWNER,
    'binding:host_id': ctx.config.hostName,
  });
  // An operator's port that kuryr adopted is handed back by ReleaseAddress, never deleted.
  const leftovers = ports.filter((candidate) => !(candidate.tags ?? []).includes(EXISTING_PORT_TAG));
  for (const port of leftovers) await deleteLeftoverPort(ctx, network, port);
  return leftovers.length;
}

async function deleteLeftoverPort(ctx: ServiceContext, network: NetworkInfo, port: Port): Promise<void> {
  await ctx.binder.unbind(bindingRequest(network, port, ''));
  await ctx.neutron.ports.delete(port.id, { ignoreNotFound: true });
  await deleteExposedPortsGroup(ctx, port.id);
  ctx.logger.warn({ portId: port.id, neutronNetworkId: network.neutronNetworkId }, 'deleted a leftover port of a crashed request with its network');
}
