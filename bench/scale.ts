/**
 * Filler resources for the scale rounds of `npm run bench`: networks, and
 * ports spread over them, created in bulk as the lab admin. kuryr's service
 * user has the admin role, so its list calls see them all. The ports have no
 * addresses and the networks no subnets, which keeps the set-up within
 * minutes on the lab (a port with an address took about 0.4 s on the lab, one without 0.1 s).
 */
import { keystoneGet, neutronGet, neutronSend } from '../test/support/lab.js';

export const FILLER_PREFIX = 'bench-filler-';
const BATCH = 100;
const PARALLEL_DELETES = 4;

export interface FillerCounts {
  networks: number;
  ports: number;
}

/**
 * Lifts the admin project's network and port quotas (100 and 500 by
 * default), and returns the function that restores them.
 */
export async function liftAdminQuotas(): Promise<() => Promise<void>> {
  const { projects } = await keystoneGet<{ projects: Array<{ id: string }> }>('/projects?name=admin');
  const projectId = projects[0]?.id;
  if (projectId === undefined) throw new Error('the lab has no admin project');
  const before = await neutronGet<{ quota: { network: number; port: number } }>(`/quotas/${projectId}`);
  await neutronSend('PUT', `/quotas/${projectId}`, { quota: { network: -1, port: -1 } });
  return async () => {
    await neutronSend('PUT', `/quotas/${projectId}`, { quota: { network: before.quota.network, port: before.quota.port } });
  };
}

/** Creates `counts.networks` networks and `counts.ports` ports spread over them, as the lab admin. */
export async function createFiller(counts: FillerCounts): Promise<void> {
  const networkIds: string[] = [];
  for (let start = 0; start < counts.networks; start += BATCH) {
    const size = Math.min(BATCH, counts.networks - start);
    const networks = Array.from({ length: size }, (_, offset) => ({ name: `${FILLER_PREFIX}${start + offset}` }));
    const reply = await neutronSend<{ networks: Array<{ id: string }> }>('POST', '/networks', { networks });
    networkIds.push(...(reply?.networks ?? []).map((network) => network.id));
  }

  for (let start = 0; start < counts.ports; start += BATCH) {
    const size = Math.min(BATCH, counts.ports - start);
    const ports = Array.from({ length: size }, (_, offset) => ({
      network_id: networkIds[(start + offset) % networkIds.length],
      name: `${FILLER_PREFIX}${start + offset}`,
    }));
    await neutronSend('POST', '/ports', { ports });
  }
}

/** Deletes every filler port, then every filler network, and returns how many resources went. */
export async function deleteFiller(): Promise<number> {
  const { ports } = await neutronGet<{ ports: Array<{ id: string; name: string }> }>('/ports?fields=id&fields=name');
  const { networks } = await neutronGet<{ networks: Array<{ id: string; name: string }> }>('/networks?fields=id&fields=name');
  const fillerPorts = ports.filter((port) => port.name.startsWith(FILLER_PREFIX)).map((port) => `/ports/${port.id}`);
  const fillerNetworks = networks.filter((network) => network.name.startsWith(FILLER_PREFIX)).map((network) => `/networks/${network.id}`);
  await deleteAll(fillerPorts);
  await deleteAll(fillerNetworks);
  return fillerPorts.length + fillerNetworks.length;
}

/** Deletes the resources at `paths`, a few at a time: faster than one after another, without flooding the lab's Neutron. */
async function deleteAll(paths: string[]): Promise<void> {
  const queue = [...paths];
  const worker = async (): Promise<void> => {
    for (let path = queue.shift(); path !== undefined; path = queue.shift()) await neutronSend('DELETE', path);
  };
  await Promise.all(Array.from({ length: PARALLEL_DELETES }, worker));
}
