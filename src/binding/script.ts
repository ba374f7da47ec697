import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KuryrError } from '../errors.js';
import { normalizeMac } from '../host/index.js';
import { pythonRepr } from './python-repr.js';
import type { PortBindingRequest } from './types.js';

export const DEFAULT_BINDIR = '/usr/libexec/kuryr';

export type ScriptAction = 'bind' | 'unbind';

/**
 * Category of a `binding:vif_type`, which decides how the veth binder handles it:
 * - `veth-only` (`bridge`, `tap`): the veth pair is enough. The linuxbridge agent plugs the tap
 *   of a `kuryr:container` port into its `brq` bridge itself, and a `tap` driver (networking-calico,
 *   for example) routes to the tap as it is. An installed script of that name still runs.
 * - `not-bound` (`unbound`, `binding_failed`): no mechanism driver bound the port to this host.
 * - `scripted`: every other vif_type needs an executable of that name in the bindir.
 */
export type VifTypeKind = 'veth-only' | 'not-bound' | 'scripted';

export function classifyVifType(vifType: string): VifTypeKind {
  switch (vifType) {
    case 'bridge':
    case 'tap':
      return 'veth-only';
    case 'unbound':
    case 'binding_failed':
      return 'not-bound';
    default:
      return 'scripted';
  }
}

// A vif_type becomes a file name under the bindir, so it must not contain "/" or be "..".
const SCRIPT_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Returns the path of the executable named after `vifType` in `bindir`, or undefined when there is none. */
export async function findBindingScript(
  bindir: string,
  vifType: string,
  isExecutable: (path: string) => Promise<boolean>,
): Promise<string | undefined> {
  if (!SCRIPT_NAME.test(vifType)) return undefined;
  const path = join(bindir, vifType);
  return (await isExecutable(path)) ? path : undefined;
}

/** Returns true when `path` is a regular file that this process may execute. */
export async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds the argv of a binding script call in kuryr-lib's argument order, which differs per action:
 * - `<script> bind <port id> <host ifname> <endpoint id> <mac> <network id> <project id> <vif_details>`
 * - `<script> unbind <port id> <host ifname> <endpoint id> <mac> <vif_details> <network id>`
 *
 * `vif_details` is formatted as kuryr-lib formats it, so its scripts (midonet, iovisor, ovs) and
 * in-house ones written for it work unchanged. The format is the Python repr of the dict inside
 * literal double quotes, such as `"{'port_filter': True}"`, or the text `None` for an empty dict.
 */
export function bindingScriptArgv(
  scriptPath: string,
  action: ScriptAction,
  request: PortBindingRequest,
  hostIfName: string,
): string[] {
  const shared = [scriptPath, action, request.portId, hostIfName, request.endpointId, normalizeMac(request.macAddress)];
  const vifDetails = vifDetailsArgument(request.vifDetails);
  switch (action) {
    case 'bind':
      return [...shared, request.neutronNetworkId, request.projectId, vifDetails];
    case 'unbind':
      return [...shared, vifDetails, request.neutronNetworkId];
    default:
      throw new KuryrError('INTERNAL', `unhandled script action "${String(action satisfies never)}"`);
  }
}

/**
 * Formats vif_details as kuryr-lib's `string_mappings` helper does (read from kuryr-lib's source):
 * `'"' + str(details) + '"'`, and Python's `None` for an empty dict, which becomes the text `None`
 * because oslo's `processutils.execute` passes `str()` of each argument.
 */
export function vifDetailsArgument(vifDetails: Record<string, unknown>): string {
  if (Object.keys(vifDetails).length === 0) return 'None';
  return `"${pythonRepr(vifDetails)}"`;
}
