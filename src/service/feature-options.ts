/**
 * The `neutron.*` options that turn on Neutron features for containers:
 * security groups, port security, allowed address pairs, QoS, SNAT through a
 * router, floating IPs and FWaaS firewall groups. They come from `docker
 * network create -o` for every endpoint of the network and, except
 * `neutron.router`, from `docker network connect --driver-opt` for one endpoint.
 * Every value is checked here, before any Neutron request.
 */
import { KuryrError } from '../errors.js';
import { ipVersionOf, parseCidr } from './cidr.js';
import type { ResourceRef } from './existing-options.js';

export type SecurityGroupMode = 'add' | 'replace';

/** The Docker flag an option came from, for error messages. */
export type OptionSource = '-o' | '--driver-opt';

/** The options as given: resources named by id or by name, not looked up yet. */
export interface FeatureOptions {
  securityGroups: ResourceRef[];
  securityGroupMode: SecurityGroupMode | undefined;
  portSecurity: boolean | undefined;
  /** IP addresses or CIDRs the port may also send from. */
  allowedAddresses: string[];
  qosPolicy: ResourceRef | undefined;
  router: ResourceRef | undefined;
  floatingIpNetwork: ResourceRef | undefined;
  firewallGroup: ResourceRef | undefined;
}

export const SECURITY_GROUPS_OPTION = 'neutron.security_groups';
export const SECURITY_GROUP_MODE_OPTION = 'neutron.security_groups.mode';
export const PORT_SECURITY_OPTION = 'neutron.port_security';
export const ALLOWED_ADDRESS_PAIRS_OPTION = 'neutron.allowed_address_pairs';
export const QOS_POLICY_OPTION = 'neutron.qos_policy';
export const ROUTER_OPTION = 'neutron.router';
export const FLOATING_IP_NETWORK_OPTION = 'neutron.floatingip.network';
export const FIREWALL_GROUP_OPTION = 'neutron.firewall_group';

/** Feature keys `docker network create -o` accepts. */
export const NETWORK_FEATURE_KEYS = [
  SECURITY_GROUPS_OPTION,
  SECURITY_GROUP_MODE_OPTION,
  PORT_SECURITY_OPTION,
  ALLOWED_ADDRESS_PAIRS_OPTION,
  QOS_POLICY_OPTION,
  ROUTER_OPTION,
  FLOATING_IP_NETWORK_OPTION,
  FIREWALL_GROUP_OPTION,
];
/** Feature keys `docker network connect --driver-opt` accepts. */
export const ENDPOINT_FEATURE_KEYS = NETWORK_FEATURE_KEYS.filter((key) => key !== ROUTER_OPTION);

/**
 * Upper bound on list values. Each network-level entry becomes a tag on the
 * Neutron network, and Neutron allows 50 tags per resource.
 */
export const MAX_LIST_ENTRIES = 10;
const MAX_NAME_LENGTH = 255;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function hasFeatures(options: FeatureOptions): boolean {
  return (
    options.securityGroups.length > 0 ||
    options.portSecurity !== undefined ||
    options.allowedAddresses.length > 0 ||
    options.qosPolicy !== undefined ||
    options.router !== undefined ||
    options.floatingIpNetwork !== undefined ||
    options.firewallGroup !== undefined
  );
}

/**
 * Parses the feature options among `options` (other keys are ignored) and
 * rejects unknown `neutron.*` keys from `--driver-opt`. For `-o`, the unknown
 * key check covers the adoption options too and lives in parseExistingOptions.
 */
export function parseFeatureOptions(options: Record<string, unknown>, source: OptionSource): FeatureOptions {
  if (source === '--driver-opt') rejectUnknownEndpointKeys(options);
  const parsed: FeatureOptions = {
    securityGroups: listOption(options, SECURITY_GROUPS_OPTION, source).map(resourceRef),
    securityGroupMode: securityGroupMode(stringOption(options, SECURITY_GROUP_MODE_OPTION, source), source),
    portSecurity: booleanOption(options, PORT_SECURITY_OPTION, source),
    allowedAddresses: listOption(options, ALLOWED_ADDRESS_PAIRS_OPTION, source).map((entry) => allowedAddress(entry, source)),
    qosPolicy: refOption(options, QOS_POLICY_OPTION, source),
    router: refOption(options, ROUTER_OPTION, source),
    floatingIpNetwork: refOption(options, FLOATING_IP_NETWORK_OPTION, source),
    firewallGroup: refOption(options, FIREWALL_GROUP_OPTION, source),
  };
  checkCombinations(parsed, source);
  return parsed;
}

