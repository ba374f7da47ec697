/**
 * List filters per resource and their encoding into a Neutron query string.
 *
 * A list value becomes one parameter per element (`id=a&id=b`), which Neutron
 * reads as "any of". The tag filters are the exception: Neutron takes one
 * comma-separated value (`tags=a,b` means all of a and b).
 */
import { KuryrError } from '../errors.js';

type OneOrMany<T> = T | readonly T[];

export interface TagFilters {
  /** Resources that have all of these tags. */
  tags?: readonly string[];
  /** Resources that have at least one of these tags. */
  'tags-any'?: readonly string[];
  /** Resources that lack at least one of these tags. */
  'not-tags'?: readonly string[];
  /** Resources that have none of these tags. */
  'not-tags-any'?: readonly string[];
}

export interface CommonFilters extends TagFilters {
  id?: OneOrMany<string>;
  name?: OneOrMany<string>;
  project_id?: OneOrMany<string>;
  description?: string;
}

export interface NetworkFilters extends CommonFilters {
  status?: string;
  shared?: boolean;
  admin_state_up?: boolean;
  mtu?: number;
  'router:external'?: boolean;
  'provider:network_type'?: string;
  'provider:physical_network'?: string;
  'provider:segmentation_id'?: number;
}

export interface SubnetFilters extends CommonFilters {
  network_id?: OneOrMany<string>;
  cidr?: OneOrMany<string>;
  ip_version?: 4 | 6;
  subnetpool_id?: OneOrMany<string>;
  gateway_ip?: string;
  enable_dhcp?: boolean;
}

export interface SubnetPoolFilters extends CommonFilters {
  ip_version?: 4 | 6;
  shared?: boolean;
  is_default?: boolean;
  address_scope_id?: string;
}

/** One `fixed_ips` condition. Each set attribute becomes its own `fixed_ips=<attribute>=<value>` parameter. */
export interface FixedIpFilter {
  ip_address?: string;
  subnet_id?: string;
  ip_address_substr?: string;
}

export interface PortFilters extends CommonFilters {
  network_id?: OneOrMany<string>;
  device_id?: OneOrMany<string>;
  device_owner?: OneOrMany<string>;
  mac_address?: OneOrMany<string>;
  status?: string;
  fixed_ips?: readonly FixedIpFilter[];
  security_groups?: OneOrMany<string>;
  'binding:host_id'?: string;
}

export type SecurityGroupFilters = CommonFilters;

export interface SecurityGroupRuleFilters {
  id?: OneOrMany<string>;
  security_group_id?: OneOrMany<string>;
  direction?: 'ingress' | 'egress';
  ethertype?: 'IPv4' | 'IPv6';
  protocol?: string;
  project_id?: string;
}

export interface AgentFilters {
  agent_type?: string;
  host?: string;
  binary?: string;
  alive?: boolean;
  admin_state_up?: boolean;
}

type FilterValue = string | number | boolean | readonly (string | number | boolean)[] | readonly FixedIpFilter[];

/** Any of the filter interfaces above: every attribute is optional and has a type the encoder accepts. */
export type FilterObject<F> = { readonly [K in keyof F]?: FilterValue };

const TAG_FILTERS: ReadonlySet<string> = new Set(['tags', 'tags-any', 'not-tags', 'not-tags-any']);

/**
 * Encodes filters, then each of `fields`, then `limit`, as `key=value` pairs
 * joined by `&`, in the order given. Undefined filters are left out. Throws
 * INVALID_REQUEST for an empty list, which Neutron would treat as no filter
 * at all, and for a tag that contains a comma, which the tag filters cannot express.
 */
export function encodeQuery<F extends FilterObject<F>>(filters: F, fields: readonly string[] = [], limit?: number): string {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(filters) as [string, FilterValue | undefined][]) {
    if (value === undefined) continue;
    for (const encoded of encodeValues(key, value)) pairs.push(`${encodeURIComponent(key)}=${encoded}`);
  }
  for (const field of fields) pairs.push(`fields=${encodeURIComponent(field)}`);
  if (limit !== undefined) pairs.push(`limit=${limit}`);
  return pairs.join('&');
}

/** Returns the encoded value of each parameter that `key` turns into. */
function encodeValues(key: string, value: FilterValue): string[] {
  if (!isList(value)) return [encodeURIComponent(String(value))];
  if (value.length === 0) {
    throw new KuryrError('INVALID_REQUEST', `invalid filter "${key}": an empty list would match every resource, so leave the filter out`);
  }

  if (TAG_FILTERS.has(key)) return [encodeTags(key, value.map(String))];
  return value.flatMap((element) => {
    if (typeof element === 'object') return encodeFixedIp(element);
    return [encodeURIComponent(String(element))];
  });
}

function isList(value: FilterValue): value is readonly (string | number | boolean)[] | readonly FixedIpFilter[] {
  return Array.isArray(value);
}

function encodeTags(key: string, tags: string[]): string {
  const withComma = tags.find((tag) => tag.includes(','));
  if (withComma !== undefined) {
    throw new KuryrError('INVALID_REQUEST', `invalid filter "${key}": tag "${withComma}" contains a comma, which separates tags in the query`);
  }
  return tags.map(encodeURIComponent).join(',');
}

function encodeFixedIp(condition: FixedIpFilter): string[] {
  const values = Object.entries(condition)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([attribute, value]) => encodeURIComponent(`${attribute}=${value}`));
  if (values.length === 0) {
    throw new KuryrError('INVALID_REQUEST', 'invalid filter "fixed_ips": a condition without attributes would match every port');
  }
  return values;
}
