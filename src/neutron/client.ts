/**
 * The typed Neutron v2.0 client: one `ResourceApi` per resource, plus tags and
 * extensions.
 */
import { z } from 'zod';
import { KuryrError } from '../errors.js';
import { NeutronApi } from './api.js';
import type { NeutronApiOptions } from './api.js';
import type {
  AgentFilters,
  NetworkFilters,
  PortFilters,
  SecurityGroupFilters,
  SecurityGroupRuleFilters,
  SubnetFilters,
  SubnetPoolFilters,
} from './filters.js';
import type {
  NetworkCreate,
  NetworkUpdate,
  PortCreate,
  PortUpdate,
  SecurityGroupCreate,
  SecurityGroupRuleCreate,
  SubnetCreate,
  SubnetPoolCreate,
  SubnetPoolUpdate,
  SubnetUpdate,
} from './requests.js';
import { DEFAULT_MAX_PAGES, ResourceApi, isNeutronNotFound } from './resource-api.js';
import type { DeleteOptions } from './resource-api.js';
import {
  agentObject,
  extensionObject,
  networkObject,
  portObject,
  securityGroupObject,
  securityGroupRuleObject,
  subnetObject,
  subnetPoolObject,
} from './resources.js';
import type { Agent, Extension, Network, Port, SecurityGroup, SecurityGroupRule, Subnet, SubnetPool } from './resources.js';
import { TrunkApi } from './trunks.js';
import { firewallGroupApi, floatingIpApi, qosPolicyApi, QuotaApi, RouterApi } from './features.js';
import type { FirewallGroupApi, FloatingIpApi, QosPolicyApi } from './features.js';

/** Resources whose tags kuryr sets (URL segments). */
export type TaggableResource = 'networks' | 'subnets' | 'subnetpools' | 'ports' | 'security-groups';

export interface NeutronClientOptions extends NeutronApiOptions {
  /** Maximum number of pages one `list` follows. The default is 100. */
  maxPages?: number;
}

export type SecurityGroupApi = Pick<ResourceApi<SecurityGroup, SecurityGroupFilters, SecurityGroupCreate, never>, 'list' | 'get' | 'create' | 'delete'>;
export type SecurityGroupRuleApi = Pick<
  ResourceApi<SecurityGroupRule, SecurityGroupRuleFilters, SecurityGroupRuleCreate, never>,
  'list' | 'get' | 'create' | 'delete'
>;
export type AgentApi = Pick<ResourceApi<Agent, AgentFilters, never, never>, 'list'>;

const TAG_LABELS: Record<TaggableResource, string> = {
  networks: 'network',
  subnets: 'subnet',
  subnetpools: 'subnet pool',
  ports: 'port',
  'security-groups': 'security group',
};

const tagsReplySchema = z.looseObject({ tags: z.array(z.string()) });
const extensionsReplySchema = z.looseObject({ extensions: z.array(extensionObject.loose()) });

export class NeutronClient {
  readonly networks: ResourceApi<Network, NetworkFilters, NetworkCreate, NetworkUpdate>;
  readonly subnets: ResourceApi<Subnet, SubnetFilters, SubnetCreate, SubnetUpdate>;
  readonly subnetpools: ResourceApi<SubnetPool, SubnetPoolFilters, SubnetPoolCreate, SubnetPoolUpdate>;
  readonly ports: ResourceApi<Port, PortFilters, PortCreate, PortUpdate>;
  readonly securityGroups: SecurityGroupApi;
  readonly securityGroupRules: SecurityGroupRuleApi;
  readonly agents: AgentApi;
  readonly trunks: TrunkApi;
  readonly qosPolicies: QosPolicyApi;
  readonly routers: RouterApi;
  readonly floatingIps: FloatingIpApi;
  readonly firewallGroups: FirewallGroupApi;
  readonly quotas: QuotaApi;
  readonly extensions: { list(): Promise<Extension[]> };
  readonly #api: NeutronApi;
  #extensionAliases: Promise<ReadonlySet<string>> | undefined;

