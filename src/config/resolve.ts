/**
 * The effective configuration: built-in defaults, then the container image's
 * variables, the clouds.yaml cloud named by OS_CLOUD, the OS_* variables,
 * kuryr.conf and command-line options, each overriding the ones before it key
 * by key. The file wins over the environment so that `kuryr doctor` run from
 * an administrator's shell checks the daemon's own credentials.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { parse } from 'ini';
import { KuryrError } from '../errors.js';
import { resolveKeystoneSettings } from './auth.js';
import { cloudsLayer } from './clouds.js';
import { IMAGE_VARIABLES, OPENSTACK_VARIABLES, envLayers } from './env.js';
import { mergeLayers, type ConfigLayer, type RawSections } from './layers.js';
import { classifyFileKeys } from './reference.js';
import { configSchema, type KuryrConfig } from './schema.js';

export const DEFAULT_CONFIG_FILE = '/etc/kuryr/kuryr.conf';

export interface ResolveOptions {
  configFile: string;
  /** False when `configFile` is the built-in default, so a missing file is not an error. */
  configFileExplicit: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  home?: string;
  /** Command-line options, the highest layer. */
  overrides?: ConfigLayer[];
  /** False to accept missing Keystone credentials, for `kuryr config show`. */
  checkCredentials?: boolean;
}

export interface ResolvedConfig {
  config: KuryrConfig;
  /** Source of each value not left at its default, keyed by `section.key`. */
  sources: Map<string, string>;
  /** Raw merged values, as the sources wrote them. */
  raw: RawSections;
  /** The file read, or undefined when the default file does not exist. */
  configFile: string | undefined;
  /** Keys of the file that kuryr-ts ignores, one message each. */
  warnings: string[];
}

export async function resolveConfig(options: ResolveOptions): Promise<ResolvedConfig> {
  const env = options.env ?? process.env;
  const fileLayer = await readConfigFile(options.configFile, options.configFileExplicit);
  const clouds = await cloudsLayer({
    cloud: env.OS_CLOUD,
    configFile: env.OS_CLIENT_CONFIG_FILE,
    cwd: options.cwd ?? process.cwd(),
    home: options.home ?? homedir(),
  });
  const layers = [
    ...envLayers(env, IMAGE_VARIABLES),
    ...(clouds === undefined ? [] : [clouds]),
    ...envLayers(env, OPENSTACK_VARIABLES),
    ...(fileLayer === undefined ? [] : [fileLayer]),
    ...(options.overrides ?? []),
  ];
  const resolved = validateLayers(layers, options.checkCredentials ?? true);
  return {
    ...resolved,
    configFile: fileLayer === undefined ? undefined : options.configFile,
    warnings: fileLayer === undefined ? [] : classifyFileKeys(fileLayer.sections, options.configFile),
  };
}

/** Merges and validates `layers`; errors name the key, the source that set it and the expected value. */
export function validateLayers(layers: readonly ConfigLayer[], checkCredentials = true): Pick<ResolvedConfig, 'config' | 'sources' | 'raw'> {
  const { sections, sources } = mergeLayers(layers);
  const parsed = configSchema.safeParse({ DEFAULT: sections.DEFAULT ?? {}, neutron: sections.neutron ?? {}, binding: sections.binding ?? {} });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = issue.path.map(String).join('.');
      const source = sources.get(key);
      return `${key}${source === undefined ? '' : ` (set by ${source})`}: ${issue.message}`;
    });
    throw new KuryrError('CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`);
  }
  if (checkCredentials) resolveKeystoneSettings(parsed.data.neutron);
  return { config: parsed.data, sources, raw: sections };
}

/** Reads kuryr.conf into a layer; a missing default file gives no layer. */
export async function readConfigFile(path: string, explicit: boolean): Promise<ConfigLayer | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (!explicit && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KuryrError('CONFIG_INVALID', `cannot read configuration file "${path}": ${(error as Error).message}`, { cause: error });
  }
  return { source: `file:${path}`, sections: parseIni(text) };
}

/** Parses INI text into sections; keys before the first header belong to [DEFAULT], as in oslo.config. */
export function parseIni(text: string): RawSections {
  const raw = parse(text) as Record<string, unknown>;
  const sections: RawSections = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) sections[key] = { ...sections[key], ...(value as Record<string, unknown>) };
    else (sections.DEFAULT ??= {})[key] = value;
  }
  return sections;
}
