/**
 * `kuryr gc`: finds what kuryr created in Neutron and on this host that no
 * Docker network or endpoint uses any more, and deletes it with `--apply`.
 * Resources kuryr did not create are never candidates: adopted networks keep
 * their network, adopted ports and pools not named `<prefix>-*` are skipped.
 *
 * NOTE: a port that RequestAddress made is untagged until CreateEndpoint runs,
 * and a pool that RequestPool made has no subnet until CreateNetwork runs, so
 * `--apply` while a container or network is being created can delete them.
 */
import type { NeutronClient } from '../neutron/index.js';
import { isNeutronNotFound } from '../neutron/index.js';
import type { DockerNetwork } from './docker.js';
import { dockerNetworkOf, exposedGroupPortId, isAdopted, portHasDockerEndpoint, type KuryrInventory } from './inventory.js';

export type LeftoverKind = 'port' | 'tap' | 'security-group' | 'subnet' | 'network' | 'pool';

export interface Leftover {
  kind: LeftoverKind;
  /** Neutron id, or the device name of a tap. */
  id: string;
  description: string;
  /** True for networks, their subnets and pools, which another Docker host may still use. */
  shared: boolean;
}

/** A veth on this host named `tap<port id[0:11]>`. */
export interface TapDevice {
  ifName: string;
}

/** Lists the leftovers in deletion order: ports, taps, security groups, subnets, networks, pools. */
export function planGc(inventory: KuryrInventory, docker: readonly DockerNetwork[], taps: readonly TapDevice[]): Leftover[] {
  const leftovers: Leftover[] = [];
  const orphanPorts = inventory.ports.filter((port) => !portHasDockerEndpoint(port, inventory.networks, docker));
  for (const port of orphanPorts) {
    const addresses = port.fixed_ips.map((fixedIp) => fixedIp.ip_address).join(', ');
    leftovers.push({ kind: 'port', id: port.id, description: `port ${port.id} (${addresses} on network ${port.network_id}) has no Docker endpoint`, shared: false });
  }

  const orphanPortIds = new Set(orphanPorts.map((port) => port.id));
  const livePortPrefixes = new Set(inventory.hostPortIds.filter((id) => !orphanPortIds.has(id)).map((id) => id.slice(0, 11)));
  for (const tap of taps) {
    if (livePortPrefixes.has(tap.ifName.slice(3))) continue;
    leftovers.push({ kind: 'tap', id: tap.ifName, description: `veth ${tap.ifName} belongs to no port bound to this host`, shared: false });
  }

  // A group is a leftover when its port no longer exists or is deleted in
  // this run. kuryr deletes the group with its port, so only a crash in
  // between leaves one.
  const existingGroupPorts = new Set(inventory.exposedGroupPortIds.filter((id) => !orphanPortIds.has(id)));
  for (const group of inventory.exposedGroups) {
    if (existingGroupPorts.has(exposedGroupPortId(group))) continue;
    leftovers.push({ kind: 'security-group', id: group.id, description: `security group ${group.id} (${group.name}) belongs to no existing port`, shared: false });
  }

  const orphanNetworks = inventory.networks.filter((network) => dockerNetworkOf(network, docker) === undefined);
  const orphanNetworkIds = new Set(orphanNetworks.map((network) => network.id));
  const orphanSubnets = inventory.subnets.filter((subnet) => orphanNetworkIds.has(subnet.network_id));
  for (const subnet of orphanSubnets) {
    leftovers.push({ kind: 'subnet', id: subnet.id, description: `subnet ${subnet.id} (${subnet.name}) is on a network with no Docker network`, shared: true });
  }
  for (const network of orphanNetworks) {
    if (isAdopted(network)) continue;
    leftovers.push({ kind: 'network', id: network.id, description: `network ${network.id} (${network.name}) has no Docker network`, shared: true });
  }

  const orphanSubnetIds = new Set(orphanSubnets.map((subnet) => subnet.id));
  const usedPoolIds = new Set(inventory.subnets.filter((subnet) => !orphanSubnetIds.has(subnet.id)).map((subnet) => subnet.subnetpool_id));
  const dockerSubnets = new Set(docker.flatMap((network) => network.subnets));
  for (const pool of inventory.pools) {
    if (usedPoolIds.has(pool.id) || pool.prefixes.some((prefix) => dockerSubnets.has(prefix))) continue;
    leftovers.push({ kind: 'pool', id: pool.id, description: `subnet pool ${pool.id} (${pool.name}) has no subnet and no Docker network`, shared: true });
  }
  return leftovers;
}

export interface GcDeleter {
  neutron: NeutronClient;
  deleteLink(ifName: string): Promise<void>;
}

/** Deletes `leftovers` in order; a resource already gone counts as deleted, because another gc or the daemon may have removed it. */
export async function applyGc(leftovers: readonly Leftover[], deleter: GcDeleter, report: (line: string) => void): Promise<number> {
  let failures = 0;
  for (const leftover of leftovers) {
    try {
      await deleteLeftover(leftover, deleter);
      report(`deleted ${leftover.kind} ${leftover.id}`);
    } catch (error) {
      if (isNeutronNotFound(error)) {
        report(`deleted ${leftover.kind} ${leftover.id} (already gone)`);
        continue;
      }
      failures += 1;
      report(`failed to delete ${leftover.kind} ${leftover.id}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return failures;
}

async function deleteLeftover(leftover: Leftover, deleter: GcDeleter): Promise<void> {
  switch (leftover.kind) {
    case 'port':
      return deleter.neutron.ports.delete(leftover.id);
    case 'tap':
      return deleter.deleteLink(leftover.id);
    case 'security-group':
      return deleter.neutron.securityGroups.delete(leftover.id);
    case 'subnet':
      return deleter.neutron.subnets.delete(leftover.id);
    case 'network':
      return deleter.neutron.networks.delete(leftover.id);
    case 'pool':
      return deleter.neutron.subnetpools.delete(leftover.id);
  }
}
