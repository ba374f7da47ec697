/**
 * Network-level features. Port security and the QoS policy are attributes of
 * the Neutron network, which its ports inherit. The other features are
 * recorded as tags on the network, so CreateEndpoint finds them after a
 * daemon restart, and SNAT attaches the network's subnets to a router.
 */
import { KuryrError } from '../errors.js';
import type { NetworkCreate, Subnet } from '../neutron/index.js';
import type { ServiceContext } from './context.js';
import { NO_FEATURES, type ResolvedFeatures } from './feature-lookup.js';
import { FLOATING_IP_NETWORK_OPTION, hasFeatures, ROUTER_OPTION, type FeatureOptions } from './feature-options.js';

const SECURITY_GROUP_TAG = 'kuryr.sg:';
const REPLACE_GROUPS_TAG = 'kuryr.sg.mode:replace';
const ADDRESS_PAIR_TAG = 'kuryr.aap:';
/** On the network: the router of `neutron.router`. On a subnet: the router kuryr attached it to. */
export const ROUTER_TAG = 'kuryr.router:';
const FLOATING_NETWORK_TAG = 'kuryr.fip.net:';
const FIREWALL_GROUP_TAG = 'kuryr.fwg:';

/** Rejects feature options that cannot work with the network's other flags, before any Neutron request. */
export function checkNetworkFeatures(options: FeatureOptions, internal: boolean, adopting: boolean): void {
  if (adopting && hasFeatures(options)) {
    // NOTE: the features would change an operator's network, so there they are offered per endpoint only (--driver-opt).
    throw new KuryrError(
      'INVALID_OPTION',
      '-o neutron.* feature options cannot be combined with neutron.net.* or neutron.subnet.*: pass them per endpoint with docker network connect --driver-opt',
    );
  }
  if (!internal) return;
  if (options.router !== undefined) {
    throw new KuryrError('INVALID_OPTION', `-o ${ROUTER_OPTION} conflicts with --internal: an internal network has no way out, so drop one of them`);
  }
  if (options.floatingIpNetwork !== undefined) {
    throw new KuryrError('INVALID_OPTION', `-o ${FLOATING_IP_NETWORK_OPTION} conflicts with --internal: an internal network has no way out, so drop one of them`);
  }
}

/** Returns the attributes of the network create body that carry features. */
export function networkFeatureAttributes(features: ResolvedFeatures): Pick<NetworkCreate, 'port_security_enabled' | 'qos_policy_id'> {
  return {
    ...(features.portSecurity === undefined ? {} : { port_security_enabled: features.portSecurity }),
    ...(features.qosPolicyId === undefined ? {} : { qos_policy_id: features.qosPolicyId }),
  };
}

/** Tags recording the features the network's attributes cannot hold. Each is at most 53 characters, below Neutron's 60. */
export function featureTags(features: ResolvedFeatures): string[] {
  return [
    ...features.securityGroupIds.map((id) => `${SECURITY_GROUP_TAG}${id}`),
    ...(features.securityGroupMode === 'replace' ? [REPLACE_GROUPS_TAG] : []),
    ...features.allowedAddresses.map((address) => `${ADDRESS_PAIR_TAG}${address}`),
    ...(features.routerId === undefined ? [] : [`${ROUTER_TAG}${features.routerId}`]),
    ...(features.floatingNetworkId === undefined ? [] : [`${FLOATING_NETWORK_TAG}${features.floatingNetworkId}`]),
    ...(features.firewallGroupId === undefined ? [] : [`${FIREWALL_GROUP_TAG}${features.firewallGroupId}`]),
  ];
}

/**
 * Reads the features back from the network's tags. Port security and the QoS
 * policy stay undefined because the ports inherit them from the network.
 */
export function featuresFromTags(tags: readonly string[]): ResolvedFeatures {
  const valuesOf = (prefix: string): string[] => tags.filter((tag) => tag.startsWith(prefix)).map((tag) => tag.slice(prefix.length));
  return {
    ...NO_FEATURES,
    securityGroupIds: valuesOf(SECURITY_GROUP_TAG),
    securityGroupMode: tags.includes(REPLACE_GROUPS_TAG) ? 'replace' : 'add',
    allowedAddresses: valuesOf(ADDRESS_PAIR_TAG),
    routerId: valuesOf(ROUTER_TAG)[0],
    floatingNetworkId: valuesOf(FLOATING_NETWORK_TAG)[0],
    firewallGroupId: valuesOf(FIREWALL_GROUP_TAG)[0],
  };
}

/**
 * Adds a router interface on each subnet and tags the subnet with the router,
 * so ReleasePool and DeleteNetwork remove exactly that interface. On failure
 * the interfaces added so far are removed again.
 */
export async function attachSubnetsToRouter(ctx: ServiceContext, routerId: string, subnets: Subnet[]): Promise<void> {
  const attached: Subnet[] = [];
  try {
    for (const subnet of subnets) {
      await ctx.neutron.routers.addInterface(routerId, subnet.id);
      attached.push(subnet);
      subnet.tags = await ctx.neutron.replaceTags('subnets', subnet.id, [...(subnet.tags ?? []), `${ROUTER_TAG}${routerId}`]);
    }
  } catch (error) {
    for (const subnet of attached) await detachAfterFailure(ctx, routerId, subnet.id, error);
    throw error;
  }
  ctx.logger.info({ routerId, subnetIds: subnets.map((subnet) => subnet.id) }, 'subnets attached to router');
}

async function detachAfterFailure(ctx: ServiceContext, routerId: string, subnetId: string, cause: unknown): Promise<void> {
  try {
    await ctx.neutron.routers.removeInterface(routerId, subnetId, { ignoreNotFound: true });
  } catch (error) {
    ctx.logger.error({ err: error, cause, routerId, subnetId }, 'rollback failed: the router interface is left on the subnet');
  }
}

/**
 * Removes the router interface kuryr added on the subnet, found by the
 * subnet's tag. Neutron refuses to delete a subnet that still has one. The
 * router itself is the operator's and stays.
 */
export async function detachSubnetFromRouter(ctx: ServiceContext, subnet: Subnet): Promise<void> {
  const routerId = (subnet.tags ?? []).find((tag) => tag.startsWith(ROUTER_TAG))?.slice(ROUTER_TAG.length);
  if (routerId === undefined) return;
  await ctx.neutron.routers.removeInterface(routerId, subnet.id, { ignoreNotFound: true });
  ctx.logger.info({ routerId, subnetId: subnet.id }, 'subnet detached from router');
}
