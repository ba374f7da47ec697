/**
 * NetworkDriver endpoint verbs. CreateEndpoint claims the port RequestAddress
 * made, tags it with the endpoint id and wires the host side. Join returns
 * the interface Docker moves into the container.
 */
import { vethNames, type PortBindingRequest } from '../binding/index.js';
import { KuryrError } from '../errors.js';
import type { Port } from '../neutron/index.js';
import type { CreateEndpoint, EndpointRequest, Join, JoinReply, StaticRoute } from '../protocol/index.js';
import { contains, parseCidr, parseIp } from './cidr.js';
import { addressKey, type EndpointInfo, type NetworkInfo, type ServiceContext } from './context.js';
import { createOrFind } from './create-or-find.js';
import { applyEndpointFeatures, releaseEndpointFeatures } from './endpoint-features.js';
import { deleteExposedPortsGroup } from './exposed-ports.js';
import { parseFeatureOptions } from './feature-options.js';
import { dockerIdTags, PORT_DEVICE_OWNER, PORT_NAME, PORT_TAG } from './naming.js';
import { requireNetwork } from './networks.js';
import { waitForPortActive } from './port-status.js';

export async function createEndpoint(ctx: ServiceContext, request: CreateEndpoint): Promise<{ Interface: { MacAddress?: string } }> {
  const addresses = [request.Interface.Address, request.Interface.AddressIPv6].filter((cidr) => cidr !== '').map((cidr) => cidr.split('/')[0] ?? '');
  if (addresses.length === 0) {
    throw new KuryrError('INVALID_REQUEST', `endpoint "${request.EndpointID}" has no IPv4 or IPv6 address: use an IPAM driver that assigns one`);
  }
  // `docker network connect --driver-opt` options arrive as top-level keys; they are checked before any Neutron request.
  const featureOptions = parseFeatureOptions(request.Options, '--driver-opt');
  const network = await requireNetwork(ctx, request.NetworkID);

  return ctx.locks.run(`endpoint:${request.EndpointID}`, async () => {
    let port = await claimPort(ctx, network, request, addresses);
    const features = await applyEndpointFeatures(ctx, network, port, featureOptions);
    let binding: PortBindingRequest | undefined;
    try {
      port = await tagPort(ctx, features.port, request.EndpointID, features.tags);
      binding = bindingRequest(network, port, request.EndpointID);
      await ctx.binder.bind(binding);
    } catch (error) {
      await features.undo(error);
      throw error;
    }
    const waitStarted = ctx.clock.now();
    try {
      if (ctx.config.portActiveTimeoutMs > 0) port = await waitForPortActive(ctx, port);
    } catch (error) {
      await unbindAfterFailure(ctx, binding, error);
      await features.undo(error);
      throw error;
    }

    const activeWaitMs = ctx.clock.now() - waitStarted;
    ctx.endpoints.set(request.EndpointID, { endpointId: request.EndpointID, networkId: request.NetworkID, port });
    ctx.logger.info({ endpointId: request.EndpointID, portId: port.id, status: port.status, activeWaitMs }, 'endpoint created');
    // Docker rejects a reply that changes a MAC it chose, so the MAC is returned only when Docker sent none.
    return { Interface: request.Interface.MacAddress === '' ? { MacAddress: port.mac_address } : {} };
  });
}

/**
 * Finds the port RequestAddress made for these addresses, and brings its
 * binding and MAC in line with the request. With Docker's built-in IPAM no
 * such port exists, so one is created here.
 */
async function claimPort(ctx: ServiceContext, network: NetworkInfo, request: CreateEndpoint, addresses: string[]): Promise<Port> {
  const mac = request.Interface.MacAddress.toLowerCase();
  const found = await findPortByAddress(ctx, network, addresses[0] ?? '');
  if (found === undefined) return createEndpointPort(ctx, network, request.EndpointID, addresses, mac);

  const update: Record<string, unknown> = {};
  if (mac !== '' && found.mac_address !== mac) update.mac_address = mac;
  if (found['binding:host_id'] !== ctx.config.hostName) update['binding:host_id'] = ctx.config.hostName;
  if (found.device_owner !== PORT_DEVICE_OWNER) update.device_owner = PORT_DEVICE_OWNER;
  if (Object.keys(update).length === 0) return found;
  return ctx.neutron.ports.update(found.id, update);
}

