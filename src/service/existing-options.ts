/**
 * The `neutron.*` options that point kuryr at existing Neutron resources,
 * read from `docker network create -o` (NetworkDriver) and `--ipam-opt`
 * (IpamDriver). The names are upstream Kuryr's, so existing scripts work.
 */
import { KuryrError } from '../errors.js';
import type { IpVersion } from './cidr.js';
import { NETWORK_FEATURE_KEYS } from './feature-options.js';

/** A Neutron resource named by id or by name. */
export type ResourceRef = { id: string } | { name: string };

export interface ExistingOptions {
  network: ResourceRef | undefined;
  /** `neutron.net.shared`; undefined when not given. */
  shared: boolean | undefined;
  subnet: Record<IpVersion, ResourceRef | undefined>;
  pool: Record<IpVersion, ResourceRef | undefined>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_NAME_LENGTH = 255;

const KNOWN_KEYS = [
  'neutron.net.uuid',
  'neutron.net.name',
  'neutron.net.shared',
  'neutron.subnet.uuid',
  'neutron.subnet.name',
  'neutron.subnet.v6.uuid',
  'neutron.subnet.v6.name',
  'neutron.pool.uuid',
  'neutron.pool.name',
  'neutron.pool.v6.uuid',
  'neutron.pool.v6.name',
];

/** Parses and validates the options; `where` names the Docker flag in error messages. */
export function parseExistingOptions(options: Record<string, unknown>, where: '-o' | '--ipam-opt'): ExistingOptions {
  // The feature options apply to a network's ports, so only `-o` takes them.
  const known = where === '-o' ? [...KNOWN_KEYS, ...NETWORK_FEATURE_KEYS] : KNOWN_KEYS;
  for (const key of Object.keys(options)) {
    if (key.startsWith('neutron.') && !known.includes(key)) {
      throw new KuryrError('INVALID_OPTION', `unknown option ${where} ${key}: kuryr accepts ${known.join(', ')}`);
    }
  }
  return {
    network: resourceRef(options, 'neutron.net', where),
    shared: sharedOption(options, where),
    subnet: { 4: resourceRef(options, 'neutron.subnet', where), 6: resourceRef(options, 'neutron.subnet.v6', where) },
    pool: { 4: resourceRef(options, 'neutron.pool', where), 6: resourceRef(options, 'neutron.pool.v6', where) },
  };
}

function resourceRef(options: Record<string, unknown>, prefix: string, where: string): ResourceRef | undefined {
  const id = stringOption(options, `${prefix}.uuid`, where);
  const name = stringOption(options, `${prefix}.name`, where);
  if (id !== undefined && name !== undefined) {
    throw new KuryrError('INVALID_OPTION', `${where} ${prefix}.uuid and ${prefix}.name are both set: give only one`);
  }
  if (id !== undefined) {
    if (!UUID.test(id)) {
      throw new KuryrError('INVALID_OPTION', `invalid ${where} ${prefix}.uuid "${id}": expected a Neutron UUID such as 0d9c3f4e-1111-4c2b-8e7f-2a3b4c5d6e7f`);
    }
    return { id: id.toLowerCase() };
  }
  if (name !== undefined) {
    if (name === '' || name.length > MAX_NAME_LENGTH) {
      throw new KuryrError('INVALID_OPTION', `invalid ${where} ${prefix}.name: expected 1 to ${MAX_NAME_LENGTH} characters`);
    }
    return { name };
  }
  return undefined;
}

function stringOption(options: Record<string, unknown>, key: string, where: string): string | undefined {
  const value = options[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new KuryrError('INVALID_OPTION', `invalid ${where} ${key}: expected a string`);
  return value;
}

function sharedOption(options: Record<string, unknown>, where: string): boolean | undefined {
  const value = stringOption(options, 'neutron.net.shared', where);
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'True') return true;
  if (value === 'false' || value === 'False') return false;
  throw new KuryrError('INVALID_OPTION', `invalid ${where} neutron.net.shared "${value}": expected true or false`);
}

export function describeRef(kind: string, ref: ResourceRef): string {
  return 'id' in ref ? `${kind} "${ref.id}"` : `${kind} named "${ref.name}"`;
}