function rejectUnknownEndpointKeys(options: Record<string, unknown>): void {
  for (const key of Object.keys(options)) {
    if (!key.startsWith('neutron.') || ENDPOINT_FEATURE_KEYS.includes(key)) continue;
    const hint = key === ROUTER_OPTION ? `${ROUTER_OPTION} applies to a whole network: pass it to docker network create -o` : `kuryr accepts ${ENDPOINT_FEATURE_KEYS.join(', ')}`;
    throw new KuryrError('INVALID_OPTION', `unknown option --driver-opt ${key}: ${hint}`);
  }
}

function checkCombinations(options: FeatureOptions, source: OptionSource): void {
  if (options.securityGroupMode !== undefined && options.securityGroups.length === 0) {
    throw new KuryrError('INVALID_OPTION', `${source} ${SECURITY_GROUP_MODE_OPTION} needs ${SECURITY_GROUPS_OPTION}: name the groups to add or to use instead`);
  }
  if (options.portSecurity !== false) return;
  // Neutron filters nothing on a port without port security, so it rejects groups and address pairs there.
  if (options.securityGroups.length > 0) {
    throw new KuryrError('INVALID_OPTION', `${source} ${PORT_SECURITY_OPTION}=false conflicts with ${SECURITY_GROUPS_OPTION}: a port without port security has no security groups, so drop one of them`);
  }
  if (options.allowedAddresses.length > 0) {
    throw new KuryrError('INVALID_OPTION', `${source} ${PORT_SECURITY_OPTION}=false conflicts with ${ALLOWED_ADDRESS_PAIRS_OPTION}: a port without port security accepts every source address already, so drop one of them`);
  }
}

function stringOption(options: Record<string, unknown>, key: string, source: OptionSource): string | undefined {
  const value = options[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new KuryrError('INVALID_OPTION', `invalid ${source} ${key}: expected a string`);
  return value;
}

/** Splits a comma-separated value. Empty entries, duplicates and more than MAX_LIST_ENTRIES entries are errors. */
function listOption(options: Record<string, unknown>, key: string, source: OptionSource): string[] {
  const value = stringOption(options, key, source);
  if (value === undefined) return [];
  const entries = value.split(',').map((entry) => entry.trim());
  if (entries.some((entry) => entry === '')) {
    throw new KuryrError('INVALID_OPTION', `invalid ${source} ${key} "${value}": expected a comma-separated list without empty entries`);
  }
  if (entries.length > MAX_LIST_ENTRIES) {
    throw new KuryrError('INVALID_OPTION', `invalid ${source} ${key}: ${entries.length} entries given, at most ${MAX_LIST_ENTRIES} are allowed`);
  }
  const duplicate = entries.find((entry, index) => entries.indexOf(entry) !== index);
  if (duplicate !== undefined) throw new KuryrError('INVALID_OPTION', `invalid ${source} ${key}: "${duplicate}" is given twice`);
  for (const entry of entries) checkName(entry, key, source);
  return entries;
}

function refOption(options: Record<string, unknown>, key: string, source: OptionSource): ResourceRef | undefined {
  const value = stringOption(options, key, source);
  if (value === undefined) return undefined;
  checkName(value.trim(), key, source);
  return resourceRef(value.trim());
}

function checkName(value: string, key: string, source: OptionSource): void {
  if (value === '' || value.length > MAX_NAME_LENGTH) {
    throw new KuryrError('INVALID_OPTION', `invalid ${source} ${key}: expected a Neutron name of 1 to ${MAX_NAME_LENGTH} characters or a UUID`);
  }
}

/** Returns an id ref for a value in UUID form, and a name ref for anything else. */
function resourceRef(value: string): ResourceRef {
  return UUID.test(value) ? { id: value.toLowerCase() } : { name: value };
}

function booleanOption(options: Record<string, unknown>, key: string, source: OptionSource): boolean | undefined {
  const value = stringOption(options, key, source);
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'True') return true;
  if (value === 'false' || value === 'False') return false;
  throw new KuryrError('INVALID_OPTION', `invalid ${source} ${key} "${value}": expected true or false`);
}

function securityGroupMode(value: string | undefined, source: OptionSource): SecurityGroupMode | undefined {
  switch (value) {
    case undefined:
    case 'add':
    case 'replace':
      return value;
    default:
      throw new KuryrError('INVALID_OPTION', `invalid ${source} ${SECURITY_GROUP_MODE_OPTION} "${value}": expected add or replace`);
  }
}

/** Checks an IP address or CIDR and returns it in Neutron's form (a CIDR keeps its prefix length). */
function allowedAddress(entry: string, source: OptionSource): string {
  if (ipVersionOf(entry) !== undefined) return entry;
  try {
    parseCidr(entry);
  } catch (error) {
    throw new KuryrError(
      'INVALID_OPTION',
      `invalid ${source} ${ALLOWED_ADDRESS_PAIRS_OPTION} entry "${entry}": expected an IP address or a CIDR with no host bits, such as 10.66.0.50 or 10.66.0.64/28`,
      { cause: error },
    );
  }
  return entry;
}
