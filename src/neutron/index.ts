/**
 * Keystone authentication and the typed Neutron client.
 */
export { NodeHttpTransport } from './transport.js';
export { tlsAgentOptions, type TlsOptions } from './tls.js';
export type { HttpMethod, HttpRequest, HttpResponse, HttpTransport, ServiceName } from './transport.js';
export { KeystoneSession, normaliseAuthUrl } from './keystone.js';
export type {
  ApplicationCredentials,
  DomainRef,
  KeystoneCredentials,
  KeystoneOptions,
  PasswordCredentials,
  ProjectRef,
  TokenCredentials,
  TokenSource,
  UserRef,
} from './keystone.js';
export { findEndpoint } from './catalog.js';
export type { EndpointInterface, EndpointQuery, ServiceCatalog } from './catalog.js';
export { NeutronClient } from './client.js';
export { TrunkApi } from './trunks.js';
export { QuotaApi, RouterApi } from './features.js';
export type {
  FirewallGroup,
  FirewallGroupApi,
  FirewallGroupUpdate,
  FloatingIp,
  FloatingIpApi,
  FloatingIpCreate,
  FloatingIpFilters,
  QosPolicy,
  QosPolicyApi,
  QuotaDetail,
  Router,
  RouterInterface,
} from './features.js';
export type { Subport, SubportAdd, Trunk, TrunkCreate, TrunkFilters } from './trunks.js';
export type { AgentApi, NeutronClientOptions, SecurityGroupApi, SecurityGroupRuleApi, TaggableResource } from './client.js';
export { DEFAULT_RETRY, backoffDelay } from './api.js';
export type { CallInfo, NeutronEndpoint, RetryOptions } from './api.js';
export { ResourceApi, isNeutronNotFound } from './resource-api.js';
export type { DeleteOptions, ListControls, UpdateOptions } from './resource-api.js';
export type {
  AgentFilters,
  CommonFilters,
  FixedIpFilter,
  NetworkFilters,
  PortFilters,
  SecurityGroupFilters,
  SecurityGroupRuleFilters,
  SubnetFilters,
  SubnetPoolFilters,
  TagFilters,
} from './filters.js';
export type { Agent, Extension, Network, Port, SecurityGroup, SecurityGroupRule, Subnet, SubnetPool } from './resources.js';
export type {
  AddressPair,
  AllocationPool,
  FixedIpRequest,
  HostRoute,
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
