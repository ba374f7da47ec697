import type { Logger } from 'pino';
import { pino } from 'pino';
import { z } from 'zod';
import { KuryrError } from '../errors.js';
import { IpLink, OvsVsctl, addOvsPortArgv, normalizeMac, validateIfName, validateMtu } from '../host/index.js';
import type { CommandRunner } from '../host/index.js';
import { hybridPlugNames, validatePortId, vethNames } from './names.js';
import type { HybridPlugNames } from './names.js';
import { Rollback } from './rollback.js';
import type { BoundInterface, PortBinder, PortBindingRequest } from './types.js';
import { configureVethPair, ensureVethPair } from './veth-pair.js';

export interface OvsBinderOptions {
  runner: CommandRunner;
  logger?: Logger;
}

/** The integration bridge that the Neutron OVS agent manages when vif_details name none. */
export const DEFAULT_INTEGRATION_BRIDGE = 'br-int';

/** The plug mode that the OVS mechanism driver requests in `binding:vif_details`. */
export interface OvsPlug {
  bridgeName: string;
  /**
   * True when the agent's firewall is iptables-based (`iptables_hybrid`), which needs a Linux
   * bridge between the tap and OVS to hang its rules on.
   */
  hybrid: boolean;
}

// Neutron sends more keys (datapath_type, port_filter, connectivity, ...); none of them changes
// how a veth is plugged, so they pass through unchecked.
const ovsVifDetailsSchema = z.looseObject({
  bridge_name: z.string().optional(),
  ovs_hybrid_plug: z.boolean().optional(),
});

/** Reads the plug mode from vif_details, or throws `BINDING_FAILED` when a key has the wrong type. */
export function parseOvsVifDetails(request: PortBindingRequest): OvsPlug {
  const parsed = ovsVifDetailsSchema.safeParse(request.vifDetails);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new KuryrError(
      'BINDING_FAILED',
      `port "${request.portId}" has invalid binding:vif_details for vif_type "ovs": ${issues}`,
    );
  }
  return {
    bridgeName: parsed.data.bridge_name ?? DEFAULT_INTEGRATION_BRIDGE,
    hybrid: parsed.data.ovs_hybrid_plug === true,
  };
}

/**
 * Binds a port of vif_type `ovs`. It creates the `tap`/`t_c` veth pair as for linuxbridge and adds
 * the tap to the OVS integration bridge. A hybrid plug instead puts the tap in a `qbr` Linux bridge
 * and joins that bridge to the integration bridge with a `qvb`/`qvo` veth pair. The Neutron OVS
 * agent then finds the OVS interface by its `iface-id` and programs the port's flows.
 */
export class OvsBinder implements PortBinder {
  readonly #ip: IpLink;
  readonly #ovs: OvsVsctl;
  readonly #logger: Logger;

  constructor(options: OvsBinderOptions) {
    this.#ip = new IpLink(options.runner);
    this.#ovs = new OvsVsctl(options.runner);
    this.#logger = options.logger ?? pino({ enabled: false });
  }

  async bind(request: PortBindingRequest): Promise<BoundInterface> {
    const names = vethNames(request.portId);
    const plug = parseOvsVifDetails(request);
    const hybrid = hybridPlugNames(request.portId);
    validateBindRequest(request, names, hybrid, plug);
    const log = this.#logger.child({ portId: request.portId, endpointId: request.endpointId, ...names, ...plug });

    const rollback = new Rollback();
    try {
      await this.#plugTap(names, request, rollback, log);
      if (plug.hybrid) {
        await this.#plugHybrid(plug.bridgeName, names.hostIfName, hybrid, request, rollback, log);
      } else {
        await this.#addOvsPort(plug.bridgeName, names.hostIfName, request, rollback);
      }
    } catch (error) {
      await rollback.run(log);
      throw new KuryrError(
        'BINDING_FAILED',
        `cannot bind port "${request.portId}" to Open vSwitch bridge "${plug.bridgeName}": ${messageOf(error)}`,
        { cause: error },
      );
    }

    log.info({ mtu: request.mtu }, plug.hybrid ? 'bound port to OVS through a hybrid plug' : 'bound port to OVS');
    return names;
  }

