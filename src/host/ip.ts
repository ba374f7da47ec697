import { z } from 'zod';
import { CommandError, KuryrError } from '../errors.js';
import type { CommandResult, CommandRunner } from './runner.js';
import { normalizeMac, validateIfName, validateMtu } from './validate.js';

// Pure argv builders for iproute2. Each validates its values before building anything.

export function addVethPairArgv(hostIfName: string, peerIfName: string): string[] {
  validateIfName(hostIfName);
  validateIfName(peerIfName);
  return ['ip', 'link', 'add', hostIfName, 'type', 'veth', 'peer', 'name', peerIfName];
}

export function setMtuArgv(ifName: string, mtu: number): string[] {
  validateIfName(ifName);
  validateMtu(mtu);
  return ['ip', 'link', 'set', 'dev', ifName, 'mtu', String(mtu)];
}

export function setAddressArgv(ifName: string, mac: string): string[] {
  validateIfName(ifName);
  return ['ip', 'link', 'set', 'dev', ifName, 'address', normalizeMac(mac)];
}

export function setUpArgv(ifName: string): string[] {
  validateIfName(ifName);
  return ['ip', 'link', 'set', 'dev', ifName, 'up'];
}

/**
 * Builds the argv that adds a Linux bridge with STP off and a forward delay of 0, as Neutron's
 * hybrid-plug `qbr` bridges are set up, so a port that joins the bridge forwards at once.
 */
export function addBridgeArgv(bridgeName: string): string[] {
  validateIfName(bridgeName);
  return ['ip', 'link', 'add', bridgeName, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0'];
}

export function setMasterArgv(ifName: string, bridgeName: string): string[] {
  validateIfName(ifName);
  validateIfName(bridgeName);
  return ['ip', 'link', 'set', 'dev', ifName, 'master', bridgeName];
}

export function deleteLinkArgv(ifName: string): string[] {
  validateIfName(ifName);
  return ['ip', 'link', 'delete', 'dev', ifName];
}

/** With `details`, the output also carries `linkinfo.info_kind` (veth, bridge, ...). */
export function showLinkArgv(ifName: string, options: { details?: boolean } = {}): string[] {
  validateIfName(ifName);
  const detailsFlag = options.details === true ? ['-details'] : [];
  return ['ip', '-json', ...detailsFlag, 'link', 'show', 'dev', ifName];
}

export function listLinksArgv(): string[] {
  return ['ip', '-json', 'link', 'show'];
}

/** One link as `ip -json link show` describes it. */
export interface LinkInfo {
  ifName: string;
  ifIndex: number;
  mtu: number;
  /** Link-layer address in lowercase, absent for link types without one. */
  address: string | undefined;
  /** Interface flags such as `UP`, `LOWER_UP`, `BROADCAST`. */
  flags: string[];
  /** Whether the link is administratively up (the `UP` flag), whatever its carrier state. */
  isUp: boolean;
  operState: string | undefined;
  /**
   * The peer of a veth, or the parent of a vlan or macvlan, when that link is in the same network
   * namespace. A veth whose peer was moved to another namespace has none.
   */
  link: string | undefined;
  /** Link kind (`veth`, `bridge`, ...), set only by `showLink` because only it requests details. */
  kind: string | undefined;
}

const linkSchema = z.object({
  ifindex: z.number().int(),
  ifname: z.string(),
  flags: z.array(z.string()),
  mtu: z.number().int(),
  operstate: z.string().optional(),
  address: z.string().optional(),
  link: z.string().nullable().optional(),
  linkinfo: z.object({ info_kind: z.string().optional() }).optional(),
});
const linkListSchema = z.array(linkSchema);

// `ip link show dev X` writes 'Device "X" does not exist.' and `ip link delete dev X` writes
// 'Cannot find device "X"' (iproute2 6.1); both exit 1.
const MISSING_DEVICE = /does not exist|Cannot find device/;

/** A typed wrapper over `ip link` that runs the builders above through a command runner. */
export class IpLink {
  readonly #runner: CommandRunner;

  constructor(runner: CommandRunner) {
    this.#runner = runner;
  }

  async addVethPair(hostIfName: string, peerIfName: string): Promise<void> {
    await this.#runner.run(addVethPairArgv(hostIfName, peerIfName));
  }

  async setMtu(ifName: string, mtu: number): Promise<void> {
    await this.#runner.run(setMtuArgv(ifName, mtu));
  }

  async setAddress(ifName: string, mac: string): Promise<void> {
    await this.#runner.run(setAddressArgv(ifName, mac));
  }

  async setUp(ifName: string): Promise<void> {
    await this.#runner.run(setUpArgv(ifName));
  }

  async addBridge(bridgeName: string): Promise<void> {
    await this.#runner.run(addBridgeArgv(bridgeName));
  }

  async setMaster(ifName: string, bridgeName: string): Promise<void> {
    await this.#runner.run(setMasterArgv(ifName, bridgeName));
  }

  /** Deletes the link and returns false when it did not exist. Other failures throw `CommandError`. */
  async deleteLink(ifName: string): Promise<boolean> {
    const argv = deleteLinkArgv(ifName);
    const result = await this.#runner.run(argv, { allowFailure: true });
    return succeededOrMissing(argv, result);
  }

  async linkExists(ifName: string): Promise<boolean> {
    const argv = showLinkArgv(ifName);
    const result = await this.#runner.run(argv, { allowFailure: true });
    return succeededOrMissing(argv, result);
  }

  /** Returns the link with its kind, or undefined when no link has that name. */
  async showLink(ifName: string): Promise<LinkInfo | undefined> {
    const argv = showLinkArgv(ifName, { details: true });
    const result = await this.#runner.run(argv, { allowFailure: true });
    if (!succeededOrMissing(argv, result)) return undefined;

    const links = parseLinks(argv, result.stdout);
    return links.find((link) => link.ifName === ifName);
  }

  /** Lists the links whose name starts with `prefix`, or all links when the prefix is empty. */
  async listLinks(prefix = ''): Promise<LinkInfo[]> {
    const argv = listLinksArgv();
    const result = await this.#runner.run(argv);
    return parseLinks(argv, result.stdout).filter((link) => link.ifName.startsWith(prefix));
  }
}

/** Returns true on exit 0 and false when the device is missing. Any other failure throws `CommandError`. */
function succeededOrMissing(argv: readonly string[], result: CommandResult): boolean {
  if (result.exitCode === 0) return true;
  if (MISSING_DEVICE.test(result.stderr)) return false;
  throw new CommandError(argv, result.exitCode, result.stderr);
}

function parseLinks(argv: readonly string[], stdout: string): LinkInfo[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch (error) {
    throw unparsableOutput(argv, error);
  }
  const checked = linkListSchema.safeParse(parsed);
  if (!checked.success) throw unparsableOutput(argv, checked.error);

  return checked.data.map((raw) => ({
    ifName: raw.ifname,
    ifIndex: raw.ifindex,
    mtu: raw.mtu,
    address: raw.address?.toLowerCase(),
    flags: raw.flags,
    isUp: raw.flags.includes('UP'),
    operState: raw.operstate,
    link: raw.link ?? undefined,
    kind: raw.linkinfo?.info_kind,
  }));
}

function unparsableOutput(argv: readonly string[], cause: unknown): KuryrError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new KuryrError('COMMAND_FAILED', `cannot parse the JSON output of "${argv.join(' ')}": ${detail}`, { cause });
}
