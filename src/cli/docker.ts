/**
 * A small read-only client of the Docker Engine API over its unix socket
 * (DOCKER_HOST=unix://..., else /var/run/docker.sock), for `kuryr status`
 * and `kuryr gc`. Only GET requests are sent.
 */
import { request } from 'node:http';
import { z } from 'zod';
import { KuryrError } from '../errors.js';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

const networkSummary = z.looseObject({ Id: z.string(), Name: z.string(), Driver: z.string() });
const networkDetail = z.looseObject({
  Id: z.string(),
  Name: z.string(),
  Driver: z.string(),
  IPAM: z.looseObject({ Driver: z.string(), Config: z.array(z.looseObject({ Subnet: z.string().optional() })).nullish() }).optional(),
  Containers: z
    .record(z.string(), z.looseObject({ Name: z.string(), EndpointID: z.string(), MacAddress: z.string(), IPv4Address: z.string(), IPv6Address: z.string() }))
    .nullish(),
});

export interface DockerEndpoint {
  endpointId: string;
  containerId: string;
  containerName: string;
  macAddress: string;
  /** Addresses without the prefix length. */
  addresses: string[];
}

export interface DockerNetwork {
  networkId: string;
  name: string;
  driver: string;
  subnets: string[];
  endpoints: DockerEndpoint[];
}

/** Returns the unix socket path of DOCKER_HOST, or the default; other schemes are rejected. */
export function dockerSocketPath(dockerHost: string | undefined): string {
  if (dockerHost === undefined || dockerHost === '') return DEFAULT_DOCKER_SOCKET;
  if (dockerHost.startsWith('unix://')) return dockerHost.slice('unix://'.length);
  throw new KuryrError('CONFIG_INVALID', `unsupported DOCKER_HOST "${dockerHost}": kuryr reads Docker through a unix socket such as unix:///var/run/docker.sock`);
}

export class DockerClient {
  constructor(readonly socketPath: string) {}

  /** Lists the networks whose driver is `driver` (kuryr, or a managed plugin such as kuryr/libnetwork2:latest), with their endpoints. */
  async listNetworks(driver: string): Promise<DockerNetwork[]> {
    const summaries = z.array(networkSummary).parse(await this.#get('/networks'));
    const ours = summaries.filter((network) => network.Driver === driver);
    const networks: DockerNetwork[] = [];
    for (const summary of ours) {
      const detail = networkDetail.parse(await this.#get(`/networks/${encodeURIComponent(summary.Id)}`));
      networks.push({
        networkId: detail.Id,
        name: detail.Name,
        driver: detail.Driver,
        subnets: (detail.IPAM?.Config ?? []).flatMap((config) => (config.Subnet === undefined ? [] : [config.Subnet])),
        endpoints: Object.entries(detail.Containers ?? {}).map(([containerId, container]) => ({
          endpointId: container.EndpointID,
          containerId,
          containerName: container.Name,
          macAddress: container.MacAddress,
          addresses: [container.IPv4Address, container.IPv6Address].filter((address) => address !== '').map((address) => address.split('/')[0] ?? address),
        })),
      });
    }
    return networks;
  }

  #get(path: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const call = request({ socketPath: this.socketPath, path, method: 'GET', headers: { Host: 'docker' }, timeout: 10_000 }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          if (response.statusCode !== 200) {
            reject(new KuryrError('INTERNAL', `Docker API GET ${path} on "${this.socketPath}" returned HTTP ${response.statusCode ?? 0}: ${body.trim()}`));
            return;
          }
          try {
            resolve(JSON.parse(body));
          } catch (error) {
            reject(new KuryrError('INTERNAL', `Docker API GET ${path} returned invalid JSON: ${(error as Error).message}`));
          }
        });
      });
      call.on('timeout', () => call.destroy(new Error('no reply within 10 s')));
      call.on('error', (error) => {
        reject(new KuryrError('INTERNAL', `cannot reach Docker at "${this.socketPath}": ${error.message}: set DOCKER_HOST=unix:///path/to/docker.sock`, { cause: error }));
      });
      call.end();
    });
  }
}
