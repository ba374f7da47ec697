/**
 * `kuryr config show`: the effective configuration as INI text, each value
 * followed by its source, secrets masked.
 */
import { hostname } from 'node:os';
import { keyReferences, SECRET_KEYS, SECTIONS } from './reference.js';
import type { ResolvedConfig } from './resolve.js';

const MASK = '********';

export function formatEffectiveConfig(resolved: Pick<ResolvedConfig, 'raw' | 'sources' | 'configFile'>, systemHostName: string = hostname()): string {
  const references = keyReferences();
  const lines = [`# configuration file: ${resolved.configFile ?? 'none found (defaults and environment only)'}`];
  for (const section of SECTIONS) {
    lines.push('', `[${section}]`);
    for (const reference of references.filter((entry) => entry.section === section)) {
      const name = `${section}.${reference.key}`;
      const rawValue = resolved.raw[section]?.[reference.key];
      const source = resolved.sources.get(name) ?? 'default';
      let value = rawValue === undefined ? reference.defaultValue : formatValue(rawValue);
      if (value === undefined && name === 'DEFAULT.host') value = systemHostName;
      if (value === undefined) continue;
      const printed = SECRET_KEYS.has(name) && rawValue !== undefined ? MASK : value;
      lines.push(`${reference.key} = ${printed}  # ${source}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function formatValue(value: unknown): string {
  return Array.isArray(value) ? value.map(String).join(',') : String(value);
}
