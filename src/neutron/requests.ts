/**
 * Bodies of create and update requests, with the Neutron attribute names.
 *
 * No create body has `tags`: Neutron 21 (Zed) rejects them in a POST
 * ("Attribute 'tags' not allowed in POST"), so tags are set afterwards with
 * `replaceTags`.
 */

export interface NetworkCreate {
  name?: string;
  description?: string;
  admin_state_up?: boolean;
  shared?: boolean;
  mtu?: number;
  project_id?: string;
  port_security_enabled?: boolean;
  /** The QoS policy that every port of the network without its own policy follows. */
  qos_policy_id?: string;
  'router:external'?: boolean;
  'provider:network_type'?: string;
  'provider:physical_network'?: string;
  'provider:segmentation_id'?: number;
}

export type NetworkUpdate = Pick<
  NetworkCreate,
  'name' | 'description' | 'admin_state_up' | 'shared' | 'mtu' | 'port_security_enabled'
>;

export interface AllocationPool {
  start: string;
  end: string;
}

export interface HostRoute {
  destination: string;
  nexthop: string;
}

export interface SubnetCreate {
  network_id: string;
  ip_version: 4 | 6;
  /** Leave out to take a prefix from `subnetpool_id`. */
  cidr?: string;
  name?: string;
  description?: string;
  /** `null` creates a subnet without a gateway. */
  gateway_ip?: string | null;
  allocation_pools?: AllocationPool[];
  host_routes?: HostRoute[];
  dns_nameservers?: string[];
  enable_dhcp?: boolean;
  subnetpool_id?: string;
  prefixlen?: number;
  project_id?: string;
  ipv6_address_mode?: string;
  ipv6_ra_mode?: string;
}

export type SubnetUpdate = Pick<
  SubnetCreate,
  'name' | 'description' | 'gateway_ip' | 'allocation_pools' | 'host_routes' | 'dns_nameservers' | 'enable_dhcp'
>;

export interface SubnetPoolCreate {
  name: string;
  prefixes: string[];
  default_prefixlen?: number;
  min_prefixlen?: number;
  max_prefixlen?: number;
  shared?: boolean;
  is_default?: boolean;
  description?: string;
  project_id?: string;
  address_scope_id?: string;
}

export type SubnetPoolUpdate = Partial<Omit<SubnetPoolCreate, 'shared' | 'project_id'>>;

export interface FixedIpRequest {
  subnet_id?: string;
  ip_address?: string;
}

export interface AddressPair {
  ip_address: string;
  mac_address?: string;
}

export interface PortCreate {
  network_id: string;
  name?: string;
  description?: string;
  fixed_ips?: FixedIpRequest[];
  mac_address?: string;
  admin_state_up?: boolean;
  device_owner?: string;
  device_id?: string;
  project_id?: string;
  security_groups?: string[];
  port_security_enabled?: boolean;
  allowed_address_pairs?: AddressPair[];
  /** `null` removes the port's own policy, so the network's applies again. */
  qos_policy_id?: string | null;
  'binding:host_id'?: string;
  'binding:vnic_type'?: string;
  'binding:profile'?: Record<string, unknown>;
}

export type PortUpdate = Partial<Omit<PortCreate, 'network_id' | 'project_id'>>;

export interface SecurityGroupCreate {
  name: string;
  description?: string;
  project_id?: string;
  stateful?: boolean;
}

export interface SecurityGroupRuleCreate {
  security_group_id: string;
  direction: 'ingress' | 'egress';
  ethertype?: 'IPv4' | 'IPv6';
  /** A protocol name such as `tcp`, or its number as a string. */
  protocol?: string;
  port_range_min?: number;
  port_range_max?: number;
  remote_ip_prefix?: string;
  remote_group_id?: string;
  description?: string;
  project_id?: string;
}
