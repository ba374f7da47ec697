/**
 * Filler resources for the scale rounds of `npm run bench`: networks, each
 * with one subnet, and ports spread over them, created in bulk as the lab
 * admin. kuryr's service user has the admin role, so its list calls see
 * them all. The filler ports use device_owner `network:dhcp`, which Neutron
 * deletes together with the network, so clean-up is one delete per network.
 */
import { neutronGet, neutronSend } from '../test/support/lab.js';

export const FILLER_PREFIX = 'bench-filler-';
const BATCH = 100;

export interface FillerCounts {
  networks: number;
  ports: number;
}

/** Creates `counts.networks` networks with a /24 subnet each and `counts.ports` ports spread over them. */
export async function createFiller(counts: FillerCounts): Promise<void> {
  const networkIds: string[] = [];
  for (let start = 0; start < counts.networks; start += BATCH) {
    const size = Math.min(BATCH, counts.networks - start);
    const networks = Array.from({ length: size }, (_, offset) => ({ name: `${FILLER_PREFIX}${start + offset}` }));
    const reply = await neutronSend<{ networks: Array<{ id: string }> }>('POST', '/networks', { networks });
    networkIds.push(...(reply?.networks ?? []).map((network) => network.id));

    const subnets = (reply?.networks ?? []).map((network, offset) => ({
      network_id: network.id,
      name: `${FILLER_PREFIX}${start + offset}`,
      ip_version: 4,
      cidr: fillerCidr(start + offset),
      enable_dhcp: false,
    }));
    await neutronSend('POST', '/subnets', { subnets });
  }

  for (let start = 0; start < counts.ports; start += BATCH) {
    const size = Math.min(BATCH, counts.ports - start);
    const ports = Array.from({ length: size }, (_, offset) => ({
      network_id: networkIds[(start + offset) % networkIds.length],
      name: `${FILLER_PREFIX}${start + offset}`,
      device_owner: 'network:dhcp',
    }));
    await neutronSend('POST', '/ports', { ports });
  }
}

/** Deletes every filler network, and Neutron deletes its subnet and ports with it. */
export async function deleteFiller(): Promise<number> {
  const { networks } = await neutronGet<{ networks: Array<{ id: string; name: string }> }>('/networks?fields=id&fields=name');
  const fillers = networks.filter((network) => network.name.startsWith(FILLER_PREFIX));
  const queue = [...fillers];
  // Four deletes at a time: faster than one after another, without flooding the lab's Neutron.
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let network = queue.shift(); network !== undefined; network = queue.shift()) {
        await neutronSend('DELETE', `/networks/${network.id}`);
      }
    }),
  );
  return fillers.length;
}

/** Returns the i-th /24 in 172.16.0.0/12, away from the lab's 10.0.0.0/8 test ranges. */
function fillerCidr(index: number): string {
  return `172.${16 + Math.floor(index / 256)}.${index % 256}.0/24`;
}
