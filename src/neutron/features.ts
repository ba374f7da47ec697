/**
 * Neutron resources behind kuryr's network features: QoS policies, routers and
 * their interfaces, floating IPs, FWaaS v2 firewall groups and quotas. Each
 * lives in its own API extension (`qos`, `router`, `fwaas_v2`, `quotas`), so
 * a server without the extension returns 404 HTTPNotFound for these paths.
 */
import { z } from 'zod';
import { OpenStackHttpError } from '../errors.js';
import { isNeutronNotFound, ResourceApi } from './resource-api.js';
import type { DeleteOptions } from './resource-api.js';
import type { NeutronApi } from './api.js';
import type { CommonFilters } from './filters.js';

const tags = z.array(z.string()).default([]);

export const qosPolicyObject = z.object({
  id: z.string(),
  name: z.string(),
  project_id: z.string(),
  shared: z.boolean().optional(),
});
export type QosPolicy = z.infer<typeof qosPolicyObject>;

export const routerObject = z.object({
  id: z.string(),
  name: z.string(),
  project_id: z.string(),
  status: z.string().optional(),
  /** Null while the router has no gateway on an external network. */
  external_gateway_info: z.looseObject({ network_id: z.string(), enable_snat: z.boolean().optional() }).nullish(),
});
export type Router = z.infer<typeof routerObject>;

/** The reply of `add_router_interface`, which Neutron sends without a wrapper key. */
export const routerInterfaceObject = z.object({
  id: z.string(),
  subnet_id: z.string(),
  port_id: z.string(),
});
export type RouterInterface = z.infer<typeof routerInterfaceObject>;

export const floatingIpObject = z.object({
  id: z.string(),
  floating_ip_address: z.string(),
  floating_network_id: z.string(),
  port_id: z.string().nullable(),
  fixed_ip_address: z.string().nullable(),
  router_id: z.string().nullish(),
  status: z.string(),
  project_id: z.string(),
  tags,
});
export type FloatingIp = z.infer<typeof floatingIpObject>;

export interface FloatingIpCreate {
  floating_network_id: string;
  port_id?: string;
  /** The port's address to map. Neutron requires it when the port has more than one IPv4 address. */
  fixed_ip_address?: string;
  description?: string;
  project_id?: string;
}

export interface FloatingIpFilters extends CommonFilters {
  port_id?: string;
  floating_network_id?: string;
}

export const firewallGroupObject = z.object({
  id: z.string(),
  name: z.string(),
  project_id: z.string(),
  ports: z.array(z.string()).default([]),
  status: z.string().optional(),
});
export type FirewallGroup = z.infer<typeof firewallGroupObject>;

export interface FirewallGroupUpdate {
  ports: string[];
}

/** One resource's line of `GET /quotas/<project>/details.json`. */
export const quotaDetailObject = z.looseObject({ limit: z.number().int(), used: z.number().int(), reserved: z.number().int().optional() });
export type QuotaDetail = z.infer<typeof quotaDetailObject>;

const quotaDetailsReply = z.looseObject({ quota: z.record(z.string(), quotaDetailObject) });
const callerProjectReply = z.looseObject({ project: z.looseObject({ project_id: z.string() }) });

export type QosPolicyApi = Pick<ResourceApi<QosPolicy, CommonFilters, never, never>, 'list' | 'get'>;
export type FloatingIpApi = Pick<ResourceApi<FloatingIp, FloatingIpFilters, FloatingIpCreate, never>, 'list' | 'get' | 'create' | 'delete'>;
export type FirewallGroupApi = Pick<ResourceApi<FirewallGroup, CommonFilters, never, FirewallGroupUpdate>, 'list' | 'get' | 'update'>;

export function qosPolicyApi(api: NeutronApi, maxPages: number): QosPolicyApi {
  return new ResourceApi(api, { path: 'qos/policies', collectionKey: 'policies', memberKey: 'policy', label: 'QoS policy', object: qosPolicyObject }, maxPages);
}

export function floatingIpApi(api: NeutronApi, maxPages: number): FloatingIpApi {
  return new ResourceApi(
    api,
    { path: 'floatingips', collectionKey: 'floatingips', memberKey: 'floatingip', label: 'floating IP', object: floatingIpObject },
    maxPages,
  );
}

export function firewallGroupApi(api: NeutronApi, maxPages: number): FirewallGroupApi {
  return new ResourceApi(
    api,
    { path: 'fwaas/firewall_groups', collectionKey: 'firewall_groups', memberKey: 'firewall_group', label: 'firewall group', object: firewallGroupObject },
    maxPages,
  );
}

export class RouterApi {
  readonly #api: NeutronApi;
  readonly #resources: ResourceApi<Router, CommonFilters, never, never>;

  constructor(api: NeutronApi, maxPages: number) {
    this.#api = api;
    this.#resources = new ResourceApi(api, { path: 'routers', collectionKey: 'routers', memberKey: 'router', label: 'router', object: routerObject }, maxPages);
  }

  list(filters: CommonFilters = {}): Promise<Router[]> {
    return this.#resources.list(filters);
  }

  get(id: string): Promise<Router> {
    return this.#resources.get(id);
  }

  /** Adds a router interface on the subnet's gateway IP. Neutron rejects a subnet without a gateway (400). */
  async addInterface(routerId: string, subnetId: string): Promise<RouterInterface> {
    const call = {
      method: 'PUT' as const,
      path: `/routers/${encodeURIComponent(routerId)}/add_router_interface`,
      body: { subnet_id: subnetId },
      operation: `add subnet "${subnetId}" to router "${routerId}"`,
    };
    return this.#api.parse(routerInterfaceObject.loose(), await this.#api.call(call), call);
  }

  /** Removes the router's interface on the subnet. With `ignoreNotFound`, a missing interface or router counts as success. */
  async removeInterface(routerId: string, subnetId: string, options: DeleteOptions = {}): Promise<void> {
    const call = {
      method: 'PUT' as const,
      path: `/routers/${encodeURIComponent(routerId)}/remove_router_interface`,
      body: { subnet_id: subnetId },
      operation: `remove subnet "${subnetId}" from router "${routerId}"`,
    };
    try {
      await this.#api.call(call);
    } catch (error) {
      // RouterInterfaceNotFoundForSubnet or RouterNotFound: the interface is gone, which is what the caller wants.
      if (options.ignoreNotFound === true && (isNeutronNotFound(error) || isFaultType(error, 'RouterInterfaceNotFoundForSubnet'))) return;
      throw error;
    }
  }
}

export class QuotaApi {
  readonly #api: NeutronApi;

  constructor(api: NeutronApi) {
    this.#api = api;
  }

  /** Returns the id of the project the client's token is scoped to. */
  async callerProjectId(): Promise<string> {
    const call = { method: 'GET' as const, path: '/quotas/project', operation: 'get the project of the token' };
    return (await this.#api.parse(callerProjectReply, await this.#api.call(call), call)).project.project_id;
  }

  /** Returns limit and usage per resource (the `quota_details` extension). */
  async details(projectId: string): Promise<Record<string, QuotaDetail>> {
    const call = {
      method: 'GET' as const,
      path: `/quotas/${encodeURIComponent(projectId)}/details.json`,
      operation: `get the quota details of project "${projectId}"`,
    };
    return (await this.#api.parse(quotaDetailsReply, await this.#api.call(call), call)).quota;
  }
}

function isFaultType(error: unknown, faultType: string): boolean {
  return error instanceof OpenStackHttpError && error.faultType === faultType;
}
