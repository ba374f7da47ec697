export { DEFAULT_CONFIG_FILE, loadConfigFile, parseConfig, type LoadedConfig } from './load.js';
export type { KuryrConfig } from './schema.js';
