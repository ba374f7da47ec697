/**
 * Turns the feature options into Neutron ids: each named resource is looked
 * up once, when the network or endpoint is created, and only ids are kept.
 * A lookup costs a request only for an option that is set.
 */
import { KuryrError } from '../errors.js';
import type { ServiceContext } from './context.js';
import { findExistingNetwork, findOne } from './existing-lookup.js';
import type { ResourceRef } from './existing-options.js';
import { FIREWALL_GROUP_OPTION, FLOATING_IP_NETWORK_OPTION, type FeatureOptions, type OptionSource, type SecurityGroupMode } from './feature-options.js';

/** The feature options with every resource replaced by its id. */
export interface ResolvedFeatures {
  securityGroupIds: string[];
  securityGroupMode: SecurityGroupMode;
  portSecurity: boolean | undefined;
  allowedAddresses: string[];
  qosPolicyId: string | undefined;
  routerId: string | undefined;
  floatingNetworkId: string | undefined;
  firewallGroupId: string | undefined;
}

export const NO_FEATURES: ResolvedFeatures = {
  securityGroupIds: [],
  securityGroupMode: 'add',
  portSecurity: undefined,
  allowedAddresses: [],
  qosPolicyId: undefined,
  routerId: undefined,
  floatingNetworkId: undefined,
  firewallGroupId: undefined,
};

/** The alias of the FWaaS v2 API extension, which neutron-fwaas adds. */
export const FWAAS_EXTENSION = 'fwaas_v2';

export async function resolveFeatures(ctx: ServiceContext, options: FeatureOptions, source: OptionSource): Promise<ResolvedFeatures> {
  const securityGroupIds: string[] = [];
  for (const ref of options.securityGroups) securityGroupIds.push(await findSecurityGroupId(ctx, ref));
  return {
    securityGroupIds: [...new Set(securityGroupIds)],
    securityGroupMode: options.securityGroupMode ?? 'add',
    portSecurity: options.portSecurity,
    allowedAddresses: options.allowedAddresses,
    qosPolicyId: options.qosPolicy === undefined ? undefined : await findQosPolicyId(ctx, options.qosPolicy),
    routerId: options.router === undefined ? undefined : await findRouterId(ctx, options.router),
    floatingNetworkId: options.floatingIpNetwork === undefined ? undefined : await findExternalNetworkId(ctx, options.floatingIpNetwork, source),
    firewallGroupId: options.firewallGroup === undefined ? undefined : await findFirewallGroupId(ctx, options.firewallGroup, source),
  };
}

async function findSecurityGroupId(ctx: ServiceContext, ref: ResourceRef): Promise<string> {
  const group = await findOne('security group', ref, (id) => ctx.neutron.securityGroups.get(id), (name) => ctx.neutron.securityGroups.list({ name }));
  return group.id;
}

async function findQosPolicyId(ctx: ServiceContext, ref: ResourceRef): Promise<string> {
  const policy = await findOne('QoS policy', ref, (id) => ctx.neutron.qosPolicies.get(id), (name) => ctx.neutron.qosPolicies.list({ name }));
  return policy.id;
}

/** Finds the router. One without an external gateway is accepted and logged, because the operator may set the gateway later. */
async function findRouterId(ctx: ServiceContext, ref: ResourceRef): Promise<string> {
  const router = await findOne('router', ref, (id) => ctx.neutron.routers.get(id), (name) => ctx.neutron.routers.list({ name }));
  if (router.external_gateway_info == null) {
    ctx.logger.warn({ routerId: router.id }, 'the router has no external gateway, so containers reach outside only once one is set');
  }
  return router.id;
}

async function findExternalNetworkId(ctx: ServiceContext, ref: ResourceRef, source: OptionSource): Promise<string> {
  const network = await findExistingNetwork(ctx, ref);
  if (network['router:external'] !== true) {
    throw new KuryrError(
      'INVALID_OPTION',
      `invalid ${source} ${FLOATING_IP_NETWORK_OPTION}: Neutron network "${network.id}" is not external (router:external is false), so it has no floating IPs: name an external network`,
    );
  }
  return network.id;
}

async function findFirewallGroupId(ctx: ServiceContext, ref: ResourceRef, source: OptionSource): Promise<string> {
  await requireFwaas(ctx, source);
  const group = await findOne('firewall group', ref, (id) => ctx.neutron.firewallGroups.get(id), (name) => ctx.neutron.firewallGroups.list({ name }));
  return group.id;
}

/** Throws a clear error when Neutron lacks the FWaaS v2 API. The client caches the extension list. */
export async function requireFwaas(ctx: ServiceContext, source: OptionSource): Promise<void> {
  if (await ctx.neutron.hasExtension(FWAAS_EXTENSION)) return;
  throw new KuryrError(
    'INVALID_OPTION',
    `${source} ${FIREWALL_GROUP_OPTION} needs the Neutron FWaaS v2 API (extension "${FWAAS_EXTENSION}"), which this Neutron server does not offer: ` +
      'install neutron-fwaas and enable its firewall_v2 service plugin, or drop the option',
  );
}