  async unbind(request: PortBindingRequest): Promise<void> {
    validatePortId(request.portId);
    const names = vethNames(request.portId);
    const plug = parseOvsVifDetails(request);
    const hybrid = hybridPlugNames(request.portId);
    const log = this.#logger.child({ portId: request.portId, endpointId: request.endpointId, ...names, ...plug });

    // Each step runs even when an earlier one failed, so as little as possible is left behind.
    // Missing ports and devices count as removed: Docker may already have deleted the container's
    // namespace, and with it the veth pair.
    const steps: [string, () => Promise<unknown>][] = plug.hybrid
      ? [
          [`remove OVS port "${hybrid.ovsIfName}"`, () => this.#ovs.deletePort(hybrid.ovsIfName)],
          [`delete "${hybrid.bridgeIfName}"`, () => this.#ip.deleteLink(hybrid.bridgeIfName)],
          [`delete "${names.hostIfName}"`, () => this.#ip.deleteLink(names.hostIfName)],
          [`delete "${hybrid.bridgeName}"`, () => this.#ip.deleteLink(hybrid.bridgeName)],
        ]
      : [
          [`remove OVS port "${names.hostIfName}"`, () => this.#ovs.deletePort(names.hostIfName)],
          [`delete "${names.hostIfName}"`, () => this.#ip.deleteLink(names.hostIfName)],
        ];
    const failures: string[] = [];
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (error) {
        failures.push(`${what}: ${messageOf(error)}`);
      }
    }

    if (failures.length > 0) {
      throw new KuryrError('BINDING_FAILED', `cannot unbind port "${request.portId}" from Open vSwitch: ${failures.join('; ')}`);
    }
    log.info('unbound port from OVS');
  }

  async #plugTap(names: BoundInterface, request: PortBindingRequest, rollback: Rollback, log: Logger): Promise<void> {
    const ends = { hostIfName: names.hostIfName, peerIfName: names.containerIfName };
    // Registered before the step: a step that fails halfway may already have created the pair.
    rollback.add(`delete "${names.hostIfName}"`, () => this.#ip.deleteLink(names.hostIfName));
    await ensureVethPair(this.#ip, ends, log);
    await configureVethPair(this.#ip, ends, request.mtu, request.macAddress);
  }

  async #plugHybrid(
    ovsBridge: string,
    tapIfName: string,
    hybrid: HybridPlugNames,
    request: PortBindingRequest,
    rollback: Rollback,
    log: Logger,
  ): Promise<void> {
    rollback.add(`delete "${hybrid.bridgeName}"`, () => this.#ip.deleteLink(hybrid.bridgeName));
    await this.#ensureLinuxBridge(hybrid.bridgeName, request.mtu, log);

    const ends = { hostIfName: hybrid.bridgeIfName, peerIfName: hybrid.ovsIfName };
    rollback.add(`delete "${hybrid.bridgeIfName}"`, () => this.#ip.deleteLink(hybrid.bridgeIfName));
    await ensureVethPair(this.#ip, ends, log);
    await configureVethPair(this.#ip, ends, request.mtu);

    await this.#ip.setMaster(hybrid.bridgeIfName, hybrid.bridgeName);
    await this.#ip.setMaster(tapIfName, hybrid.bridgeName);
    await this.#addOvsPort(ovsBridge, hybrid.ovsIfName, request, rollback);
  }

  /** Creates the Linux bridge, or keeps an existing bridge of that name, and sets its MTU and state. */
  async #ensureLinuxBridge(bridgeName: string, mtu: number, log: Logger): Promise<void> {
    const existing = await this.#ip.showLink(bridgeName);
    if (existing?.kind !== 'bridge') {
      if (existing !== undefined) {
        log.warn({ bridgeName, kind: existing.kind }, 'replacing a device that is not a Linux bridge');
        await this.#ip.deleteLink(bridgeName);
      }
      await this.#ip.addBridge(bridgeName);
    }
    await this.#ip.setMtu(bridgeName, mtu);
    await this.#ip.setUp(bridgeName);
  }

  async #addOvsPort(ovsBridge: string, ifName: string, request: PortBindingRequest, rollback: Rollback): Promise<void> {
    // ovs-vsctl may commit and still fail, when it times out waiting for ovs-vswitchd, so the
    // removal is registered before the call.
    rollback.add(`remove OVS port "${ifName}"`, () => this.#ovs.deletePort(ifName));
    await this.#ovs.addPort(ovsBridge, ifName, ovsIds(request));
  }
}

function ovsIds(request: PortBindingRequest): { portId: string; macAddress: string; endpointId: string } {
  return { portId: request.portId, macAddress: request.macAddress, endpointId: request.endpointId };
}

/** Validates every value that reaches a command line before any command runs. */
function validateBindRequest(request: PortBindingRequest, names: BoundInterface, hybrid: HybridPlugNames, plug: OvsPlug): void {
  validatePortId(request.portId);
  validateIfName(names.hostIfName);
  validateIfName(names.containerIfName);
  normalizeMac(request.macAddress);
  validateMtu(request.mtu);
  validateIfName(hybrid.bridgeName);
  // Building the argv checks the bridge name and the external_ids values.
  addOvsPortArgv(plug.bridgeName, names.hostIfName, ovsIds(request));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
