/**
 * Configuration layers: each source (a default, the file, clouds.yaml, one
 * environment variable, a command-line option) contributes raw `section.key`
 * values, and a later layer overrides an earlier one key by key.
 */

export type RawSections = Record<string, Record<string, unknown>>;

export interface ConfigLayer {
  /** `file:<path>`, `env:<NAME>`, `clouds.yaml:<cloud>` or `cli:<--option>`. */
  source: string;
  sections: RawSections;
}

export interface MergedLayers {
  sections: RawSections;
  /** Source of each value that a layer set, keyed by `section.key`. */
  sources: Map<string, string>;
}

export function mergeLayers(layers: readonly ConfigLayer[]): MergedLayers {
  const sections: RawSections = {};
  const sources = new Map<string, string>();
  for (const layer of layers) {
    for (const [section, values] of Object.entries(layer.sections)) {
      for (const [key, value] of Object.entries(values)) {
        if (value === undefined) continue;
        (sections[section] ??= {})[key] = value;
        sources.set(`${section}.${key}`, layer.source);
      }
    }
  }
  return { sections, sources };
}
