/**
 * The state every verb handler shares: the Neutron client, the port binder,
 * the configuration and the in-memory caches. The caches only save Neutron
 * round trips, because after a restart every entry is rebuilt from Neutron tags.
 */
import type { Logger } from 'pino';
import type { PortBinder } from '../binding/index.js';
import type { NeutronClient, Port, Subnet } from '../neutron/index.js';
import type { IpVersion } from './cidr.js';
import type { ResolvedFeatures } from './feature-lookup.js';
import { KeyedMutex } from './locks.js';
import { MemoryJournal, PortReaper } from './port-reaper.js';

export interface ServiceConfig {
  /**
   * binding:host_id for every port: the L2 agent's host name, or empty in nested modes, where
   * container ports stay unbound because their traffic enters Neutron through the VM's port.
   */
  hostName: string;
  /** Name prefix of the subnet pools kuryr creates per CIDR (`kuryrPool`). */
  subnetPoolPrefix: string;
  defaultSubnetPoolV4: string;
  defaultSubnetPoolV6: string;
  enableDhcp: boolean;
  /** How long CreateEndpoint waits for the port to become ACTIVE; 0 turns the wait off. */
  portActiveTimeoutMs: number;
  portActivePollMs: number;
  /**
   * True with `capability_scope = global`. Another host's daemon may then
   * release the pools and delete the networks this daemon has cached, so
   * pool subnets are always looked up in Neutron.
   */
  globalScope?: boolean;
}

/** A pool handed to Docker by RequestPool. */
export interface PoolInfo {
  poolId: string;
  subnetPoolId: string;
  cidr: string;
  version: IpVersion;
  /** Docker's --ip-range, which becomes the subnet's allocation pool. */
  subPool: string | undefined;
  /** True for `kuryrPool-<cidr>` pools, which kuryr deletes on ReleasePool. */
  ownedByKuryr: boolean;
  /** The operator's subnet named by `--ipam-opt neutron.subnet.*`, for `subnet:<uuid>` PoolIDs. */
  existingSubnetId?: string;
}

export interface NetworkInfo {
  networkId: string;
  neutronNetworkId: string;
  projectId: string;
  mtu: number;
  subnets: Subnet[];
  /** True when the Neutron network existed before and must survive `docker network rm`. */
  adopted: boolean;
  /** True for `docker network create --internal`: containers get no default route. */
  internal: boolean;
  /** True when a swarm manager allocated the network: FreeNetwork deletes it, DeleteNetwork leaves it. */
  swarm?: boolean;
  /** The `-o neutron.*` features, read from the network's tags; undefined for an adopted network. */
  features?: ResolvedFeatures;
}

export interface EndpointInfo {
  endpointId: string;
  networkId: string;
  port: Port;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class ServiceContext {
  readonly pools = new Map<string, PoolInfo>();
  readonly networks = new Map<string, NetworkInfo>();
  readonly endpoints = new Map<string, EndpointInfo>();
  /** Ports made by RequestAddress, keyed by `<neutron network id>|<ip>`, until CreateEndpoint claims them. */
  readonly addressPorts = new Map<string, Port>();
  /** Ports known to have no exposed-ports security group, as an empty list; saves lookups on Revoke and deletion. */
  readonly exposedGroups = new Map<string, string[]>();
  readonly locks = new KeyedMutex();
  /** Deletes released ports; without one from the caller, before the release returns. */
  readonly reaper: PortReaper;

  constructor(
    readonly neutron: NeutronClient,
    readonly binder: PortBinder,
    readonly config: ServiceConfig,
    readonly logger: Logger,
    readonly clock: Clock = systemClock,
    reaper?: PortReaper,
  ) {
    this.reaper = reaper ?? new PortReaper({ neutron, journal: new MemoryJournal(), logger, clock, background: false });
  }
}

export function addressKey(neutronNetworkId: string, ip: string): string {
  return `${neutronNetworkId}|${ip}`;
}
