export { ExecFileRunner, DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_TIMEOUT_MS, netnsExecArgv } from './runner.js';
export type { CommandResult, CommandRunner, ExecFileRunnerOptions, RunOptions } from './runner.js';
export { normalizeMac, validateIfName, validateMtu } from './validate.js';
export {
  IpLink,
  addBridgeArgv,
  addVethPairArgv,
  deleteLinkArgv,
  listLinksArgv,
  setAddressArgv,
  setMasterArgv,
  setMtuArgv,
  setUpArgv,
  showLinkArgv,
} from './ip.js';
export type { LinkInfo } from './ip.js';
export { OvsVsctl, addOvsPortArgv, deleteOvsPortArgv } from './ovs.js';
export type { OvsInterfaceIds } from './ovs.js';
