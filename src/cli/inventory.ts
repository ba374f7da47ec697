/**
 * The resources kuryr made in Neutron, next to the Docker networks: the shared view of
 * `kuryr status` and `kuryr gc`. Ports are those bound to this host; networks,
 * subnets and pools are those of the credentials' project.
 */
import type { Network, NeutronClient, Port, SecurityGroup, Subnet, SubnetPool } from '../neutron/index.js';
import { EXISTING_NETWORK_TAG_PREFIX, EXISTING_PORT_TAG, NETWORK_NAME_PREFIX, PORT_DEVICE_OWNER, PORT_TAG, SUBNET_NAME_PREFIX, dockerIdTags } from '../service/naming.js';
import type { DockerNetwork } from './docker.js';

const LOW_HALF_TAG = 'kuryr.net.uuid.lh:';

export interface KuryrInventory {
  /**
   * Networks carrying a Docker network id tag, made or adopted by kuryr, and
   * `kuryr-net-*` networks without any tag, which a create leaves when it
   * stops (for example in a crash) before its tag update.
   */
  networks: Network[];
  /** Subnets named `kuryr-subnet-*`. */
  subnets: Subnet[];
  /** Subnet pools named `<subnetpool_name_prefix>-*`. */
  pools: SubnetPool[];
  /** kuryr's ports bound to this host; adopted ports (`kuryr.port.existing`) are left out. */
  ports: Port[];
  /** Ids of every port bound to this host, kuryr's or not, so a tap of any existing port is kept. */
  hostPortIds: string[];
  /** Exposed-ports security groups (`kuryr-exposed-<port id>`) of the project. */
  exposedGroups: SecurityGroup[];
  /** Ids of the ports named by `exposedGroups` that still exist. */
  exposedGroupPortIds: string[];
}

/** Name prefix of the security group kuryr makes per port for exposed and published ports. */
export const EXPOSED_GROUP_PREFIX = 'kuryr-exposed-';

export interface InventoryScope {
  projectId: string | undefined;
  hostName: string;
  subnetPoolPrefix: string;
}

export async function collectInventory(neutron: NeutronClient, scope: InventoryScope): Promise<KuryrInventory> {
  const project = scope.projectId === undefined ? {} : { project_id: scope.projectId };
  const networks = (await neutron.networks.list(project)).filter(
    (network) => network.tags.some((tag) => tag.startsWith(LOW_HALF_TAG)) || (network.name.startsWith(NETWORK_NAME_PREFIX) && network.tags.length === 0),
  );
  const subnets = (await neutron.subnets.list(project)).filter((subnet) => subnet.name.startsWith(SUBNET_NAME_PREFIX));
  const pools = (await neutron.subnetpools.list(project)).filter((pool) => pool.name.startsWith(`${scope.subnetPoolPrefix}-`));
  const hostPorts = await neutron.ports.list({ 'binding:host_id': scope.hostName });
  const ports = hostPorts.filter(
    (port) => (port.device_owner === PORT_DEVICE_OWNER || port.tags.includes(PORT_TAG)) && !port.tags.includes(EXISTING_PORT_TAG),
  );
  const exposedGroups = (await neutron.securityGroups.list(project)).filter((group) => group.name.startsWith(EXPOSED_GROUP_PREFIX));
  const groupPortIds = exposedGroups.map(exposedGroupPortId);
  const exposedGroupPorts = groupPortIds.length === 0 ? [] : await neutron.ports.list({ id: groupPortIds, fields: ['id'] });
  return {
    networks,
    subnets,
    pools,
    ports,
    hostPortIds: hostPorts.map((port) => port.id),
    exposedGroups,
    exposedGroupPortIds: exposedGroupPorts.map((port) => port.id),
  };
}

/** Returns the port id in an exposed-ports group's name. */
export function exposedGroupPortId(group: Pick<SecurityGroup, 'name'>): string {
  return group.name.slice(EXPOSED_GROUP_PREFIX.length);
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
