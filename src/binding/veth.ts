import type { Logger } from 'pino';
import { pino } from 'pino';
import { KuryrError } from '../errors.js';
import { IpLink, normalizeMac, validateIfName, validateMtu } from '../host/index.js';
import type { CommandRunner } from '../host/index.js';
import { validatePortId, vethNames } from './names.js';
import { DEFAULT_BINDIR, bindingScriptArgv, classifyVifType, findBindingScript, isExecutableFile } from './script.js';
import type { ScriptAction } from './script.js';
import type { BoundInterface, PortBinder, PortBindingRequest } from './types.js';
import { configureVethPair, ensureVethPair } from './veth-pair.js';

export interface VethBinderOptions {
  runner: CommandRunner;
  /** Directory searched for a binding script named after the vif_type. */
  bindir?: string;
  logger?: Logger;
  /** Timeout for one binding script run, in milliseconds. */
  scriptTimeoutMs?: number;
  /** Checks whether a script path can be executed; tests replace it to avoid touching the file system. */
  isExecutable?: (path: string) => Promise<boolean>;
}

/** Binding scripts run several commands (bridge and OVS tools), so they get more time than one `ip` call. */
export const DEFAULT_SCRIPT_TIMEOUT_MS = 30_000;

/**
 * Binds a Neutron port to a veth pair: `tap<id>` stays on the host for the L2 agent, and `t_c<id>`
 * is the end Docker moves into the container. Docker assigns the container's IP address after the
 * move, so the container end gets no address here.
 */
export class VethBinder implements PortBinder {
  readonly #runner: CommandRunner;
  readonly #ip: IpLink;
  readonly #bindir: string;
  readonly #logger: Logger;
  readonly #scriptTimeoutMs: number;
  readonly #isExecutable: (path: string) => Promise<boolean>;

  constructor(options: VethBinderOptions) {
    this.#runner = options.runner;
    this.#ip = new IpLink(options.runner);
    this.#bindir = options.bindir ?? DEFAULT_BINDIR;
    this.#logger = options.logger ?? pino({ enabled: false });
    this.#scriptTimeoutMs = options.scriptTimeoutMs ?? DEFAULT_SCRIPT_TIMEOUT_MS;
    this.#isExecutable = options.isExecutable ?? isExecutableFile;
  }

