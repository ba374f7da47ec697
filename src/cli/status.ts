/** `kuryr status`: each Docker network of the kuryr driver and its endpoints, next to their Neutron resources. */
import type { DockerNetwork } from './docker.js';
import { dockerNetworkOf, hasDockerIdTags, type KuryrInventory } from './inventory.js';

export function formatStatus(docker: readonly DockerNetwork[], inventory: KuryrInventory): string {
  const lines: string[] = [];
  for (const network of docker) {
    const neutronNetwork = inventory.networks.find((candidate) => hasDockerIdTags(candidate, network.networkId));
    const neutronText = neutronNetwork === undefined ? 'MISSING in Neutron' : `neutron network ${neutronNetwork.id} (${neutronNetwork.name}, ${neutronNetwork.status})`;
    lines.push(`network ${network.name} ${network.networkId.slice(0, 12)}: ${neutronText}`);
    const subnets = inventory.subnets.filter((subnet) => subnet.network_id === neutronNetwork?.id);
    for (const subnet of subnets) lines.push(`  subnet ${subnet.cidr}: ${subnet.id}`);
    for (const endpoint of network.endpoints) {
      // A port that CreateEndpoint has not tagged yet is found by its address on the network.
      const port =
        inventory.ports.find((candidate) => hasDockerIdTags(candidate, endpoint.endpointId)) ??
        inventory.ports.find((candidate) => candidate.network_id === neutronNetwork?.id && candidate.fixed_ips.some((fixedIp) => endpoint.addresses.includes(fixedIp.ip_address)));
      const portText = port === undefined ? 'MISSING in Neutron (or bound to another host)' : `port ${port.id} ${port.status} tap${port.id.slice(0, 11)}`;
      lines.push(`  endpoint ${endpoint.endpointId.slice(0, 12)} ${endpoint.containerName} ${endpoint.addresses.join(' ')}: ${portText}`);
    }
  }
  const orphans = inventory.networks.filter((network) => dockerNetworkOf(network, docker) === undefined);
  for (const network of orphans) lines.push(`neutron network ${network.id} (${network.name}): no Docker network on this host`);
  if (lines.length === 0) lines.push('no kuryr networks in Docker or Neutron');
  return `${lines.join('\n')}\n`;
}