async function findPortByAddress(ctx: ServiceContext, network: NetworkInfo, ip: string): Promise<Port | undefined> {
  const cached = ctx.addressPorts.get(addressKey(network.neutronNetworkId, ip));
  if (cached !== undefined) return cached;
  const ports = await ctx.neutron.ports.list({ network_id: network.neutronNetworkId, fixed_ips: [{ ip_address: ip }] });
  return ports[0];
}

async function createEndpointPort(ctx: ServiceContext, network: NetworkInfo, endpointId: string, addresses: string[], mac: string): Promise<Port> {
  const fixedIps = addresses.map((ip) => {
    const subnet = network.subnets.find((candidate) => subnetContains(candidate.cidr, ip));
    if (subnet === undefined) {
      throw new KuryrError('INVALID_REQUEST', `address "${ip}" is in no subnet of Docker network "${network.networkId}"`);
    }
    return { subnet_id: subnet.id, ip_address: ip };
  });
  // device_id marks ports made here: DeleteEndpoint deletes them, because no
  // ReleaseAddress reaches kuryr when another IPAM driver owns the address.
  const create = (): Promise<Port> =>
    ctx.neutron.ports.create({
      network_id: network.neutronNetworkId,
      name: PORT_NAME,
      admin_state_up: true,
      device_owner: PORT_DEVICE_OWNER,
      device_id: endpointId,
      'binding:host_id': ctx.config.hostName,
      fixed_ips: fixedIps,
      ...(mac === '' ? {} : { mac_address: mac }),
    });
  // The device_id is the endpoint id, so a port found with it is the one this create made.
  const find = async (): Promise<Port | undefined> => (await ctx.neutron.ports.list({ network_id: network.neutronNetworkId, device_id: endpointId }))[0];
  return createOrFind(ctx, 'port', create, find);
}

function subnetContains(cidr: string, ip: string): boolean {
  const { version, value } = parseIp(ip);
  return contains(parseCidr(cidr), version, value);
}

async function tagPort(ctx: ServiceContext, port: Port, endpointId: string, featureTags: string[]): Promise<Port> {
  const tags = [...new Set([...(port.tags ?? []), PORT_TAG, ...dockerIdTags(endpointId), ...featureTags])];
  await ctx.neutron.replaceTags('ports', port.id, tags);
  return { ...port, tags };
}

/**
 * Undoes a bind after a later step failed. Docker sends no DeleteEndpoint for a failed
 * CreateEndpoint, so this is the only cleanup. A failing undo is logged, and the caller rethrows
 * the original error, which is the one Docker must show.
 */
async function unbindAfterFailure(ctx: ServiceContext, binding: PortBindingRequest, cause: unknown): Promise<void> {
  try {
    await ctx.binder.unbind(binding);
  } catch (error) {
    ctx.logger.error({ err: error, cause, portId: binding.portId, endpointId: binding.endpointId }, 'cannot undo the bind of a failed endpoint');
  }
}

/** Builds what a binder needs to wire or unwire the port of an endpoint; `endpointId` is empty when no endpoint is known. */
export function bindingRequest(network: NetworkInfo, port: Port, endpointId: string): PortBindingRequest {
  return {
    portId: port.id,
    endpointId,
    neutronNetworkId: network.neutronNetworkId,
    projectId: port.project_id ?? network.projectId,
    macAddress: port.mac_address,
    mtu: network.mtu,
    vifType: port['binding:vif_type'] ?? 'unbound',
    vifDetails: port['binding:vif_details'] ?? {},
    fixedIps: port.fixed_ips.map((fixedIp) => fixedIp.ip_address),
    vnicType: port['binding:vnic_type'] ?? 'normal',
    bindingProfile: port['binding:profile'] ?? {},
  };
}

