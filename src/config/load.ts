/** Reads kuryr.conf and validates it once; later code trusts the typed result. */
import { readFile } from 'node:fs/promises';
import { parse } from 'ini';
import { KuryrError, formatIssues } from '../errors.js';
import { BINDING_KEYS } from './binding.js';
import { configSchema, defaultSectionSchema, neutronSectionSchema, type KuryrConfig } from './schema.js';

export const DEFAULT_CONFIG_FILE = '/etc/kuryr/kuryr.conf';

export interface LoadedConfig {
  config: KuryrConfig;
  /** `section.key` names present in the file but not used by kuryr-ts. */
  unknownKeys: string[];
}

export async function loadConfigFile(path: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new KuryrError('CONFIG_INVALID', `cannot read configuration file "${path}": ${(error as Error).message}`, { cause: error });
  }
  return parseConfig(text, path);
}

export function parseConfig(text: string, path: string): LoadedConfig {
  const raw = parse(text) as Record<string, unknown>;
  const sections: Record<string, Record<string, unknown>> = {};
  // The ini package puts keys before the first section header at the top level; upstream treats them as [DEFAULT].
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === 'object' && value !== null) sections[key] = value as Record<string, unknown>;
    else (sections.DEFAULT ??= {})[key] = value;
  }
  const parsed = configSchema.safeParse({
    DEFAULT: sections.DEFAULT ?? {},
    neutron: sections.neutron ?? {},
    binding: sections.binding ?? {},
  });
  if (!parsed.success) {
    throw new KuryrError('CONFIG_INVALID', `invalid configuration in "${path}": ${formatIssues(parsed.error.issues)}`);
  }
  return { config: parsed.data, unknownKeys: findUnknownKeys(sections) };
}

function findUnknownKeys(sections: Record<string, Record<string, unknown>>): string[] {
  const known: Record<string, Set<string>> = {
    DEFAULT: new Set(Object.keys(defaultSectionSchema.shape)),
    neutron: new Set(Object.keys(neutronSectionSchema.shape)),
    binding: new Set(BINDING_KEYS),
  };
  const unknown: string[] = [];
  for (const [section, values] of Object.entries(sections)) {
    for (const key of Object.keys(values)) {
      if (!known[section]?.has(key)) unknown.push(`${section}.${key}`);
    }
  }
  return unknown;
}