  constructor(options: NeutronClientOptions) {
    const api = new NeutronApi(options);
    const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
    this.#api = api;
    this.networks = new ResourceApi(api, { path: 'networks', collectionKey: 'networks', memberKey: 'network', label: 'network', object: networkObject }, maxPages);
    this.subnets = new ResourceApi(api, { path: 'subnets', collectionKey: 'subnets', memberKey: 'subnet', label: 'subnet', object: subnetObject }, maxPages);
    this.subnetpools = new ResourceApi(
      api,
      { path: 'subnetpools', collectionKey: 'subnetpools', memberKey: 'subnetpool', label: 'subnet pool', object: subnetPoolObject },
      maxPages,
    );
    this.ports = new ResourceApi(api, { path: 'ports', collectionKey: 'ports', memberKey: 'port', label: 'port', object: portObject }, maxPages);
    this.securityGroups = new ResourceApi(
      api,
      { path: 'security-groups', collectionKey: 'security_groups', memberKey: 'security_group', label: 'security group', object: securityGroupObject },
      maxPages,
    );
    this.securityGroupRules = new ResourceApi(
      api,
      {
        path: 'security-group-rules',
        collectionKey: 'security_group_rules',
        memberKey: 'security_group_rule',
        label: 'security group rule',
        object: securityGroupRuleObject,
      },
      maxPages,
    );
    this.agents = new ResourceApi(api, { path: 'agents', collectionKey: 'agents', memberKey: 'agent', label: 'agent', object: agentObject }, maxPages);
    this.trunks = new TrunkApi(api, maxPages);
    this.qosPolicies = qosPolicyApi(api, maxPages);
    this.routers = new RouterApi(api, maxPages);
    this.floatingIps = floatingIpApi(api, maxPages);
    this.firewallGroups = firewallGroupApi(api, maxPages);
    this.quotas = new QuotaApi(api);
    this.extensions = { list: () => this.#listExtensions() };
  }

  /** Replaces all tags of a resource in one request and returns the tags Neutron stored. */
  async replaceTags(resource: TaggableResource, id: string, tags: readonly string[]): Promise<string[]> {
    const call = {
      method: 'PUT' as const,
      path: tagsPath(resource, id),
      body: { tags },
      operation: `replace tags of ${TAG_LABELS[resource]} "${id}"`,
    };
    const reply = await this.#api.parse(tagsReplySchema, await this.#api.call(call), call);
    return reply.tags;
  }

  /** Adds one tag. Adding a tag the resource already has succeeds. Throws INVALID_REQUEST for a tag with `/`. */
  async addTag(resource: TaggableResource, id: string, tag: string): Promise<void> {
    const operation = `add tag "${tag}" to ${TAG_LABELS[resource]} "${id}"`;
    await this.#api.call({ method: 'PUT', path: tagPath(resource, id, tag, operation), operation });
  }

  /** Removes one tag. Throws INVALID_REQUEST for a tag with `/`. */
  async removeTag(resource: TaggableResource, id: string, tag: string, options: DeleteOptions = {}): Promise<void> {
    const operation = `remove tag "${tag}" from ${TAG_LABELS[resource]} "${id}"`;
    try {
      await this.#api.call({ method: 'DELETE', path: tagPath(resource, id, tag, operation), operation });
    } catch (error) {
      // A tag (TagNotFound) or resource that is already gone leaves the state
      // the caller wants, as with deletes.
      if (options.ignoreNotFound === true && isNeutronNotFound(error)) return;
      throw error;
    }
  }

  /**
   * Tells whether Neutron has the API extension with this alias, for example
   * `revision-if-match`. The extension list is fetched once and cached. A
   * failed fetch is not cached, so the next call tries again.
   */
  async hasExtension(alias: string): Promise<boolean> {
    this.#extensionAliases ??= this.#listExtensions().then((extensions) => new Set(extensions.map((extension) => extension.alias)));
    try {
      return (await this.#extensionAliases).has(alias);
    } catch (error) {
      this.#extensionAliases = undefined;
      throw error;
    }
  }

  async #listExtensions(): Promise<Extension[]> {
    const call = { method: 'GET' as const, path: '/extensions', operation: 'list extensions' };
    const reply = await this.#api.parse(extensionsReplySchema, await this.#api.call(call), call);
    return reply.extensions;
  }
}

function tagsPath(resource: TaggableResource, id: string): string {
  return `/${resource}/${encodeURIComponent(id)}/tags`;
}

/**
 * Returns the URL path of one tag. Neutron 21 decodes `%2F` before routing, so
 * a tag with `/` never reaches the tag API (it gets a 404 HTTPNotFound). Such a
 * tag can only be set or removed through `replaceTags`.
 */
function tagPath(resource: TaggableResource, id: string, tag: string, operation: string): string {
  if (tag.includes('/')) {
    throw new KuryrError('INVALID_REQUEST', `${operation} failed: a tag with "/" cannot be addressed in a URL, so use replaceTags`);
  }
  return `${tagsPath(resource, id)}/${encodeURIComponent(tag)}`;
}
