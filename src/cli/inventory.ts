/**
 * The resources kuryr made in Neutron, next to the Docker networks: the shared view of
 * `kuryr status` and `kuryr gc`. Ports are those bound to this host; networks,
 * subnets and pools are those of the credentials' project.
 */
import type { Network, NeutronClient, Port, Subnet, SubnetPool } from '../neutron/index.js';
import { EXISTING_NETWORK_TAG_PREFIX, EXISTING_PORT_TAG, PORT_DEVICE_OWNER, PORT_TAG, SUBNET_NAME_PREFIX, dockerIdTags } from '../service/naming.js';
import type { DockerNetwork } from './docker.js';

const LOW_HALF_TAG = 'kuryr.net.uuid.lh:';

export interface KuryrInventory {
  /** Networks carrying a Docker network id tag, made or adopted by kuryr. */
  networks: Network[];
  /** Subnets named `kuryr-subnet-*`. */
  subnets: Subnet[];
  /** Subnet pools named `<subnetpool_name_prefix>-*`. */
  pools: SubnetPool[];
  /** kuryr's ports bound to this host; adopted ports (`kuryr.port.existing`) are left out. */
  ports: Port[];
  /** Ids of every port bound to this host, kuryr's or not, so a tap of any existing port is kept. */
  hostPortIds: string[];
}

export interface InventoryScope {
  projectId: string | undefined;
  hostName: string;
  subnetPoolPrefix: string;
}

export async function collectInventory(neutron: NeutronClient, scope: InventoryScope): Promise<KuryrInventory> {
  const project = scope.projectId === undefined ? {} : { project_id: scope.projectId };
  const networks = (await neutron.networks.list(project)).filter((network) => network.tags.some((tag) => tag.startsWith(LOW_HALF_TAG)));
  const subnets = (await neutron.subnets.list(project)).filter((subnet) => subnet.name.startsWith(SUBNET_NAME_PREFIX));
  const pools = (await neutron.subnetpools.list(project)).filter((pool) => pool.name.startsWith(`${scope.subnetPoolPrefix}-`));
  const hostPorts = await neutron.ports.list({ 'binding:host_id': scope.hostName });
  const ports = hostPorts.filter(
    (port) => (port.device_owner === PORT_DEVICE_OWNER || port.tags.includes(PORT_TAG)) && !port.tags.includes(EXISTING_PORT_TAG),
  );
  return { networks, subnets, pools, ports, hostPortIds: hostPorts.map((port) => port.id) };
}

/** Returns true when `resource` carries the id tags of `dockerId`. */
export function hasDockerIdTags(resource: { tags: readonly string[] }, dockerId: string): boolean {
  return dockerIdTags(dockerId).every((tag) => resource.tags.includes(tag));
}

/** Returns true when kuryr adopted the network (it existed before) rather than created it. */
export function isAdopted(network: Network): boolean {
  return network.tags.some((tag) => tag.startsWith(EXISTING_NETWORK_TAG_PREFIX));
}

/** Returns the Docker network whose id tags `network` carries. */
export function dockerNetworkOf(network: Network, docker: readonly DockerNetwork[]): DockerNetwork | undefined {
  return docker.find((candidate) => hasDockerIdTags(network, candidate.networkId));
}

/**
 * Returns true when Docker still has an endpoint for `port`: one whose id
 * tags the port carries, or, for a port that RequestAddress made before
 * CreateEndpoint tagged it, one with the port's address on its network.
 */
export function portHasDockerEndpoint(port: Port, networks: readonly Network[], docker: readonly DockerNetwork[]): boolean {
  const endpoints = docker.flatMap((network) => network.endpoints);
  if (endpoints.some((endpoint) => hasDockerIdTags(port, endpoint.endpointId))) return true;

  const network = networks.find((candidate) => candidate.id === port.network_id);
  const dockerNetwork = network === undefined ? undefined : dockerNetworkOf(network, docker);
  if (dockerNetwork === undefined) return false;
  const addresses = new Set(dockerNetwork.endpoints.flatMap((endpoint) => endpoint.addresses));
  return port.fixed_ips.some((fixedIp) => addresses.has(fixedIp.ip_address));
}
