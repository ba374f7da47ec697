export { DEFAULT_CONFIG_FILE, loadConfigFile, parseConfig, type LoadedConfig } from './load.js';
export type { KuryrConfig } from './schema.js';
export { BINDING_DRIVERS, NESTED_DRIVERS, parseBindingDriver, type BindingConfig, type BindingDriver } from './binding.js';
