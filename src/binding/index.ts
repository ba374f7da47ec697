export { VethBinder, DEFAULT_SCRIPT_TIMEOUT_MS } from './veth.js';
export type { VethBinderOptions } from './veth.js';
export { vethNames, validatePortId } from './names.js';
export { DEFAULT_BINDIR, bindingScriptArgv, classifyVifType } from './script.js';
export type { ScriptAction, VifTypeKind } from './script.js';
export type { BoundInterface, PortBinder, PortBindingRequest } from './types.js';
