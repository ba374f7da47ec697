/**
 * Lab helpers for tests that create kuryr networks: the Neutron network behind
 * a Docker network, a container's addresses, and a check that a network left
 * nothing of its own in Neutron after `docker network rm`.
 */
import assert from 'node:assert/strict';
import { command, docker, dockerOk, DOCKER_HOST, eventually, neutronGet, type CommandOutput, type NeutronPort } from './lab.js';

export interface NeutronSubnet {
  id: string;
  cidr: string;
  ip_version: number;
  gateway_ip: string | null;
  allocation_pools: Array<{ start: string; end: string }>;
  subnetpool_id: string | null;
}

export interface NeutronNetworkState {
  id: string;
  tags: string[];
  subnets: NeutronSubnet[];
}

/** Runs the docker 20.10 client, which still sends --mac-address to this daemon. */
export function docker2010(...args: string[]): Promise<CommandOutput> {
  return command(['/usr/bin/docker', ...args], { DOCKER_HOST });
}

export async function createKuryrNetwork(name: string, ...args: string[]): Promise<string> {
  await dockerOk('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', ...args, name);
  return dockerOk('network', 'inspect', '-f', '{{.Id}}', name);
}

/** Finds the Neutron network (with its subnets) that carries a Docker network. */
export async function neutronNetwork(networkId: string): Promise<NeutronNetworkState> {
  const { networks } = await neutronGet<{ networks: Array<{ id: string; tags: string[] }> }>(
    `/networks?tags=kuryr.net.uuid.lh:${networkId.slice(0, 32)},kuryr.net.uuid.uh:${networkId.slice(32)}`,
  );
  assert.equal(networks.length, 1, `expected one Neutron network for Docker network ${networkId}`);
  const network = networks[0] as { id: string; tags: string[] };
  const { subnets } = await neutronGet<{ subnets: NeutronSubnet[] }>(`/subnets?network_id=${network.id}`);
  return { id: network.id, tags: network.tags, subnets };
}

export interface ContainerAddresses {
  ipv4: string[];
  ipv6: string[];
  mac: string;
  defaultRoutes: string[];
}

/** Reads eth0's global addresses, MAC and default routes inside a running container. */
export async function containerAddresses(name: string): Promise<ContainerAddresses> {
  const addresses = await dockerOk('exec', name, 'ip', '-o', 'addr', 'show', 'eth0');
  const link = await dockerOk('exec', name, 'ip', '-o', 'link', 'show', 'eth0');
  const routes4 = await dockerOk('exec', name, 'ip', 'route', 'show', 'default');
  const routes6 = await dockerOk('exec', name, 'ip', '-6', 'route', 'show', 'default');
  const ipv4 = [...addresses.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\/\d+/g)].map((match) => match[1] ?? '');
  const ipv6 = [...addresses.matchAll(/inet6 ([0-9a-f:]+)\/\d+ scope global/g)].map((match) => match[1] ?? '');
  const mac = /link\/ether ([0-9a-f:]{17})/.exec(link)?.[1] ?? '';
  const defaultRoutes = [...routes4.split('\n'), ...routes6.split('\n')].map((line) => line.trim()).filter((line) => line.startsWith('default'));
  return { ipv4, ipv6, mac, defaultRoutes };
}

/** Finds the single Neutron port on a network holding every given address. */
export async function portWithAddresses(neutronNetworkId: string, addresses: string[]): Promise<NeutronPort & { device_id: string; name: string }> {
  const { ports } = await neutronGet<{ ports: Array<NeutronPort & { device_id: string; name: string }> }>(`/ports?network_id=${neutronNetworkId}`);
  const holders = ports.filter((port) => addresses.every((ip) => port.fixed_ips.some((fixedIp) => fixedIp.ip_address === ip)));
  assert.equal(holders.length, 1, `expected one port with ${addresses.join(' and ')}, found ${holders.length}`);
  return holders[0] as NeutronPort & { device_id: string; name: string };
}

/** Waits until the Neutron network, its subnets and ports and the `kuryrPool-<cidr>` pools are gone. */
export async function assertNetworkGone(neutronNetworkId: string, cidrs: string[]): Promise<void> {
  await eventually(`Neutron network ${neutronNetworkId} and its pools to be deleted`, async () => {
    const { networks } = await neutronGet<{ networks: unknown[] }>(`/networks?id=${neutronNetworkId}`);
    const { ports } = await neutronGet<{ ports: unknown[] }>(`/ports?network_id=${neutronNetworkId}`);
    const { subnets } = await neutronGet<{ subnets: unknown[] }>(`/subnets?network_id=${neutronNetworkId}`);
    let pools = 0;
    for (const cidr of cidrs) {
      const found = await neutronGet<{ subnetpools: unknown[] }>(`/subnetpools?name=${encodeURIComponent(`kuryrPool-${cidr}`)}`);
      pools += found.subnetpools.length;
    }
    return networks.length + ports.length + subnets.length + pools === 0 ? true : undefined;
  }, 15_000);
}

export async function removeContainersAndNetworks(containers: string[], networks: string[]): Promise<void> {
  for (const name of containers) await docker('rm', '-f', name);
  for (const name of networks) await docker('network', 'rm', name);
}
