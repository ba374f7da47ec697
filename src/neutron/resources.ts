/**
 * Schemas of the Neutron resources that kuryr reads. Each schema types only the
 * attributes kuryr uses. The client parses replies with the loose form of these
 * objects, so the other attributes stay on the parsed object and nothing the
 * server sent is lost, but the TypeScript types do not expose them.
 *
 * Attributes that Neutron leaves out depending on extensions or policy are
 * optional: the `binding:*` attributes are visible to admins only, and
 * `tags` and `allowed_address_pairs` appear only with their extensions, so
 * they default to empty lists.
 */
import { z } from 'zod';

const tags = z.array(z.string()).default([]);

/** Neutron returns subnet pool prefix lengths as numbers or as decimal strings, depending on the version. */
const prefixLength = z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]);

const ipVersion = z.union([z.literal(4), z.literal(6)]);

export const networkObject = z.object({
  id: z.string(),
  name: z.string(),
  status: z.string(),
  admin_state_up: z.boolean(),
  mtu: z.number().int(),
  shared: z.boolean(),
  tags,
  project_id: z.string(),
  subnets: z.array(z.string()),
  description: z.string().optional(),
  revision_number: z.number().int().optional(),
  port_security_enabled: z.boolean().optional(),
  qos_policy_id: z.string().nullish(),
  'router:external': z.boolean().optional(),
  'provider:network_type': z.string().nullish(),
  'provider:physical_network': z.string().nullish(),
  'provider:segmentation_id': z.number().int().nullish(),
});
export type Network = z.infer<typeof networkObject>;

export const subnetObject = z.object({
  id: z.string(),
  name: z.string(),
  network_id: z.string(),
  ip_version: ipVersion,
  cidr: z.string(),
  gateway_ip: z.string().nullable(),
  allocation_pools: z.array(z.looseObject({ start: z.string(), end: z.string() })),
  host_routes: z.array(z.looseObject({ destination: z.string(), nexthop: z.string() })),
  dns_nameservers: z.array(z.string()).default([]),
  subnetpool_id: z.string().nullable(),
  tags,
  enable_dhcp: z.boolean(),
  project_id: z.string(),
  description: z.string().optional(),
  revision_number: z.number().int().optional(),
  ipv6_address_mode: z.string().nullish(),
  ipv6_ra_mode: z.string().nullish(),
});
export type Subnet = z.infer<typeof subnetObject>;

export const subnetPoolObject = z.object({
  id: z.string(),
  name: z.string(),
  prefixes: z.array(z.string()),
  default_prefixlen: prefixLength,
  min_prefixlen: prefixLength.optional(),
  max_prefixlen: prefixLength.optional(),
  shared: z.boolean(),
  tags,
  ip_version: ipVersion,
  description: z.string(),
  project_id: z.string(),
  is_default: z.boolean().optional(),
  address_scope_id: z.string().nullish(),
  revision_number: z.number().int().optional(),
});
export type SubnetPool = z.infer<typeof subnetPoolObject>;

export const portObject = z.object({
  id: z.string(),
  name: z.string(),
  network_id: z.string(),
  mac_address: z.string(),
  fixed_ips: z.array(z.looseObject({ subnet_id: z.string(), ip_address: z.string() })),
  status: z.string(),
  admin_state_up: z.boolean(),
  device_owner: z.string(),
  device_id: z.string(),
  'binding:host_id': z.string().optional(),
  'binding:vif_type': z.string().optional(),
  'binding:vif_details': z.record(z.string(), z.unknown()).optional(),
  'binding:vnic_type': z.string().optional(),
  'binding:profile': z.record(z.string(), z.unknown()).optional(),
  tags,
  security_groups: z.array(z.string()),
  allowed_address_pairs: z.array(z.looseObject({ ip_address: z.string(), mac_address: z.string().optional() })).default([]),
  port_security_enabled: z.boolean().optional(),
  qos_policy_id: z.string().nullish(),
  revision_number: z.number().int(),
  project_id: z.string(),
  description: z.string().optional(),
});
export type Port = z.infer<typeof portObject>;

export const securityGroupRuleObject = z.object({
  id: z.string(),
  security_group_id: z.string(),
  direction: z.string(),
  ethertype: z.string(),
  protocol: z.string().nullable(),
  port_range_min: z.number().int().nullable(),
  port_range_max: z.number().int().nullable(),
  remote_ip_prefix: z.string().nullable(),
  remote_group_id: z.string().nullable(),
  project_id: z.string(),
  /** Null on the egress rules Neutron adds to every new group (seen on Neutron 21). */
  description: z.string().nullish(),
});
export type SecurityGroupRule = z.infer<typeof securityGroupRuleObject>;

export const securityGroupObject = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  project_id: z.string(),
  security_group_rules: z.array(securityGroupRuleObject.loose()).default([]),
  tags,
  stateful: z.boolean().optional(),
});
export type SecurityGroup = z.infer<typeof securityGroupObject>;

export const extensionObject = z.object({
  alias: z.string(),
  name: z.string(),
  description: z.string().optional(),
  updated: z.string().optional(),
});
export type Extension = z.infer<typeof extensionObject>;

export const agentObject = z.object({
  id: z.string(),
  agent_type: z.string(),
  binary: z.string(),
  host: z.string(),
  alive: z.boolean(),
  admin_state_up: z.boolean(),
  availability_zone: z.string().nullish(),
  configurations: z.record(z.string(), z.unknown()).optional(),
});
export type Agent = z.infer<typeof agentObject>;