  async bind(request: PortBindingRequest): Promise<BoundInterface> {
    const names = vethNames(request.portId);
    validateBindRequest(request, names);
    const script = await this.#scriptForBind(request);
    const log = this.#logger.child({ portId: request.portId, endpointId: request.endpointId, ...names });

    try {
      const ends = { hostIfName: names.hostIfName, peerIfName: names.containerIfName };
      await ensureVethPair(this.#ip, ends, log);
      await configureVethPair(this.#ip, ends, request.mtu, request.macAddress);
      if (script !== undefined) await this.#runScript(script, 'bind', request, names.hostIfName, log);
    } catch (error) {
      await this.#removeAfterFailedBind(names.hostIfName, log);
      throw new KuryrError(
        'BINDING_FAILED',
        `cannot bind port "${request.portId}" to host interface "${names.hostIfName}": ${messageOf(error)}`,
        { cause: error },
      );
    }

    log.info({ mtu: request.mtu, vifType: request.vifType, script }, 'bound port to veth pair');
    return names;
  }

  async unbind(request: PortBindingRequest): Promise<void> {
    validatePortId(request.portId);
    const names = vethNames(request.portId);
    validateIfName(names.hostIfName);
    const log = this.#logger.child({ portId: request.portId, endpointId: request.endpointId, ...names });

    await this.#runUnbindScript(request, names.hostIfName, log);

    // Deleting one end of a veth deletes both. A missing device counts as removed: Docker may
    // already have torn down the container's network namespace, which destroys the pair with it.
    let deleted: boolean;
    try {
      deleted = await this.#ip.deleteLink(names.hostIfName);
    } catch (error) {
      throw new KuryrError(
        'BINDING_FAILED',
        `cannot remove host interface "${names.hostIfName}" of port "${request.portId}": ${messageOf(error)}`,
        { cause: error },
      );
    }
    log.info(deleted ? 'removed veth pair' : 'veth pair was already gone');
  }

  /** Returns the script to run after the veth is ready, or throws when the vif_type cannot be bound. */
  async #scriptForBind(request: PortBindingRequest): Promise<string | undefined> {
    const kind = classifyVifType(request.vifType);
    switch (kind) {
      case 'not-bound':
        throw portNotBound(request);
      case 'veth-only':
        return findBindingScript(this.#bindir, request.vifType, this.#isExecutable);
      case 'scripted': {
        const script = await findBindingScript(this.#bindir, request.vifType, this.#isExecutable);
        if (script === undefined) throw noBindingForVifType(request, this.#bindir);
        return script;
      }
      default:
        return assertNever(kind);
    }
  }

  async #runScript(
    script: string,
    action: ScriptAction,
    request: PortBindingRequest,
    hostIfName: string,
    log: Logger,
  ): Promise<void> {
    const argv = bindingScriptArgv(script, action, request, hostIfName);
    const result = await this.#runner.run(argv, { timeoutMs: this.#scriptTimeoutMs });
    log.debug({ script, action, stdout: result.stdout, stderr: result.stderr }, 'binding script finished');
  }

  /** Runs the unbind script if one applies; its failure is logged and never stops the veth removal. */
  async #runUnbindScript(request: PortBindingRequest, hostIfName: string, log: Logger): Promise<void> {
    // Nothing was plugged for a port Neutron never bound, and kuryr-lib's `unbound` script
    // always exits 1, so no script runs for such a port.
    if (classifyVifType(request.vifType) === 'not-bound') return;

    const script = await findBindingScript(this.#bindir, request.vifType, this.#isExecutable);
    if (script === undefined) return;
    try {
      await this.#runScript(script, 'unbind', request, hostIfName, log);
    } catch (error) {
      log.warn({ err: error, script }, 'binding script failed on unbind; removing the veth pair anyway');
    }
  }

  async #removeAfterFailedBind(hostIfName: string, log: Logger): Promise<void> {
    try {
      await this.#ip.deleteLink(hostIfName);
    } catch (error) {
      // The bind error is the one the caller needs, so this one is only logged.
      log.warn({ err: error }, 'cannot remove veth pair after failed bind');
    }
  }
}

/** Validates every value that reaches a command line before any command runs. */
function validateBindRequest(request: PortBindingRequest, names: BoundInterface): void {
  validatePortId(request.portId);
  validateIfName(names.hostIfName);
  validateIfName(names.containerIfName);
  normalizeMac(request.macAddress);
  validateMtu(request.mtu);
}

function portNotBound(request: PortBindingRequest): KuryrError {
  return new KuryrError(
    'BINDING_FAILED',
    `cannot bind port "${request.portId}": Neutron set its binding:vif_type to "${request.vifType}", ` +
      'so no mechanism driver bound it to this host; check that an L2 agent (for example ' +
      "neutron-linuxbridge-agent) is alive on this host and reports the same host name as the port's binding:host_id",
  );
}

function noBindingForVifType(request: PortBindingRequest, bindir: string): KuryrError {
  return new KuryrError(
    'BINDING_FAILED',
    `cannot bind port "${request.portId}": vif_type "${request.vifType}" has no built-in binding and ` +
      `there is no executable binding script named "${request.vifType}" in "${bindir}"; install one or ` +
      'use the linuxbridge or openvswitch mechanism driver (vif_type "bridge" or "ovs")',
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function assertNever(value: never): never {
  throw new KuryrError('INTERNAL', `unhandled vif_type kind "${String(value)}"`);
}