/** Finds an endpoint's port from the cache or, after a restart, by its tags. */
export async function findEndpoint(ctx: ServiceContext, request: EndpointRequest): Promise<EndpointInfo | undefined> {
  const cached = ctx.endpoints.get(request.EndpointID);
  if (cached !== undefined) return cached;
  const ports = await ctx.neutron.ports.list({ tags: dockerIdTags(request.EndpointID) });
  const port = ports[0];
  if (port === undefined) return undefined;
  const info = { endpointId: request.EndpointID, networkId: request.NetworkID, port };
  ctx.endpoints.set(request.EndpointID, info);
  return info;
}

export async function join(ctx: ServiceContext, request: Join): Promise<JoinReply> {
  const endpoint = await findEndpoint(ctx, request);
  if (endpoint === undefined) {
    throw new KuryrError('NOT_FOUND', `endpoint "${request.EndpointID}" has no Neutron port: recreate the container's endpoint`);
  }
  const network = await requireNetwork(ctx, request.NetworkID);
  const boundIfName = await ctx.binder.containerIfName?.(bindingRequest(network, endpoint.port, request.EndpointID));
  const reply: JoinReply = {
    InterfaceName: { SrcName: boundIfName ?? vethNames(endpoint.port.id).containerIfName, DstPrefix: 'eth' },
    // kuryr returns the gateway itself; Docker's extra gateway bridge would
    // give the container a second, non-Neutron interface.
    DisableGatewayService: true,
  };
  const routes: StaticRoute[] = [];
  for (const fixedIp of endpoint.port.fixed_ips) {
    const subnet = network.subnets.find((candidate) => candidate.id === fixedIp.subnet_id);
    if (subnet === undefined) continue;
    // An --internal network has no way out, so the container gets no default route.
    if (subnet.gateway_ip && !network.internal) {
      if (subnet.ip_version === 4) reply.Gateway ??= subnet.gateway_ip;
      else reply.GatewayIPv6 ??= subnet.gateway_ip;
    }
    for (const route of subnet.host_routes ?? []) {
      routes.push({ Destination: route.destination, RouteType: 0, NextHop: route.nexthop });
    }
  }
  if (routes.length > 0) reply.StaticRoutes = routes;
  return reply;
}

export async function deleteEndpoint(ctx: ServiceContext, request: EndpointRequest): Promise<void> {
  await ctx.locks.run(`endpoint:${request.EndpointID}`, async () => {
    const endpoint = await findEndpoint(ctx, request);
    // Nothing left: a repeated DeleteEndpoint.
    if (endpoint === undefined) return;
    const network = await requireNetwork(ctx, request.NetworkID);
    await ctx.binder.unbind(bindingRequest(network, endpoint.port, request.EndpointID));
    await releaseEndpointFeatures(ctx, endpoint.port);
    if (endpoint.port.device_id === request.EndpointID) {
      await ctx.neutron.ports.delete(endpoint.port.id, { ignoreNotFound: true });
      await deleteExposedPortsGroup(ctx, endpoint.port.id);
    }
    ctx.endpoints.delete(request.EndpointID);
    ctx.logger.info({ endpointId: request.EndpointID, portId: endpoint.port.id }, 'endpoint deleted');
  });
}

export async function endpointOperInfo(ctx: ServiceContext, request: EndpointRequest): Promise<{ Value: Record<string, unknown> }> {
  const endpoint = await findEndpoint(ctx, request);
  if (endpoint === undefined) return { Value: {} };
  const { port } = endpoint;
  return {
    Value: {
      port_id: port.id,
      status: port.status,
      mac_address: port.mac_address,
      fixed_ips: port.fixed_ips.map((fixedIp) => fixedIp.ip_address),
      host_interface: vethNames(port.id).hostIfName,
      vif_type: port['binding:vif_type'],
    },
  };
}
