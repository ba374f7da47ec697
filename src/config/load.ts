/** Reads kuryr.conf alone, without the environment or clouds.yaml; resolveConfig adds those. */
import { DEFAULT_CONFIG_FILE, parseIni, readConfigFile, validateLayers } from './resolve.js';
import { classifyFileKeys } from './reference.js';
import type { KuryrConfig } from './schema.js';

export { DEFAULT_CONFIG_FILE };

export interface LoadedConfig {
  config: KuryrConfig;
  /** `section.key` names present in the file but not used by kuryr-ts. */
  unknownKeys: string[];
}

export async function loadConfigFile(path: string): Promise<LoadedConfig> {
  const layer = await readConfigFile(path, true);
  return parseConfigSections(layer?.sections ?? {}, path);
}

export function parseConfig(text: string, path: string): LoadedConfig {
  return parseConfigSections(parseIni(text), path);
}

function parseConfigSections(sections: ReturnType<typeof parseIni>, path: string): LoadedConfig {
  const { config } = validateLayers([{ source: `file:${path}`, sections }]);
  const unknownKeys: string[] = [];
  for (const [section, values] of Object.entries(sections)) {
    for (const key of Object.keys(values)) {
      if (classifyFileKeys({ [section]: { [key]: values[key] } }, path).length > 0) unknownKeys.push(`${section}.${key}`);
    }
  }
  return { config, unknownKeys };
}
