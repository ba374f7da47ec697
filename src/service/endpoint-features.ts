/**
 * Applies the network's and the endpoint's features to a container port in
 * CreateEndpoint, and removes what kuryr made for them in DeleteEndpoint.
 * Security groups, port security, address pairs and QoS are port attributes,
 * set in one update. A floating IP and a firewall group membership are
 * recorded as port tags (`kuryr.fip:<id>`, `kuryr.fwg:<id>`), so DeleteEndpoint
 * finds them without a lookup, also after a restart.
 */
import { KuryrError, OpenStackHttpError, isHttpStatus } from '../errors.js';
import type { Port, PortUpdate } from '../neutron/index.js';
import { ipVersionOf } from './cidr.js';
import type { NetworkInfo, ServiceContext } from './context.js';
import { NO_FEATURES, resolveFeatures, type ResolvedFeatures } from './feature-lookup.js';
import {
  ALLOWED_ADDRESS_PAIRS_OPTION,
  FLOATING_IP_NETWORK_OPTION,
  hasFeatures,
  PORT_SECURITY_OPTION,
  SECURITY_GROUPS_OPTION,
  type FeatureOptions,
} from './feature-options.js';

const FLOATING_IP_TAG = 'kuryr.fip:';
const FIREWALL_GROUP_TAG = 'kuryr.fwg:';

/** Result of applying features in CreateEndpoint: the updated port, the tags to add to it, and the undo for a later failure. */
export interface AppliedFeatures {
  port: Port;
  tags: string[];
  undo(cause: unknown): Promise<void>;
}

export async function applyEndpointFeatures(ctx: ServiceContext, network: NetworkInfo, port: Port, options: FeatureOptions): Promise<AppliedFeatures> {
  const networkFeatures = network.features ?? NO_FEATURES;
  if (!hasFeatures(options) && !hasPortFeatures(networkFeatures) && networkFeatures.floatingNetworkId === undefined && networkFeatures.firewallGroupId === undefined) {
    return { port, tags: [], undo: async () => {} };
  }
  if (network.internal && options.floatingIpNetwork !== undefined) {
    throw new KuryrError('INVALID_OPTION', `--driver-opt ${FLOATING_IP_NETWORK_OPTION} conflicts with the --internal network "${network.networkId}": it has no way out`);
  }
  const endpointFeatures = hasFeatures(options) ? await resolveFeatures(ctx, options, '--driver-opt') : NO_FEATURES;

  const update = portUpdate(port, networkFeatures, endpointFeatures);
  let updated = port;
  if (Object.keys(update).length > 0) updated = await ctx.neutron.ports.update(port.id, update);

  const tags: string[] = [];
  const undoSteps: Array<() => Promise<void>> = [];
  try {
    const floatingNetworkId = endpointFeatures.floatingNetworkId ?? networkFeatures.floatingNetworkId;
    if (floatingNetworkId !== undefined) {
      const floatingIpId = await createFloatingIp(ctx, updated, floatingNetworkId);
      tags.push(`${FLOATING_IP_TAG}${floatingIpId}`);
      undoSteps.push(() => ctx.neutron.floatingIps.delete(floatingIpId, { ignoreNotFound: true }));
    }
    const firewallGroupId = endpointFeatures.firewallGroupId ?? networkFeatures.firewallGroupId;
    if (firewallGroupId !== undefined) {
      await changeFirewallGroupPorts(ctx, firewallGroupId, (ports) => [...ports.filter((id) => id !== port.id), port.id]);
      tags.push(`${FIREWALL_GROUP_TAG}${firewallGroupId}`);
      undoSteps.push(() => removeFromFirewallGroup(ctx, firewallGroupId, port.id));
    }
  } catch (error) {
    await undoAll(ctx, port.id, undoSteps, error);
    throw error;
  }
  ctx.logger.info({ portId: port.id, update: Object.keys(update), tags }, 'endpoint features applied');
  return { port: updated, tags, undo: (cause) => undoAll(ctx, port.id, undoSteps, cause) };
}

function hasPortFeatures(features: ResolvedFeatures): boolean {
  return features.securityGroupIds.length > 0 || features.allowedAddresses.length > 0;
}

/**
 * Computes the port attributes to change. Groups are applied in two layers:
 * the network's groups on the port's current ones (usually the project
 * default), then the endpoint's on that result, each adding or replacing.
 * Port security and QoS of the network are already inherited by the port.
 */
export function portUpdate(port: Port, network: ResolvedFeatures, endpoint: ResolvedFeatures): PortUpdate {
  const update: PortUpdate = {};
  const portSecurity = endpoint.portSecurity ?? port.port_security_enabled ?? true;
  if (endpoint.portSecurity !== undefined && endpoint.portSecurity !== port.port_security_enabled) update.port_security_enabled = endpoint.portSecurity;

  // The network's groups and pairs give way to an endpoint that turns port security off.
  if (!portSecurity && (endpoint.securityGroupIds.length > 0 || endpoint.allowedAddresses.length > 0)) {
    throw new KuryrError(
      'INVALID_OPTION',
      `port "${port.id}" has port security disabled, which rules out ${SECURITY_GROUPS_OPTION} and ${ALLOWED_ADDRESS_PAIRS_OPTION}: ` +
        `add --driver-opt ${PORT_SECURITY_OPTION}=true, or drop those options`,
    );
  }

  const groups = portSecurity ? layerGroups(layerGroups(port.security_groups, network), endpoint) : [];
  if (!sameMembers(groups, port.security_groups)) update.security_groups = groups;

  const known = new Set(port.allowed_address_pairs.map((pair) => pair.ip_address));
  const added = [...new Set([...network.allowedAddresses, ...endpoint.allowedAddresses])].filter((address) => !known.has(address));
  if (!portSecurity) {
    if (port.allowed_address_pairs.length > 0) update.allowed_address_pairs = [];
  } else if (added.length > 0) {
    update.allowed_address_pairs = [...port.allowed_address_pairs.map((pair) => ({ ip_address: pair.ip_address, ...(pair.mac_address === undefined ? {} : { mac_address: pair.mac_address }) })), ...added.map((address) => ({ ip_address: address }))];
  }

  if (endpoint.qosPolicyId !== undefined && endpoint.qosPolicyId !== port.qos_policy_id) update.qos_policy_id = endpoint.qosPolicyId;
  return update;
}

