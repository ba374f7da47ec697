export { DEFAULT_CONFIG_FILE, loadConfigFile, parseConfig, type LoadedConfig } from './load.js';
export { resolveConfig, validateLayers, type ResolveOptions, type ResolvedConfig } from './resolve.js';
export { authMethodOf, resolveKeystoneSettings, type AuthMethod, type KeystoneSettings } from './auth.js';
export { keyReferences, SECRET_KEYS, SECTIONS, type KeyReference } from './reference.js';
export type { ConfigLayer } from './layers.js';
export type { KuryrConfig } from './schema.js';
export { BINDING_DRIVERS, NESTED_DRIVERS, parseBindingDriver, type BindingConfig, type BindingDriver } from './binding.js';