function layerGroups(current: readonly string[], features: ResolvedFeatures): string[] {
  if (features.securityGroupIds.length === 0) return [...current];
  if (features.securityGroupMode === 'replace') return [...features.securityGroupIds];
  return [...new Set([...current, ...features.securityGroupIds])];
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item));
}

/** Allocates a floating IP on the external network for the port's IPv4 address; returns its id. */
async function createFloatingIp(ctx: ServiceContext, port: Port, floatingNetworkId: string): Promise<string> {
  const fixedIp = port.fixed_ips.find((candidate) => ipVersionOf(candidate.ip_address) === 4);
  if (fixedIp === undefined) {
    throw new KuryrError('INVALID_OPTION', `${FLOATING_IP_NETWORK_OPTION} needs an IPv4 address, and port "${port.id}" has none: give the network an IPv4 subnet`);
  }
  try {
    const floatingIp = await ctx.neutron.floatingIps.create({
      floating_network_id: floatingNetworkId,
      port_id: port.id,
      fixed_ip_address: fixedIp.ip_address,
      description: `kuryr-ts floating IP of port ${port.id}`,
    });
    ctx.logger.info({ portId: port.id, floatingIpId: floatingIp.id, floatingIp: floatingIp.floating_ip_address }, 'floating IP associated');
    return floatingIp.id;
  } catch (error) {
    if (error instanceof OpenStackHttpError && error.faultType === 'ExternalGatewayForFloatingIPNotFound') {
      throw new KuryrError(
        'CONFLICT',
        `no router connects subnet "${fixedIp.subnet_id}" to external network "${floatingNetworkId}", so no floating IP can reach ${fixedIp.ip_address}: ` +
          'create the Docker network with -o neutron.router=<a router whose gateway is on that network>',
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * Sets a firewall group's port list to `change(current list)`. FWaaS v2 has
 * no call that adds one port, so the list is read and written back, under a
 * lock per group so this daemon's concurrent endpoints do not lose each other's ports.
 */
async function changeFirewallGroupPorts(ctx: ServiceContext, firewallGroupId: string, change: (ports: string[]) => string[]): Promise<void> {
  // NOTE: another client writing the same group between the read and the write can still lose an update.
  await ctx.locks.run(`firewall-group:${firewallGroupId}`, async () => {
    const group = await ctx.neutron.firewallGroups.get(firewallGroupId);
    const ports = change(group.ports);
    if (sameMembers(ports, group.ports)) return;
    await ctx.neutron.firewallGroups.update(firewallGroupId, { ports });
  });
}

async function removeFromFirewallGroup(ctx: ServiceContext, firewallGroupId: string, portId: string): Promise<void> {
  try {
    await changeFirewallGroupPorts(ctx, firewallGroupId, (ports) => ports.filter((id) => id !== portId));
  } catch (error) {
    // A group the operator deleted no longer contains the port.
    if (isHttpStatus(error, 404)) return;
    throw error;
  }
}

async function undoAll(ctx: ServiceContext, portId: string, steps: Array<() => Promise<void>>, cause: unknown): Promise<void> {
  for (const step of steps.reverse()) {
    try {
      await step();
    } catch (error) {
      ctx.logger.error({ err: error, cause, portId }, 'rollback failed: a floating IP or firewall group membership of the endpoint is left in Neutron');
    }
  }
}

/**
 * Deletes the endpoint's floating IP and takes its port out of the firewall
 * group, as recorded in the port's tags. Port attributes need no undo, because
 * the port is deleted with the endpoint's address.
 * NOTE: an operator's port adopted for `--ip` is handed back with the groups, pairs and QoS policy set here.
 */
export async function releaseEndpointFeatures(ctx: ServiceContext, port: Port): Promise<void> {
  for (const tag of port.tags ?? []) {
    if (tag.startsWith(FLOATING_IP_TAG)) {
      const floatingIpId = tag.slice(FLOATING_IP_TAG.length);
      // Already gone counts as success: a repeated DeleteEndpoint.
      await ctx.neutron.floatingIps.delete(floatingIpId, { ignoreNotFound: true });
      ctx.logger.info({ portId: port.id, floatingIpId }, 'floating IP released');
    } else if (tag.startsWith(FIREWALL_GROUP_TAG)) {
      const firewallGroupId = tag.slice(FIREWALL_GROUP_TAG.length);
      await removeFromFirewallGroup(ctx, firewallGroupId, port.id);
      ctx.logger.info({ portId: port.id, firewallGroupId }, 'port removed from firewall group');
    }
  }
}
