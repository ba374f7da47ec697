/**
 * Neutron features for containers on the lab. Security groups, port security
 * and allowed address pairs are checked with real traffic through the
 * linuxbridge agent's iptables. QoS, SNAT and floating IPs are checked at the
 * API level, because the lab has no L3 agent. The OverQuota and FWaaS errors
 * are checked as docker shows them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { docker, dockerOk, eventually, keystoneGet, neutronGet, neutronSend, type NeutronPort } from '../support/lab.js';

const SG_NETWORK = 'feat-sg';
const PS_NETWORK = 'feat-ps';
const NOPS_NETWORK = 'feat-nops';
const NAT_NETWORK = 'feat-nat';
const NETWORKS = [SG_NETWORK, PS_NETWORK, NOPS_NETWORK, NAT_NETWORK, 'feat-internal-nat', 'feat-fw', 'feat-bad'];
const CONTAINERS = ['feat-sg-a', 'feat-sg-b', 'feat-sg-exposed', 'feat-ps-rx', 'feat-ps-off', 'feat-ps-on', 'feat-ps-pair', 'feat-nops-c', 'feat-nat-c', 'feat-nat-quota', 'feat-fw-c'];

/** Only default egress rules: nothing may come in. */
const CLOSED_GROUP = 'feat-e2e-closed';
/** ICMP from anywhere in the 10.66/10.67 test networks. */
const ICMP_GROUP = 'feat-e2e-icmp';
const QOS_POLICY = 'feat-e2e-qos';
const EXTERNAL_NETWORK = 'feat-e2e-ext';
const ROUTER = 'feat-e2e-router';

interface NeutronFloatingIp {
  id: string;
  port_id: string | null;
  fixed_ip_address: string | null;
  floating_network_id: string;
}

interface FeaturePort extends NeutronPort {
  port_security_enabled: boolean;
  qos_policy_id: string | null;
  allowed_address_pairs: Array<{ ip_address: string }>;
}

const ids = { project: '', closedGroup: '', icmpGroup: '', qosPolicy: '', externalNetwork: '', externalSubnet: '', router: '' };

async function containerIp(name: string, network: string): Promise<string> {
  return dockerOk('inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, name);
}

async function portWithAddress(ip: string): Promise<FeaturePort> {
  const { ports } = await neutronGet<{ ports: FeaturePort[] }>(`/ports?fixed_ips=ip_address%3D${ip}&device_owner=kuryr%3Acontainer`);
  assert.equal(ports.length, 1, `expected one kuryr port with ${ip}, found ${ports.length}`);
  return ports[0] as FeaturePort;
}

async function createNetwork(name: string, cidr: string, ...options: string[]): Promise<void> {
  await dockerOk('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--subnet', cidr, ...options.flatMap((option) => ['-o', option]), name);
}

/** Creates a stopped container, connects it with driver options, then starts it, so its only network is `network`. */
async function startConnected(name: string, network: string, driverOptions: string[], ...createArgs: string[]): Promise<void> {
  await dockerOk('create', '--network', network, '--name', name, ...createArgs, 'busybox', 'sleep', '600');
  if (driverOptions.length > 0) {
    // Reconnecting replaces the endpoint settings, so the driver options reach CreateEndpoint at start.
    await dockerOk('network', 'disconnect', network, name);
    await dockerOk('network', 'connect', ...driverOptions.flatMap((option) => ['--driver-opt', option]), network, name);
  }
  await dockerOk('start', name);
}

async function ping(from: string, target: string, source?: string): Promise<boolean> {
  const args = source === undefined ? [] : ['-I', source];
  return (await docker('exec', from, 'ping', '-c', '1', '-W', '2', ...args, target)).code === 0;
}

async function pingsEventually(from: string, target: string, source?: string): Promise<void> {
  await eventually(`ping from ${from} to ${target}`, async () => ((await ping(from, target, source)) ? true : undefined), 60_000);
}

async function assertBlocked(from: string, target: string, source?: string): Promise<void> {
  assert.equal(await ping(from, target, source), false, `first ping from ${from} to ${target} must be blocked`);
  assert.equal(await ping(from, target, source), false, `second ping from ${from} to ${target} must be blocked`);
}

async function dockerError(...args: string[]): Promise<string> {
  const output = await docker(...args);
  assert.notEqual(output.code, 0, `docker ${args.join(' ')} must fail`);
  return output.stderr;
}

async function ignoreFailure(step: () => Promise<unknown>): Promise<void> {
  try {
    await step();
  } catch {
    // Cleanup of something that may not exist.
  }
}

async function deleteNamed(collection: string, path: string, name: string): Promise<void> {
  const reply = await neutronGet<Record<string, Array<{ id: string }>>>(`/${path}?name=${name}`);
  for (const item of reply[collection] ?? []) await ignoreFailure(() => neutronSend('DELETE', `/${path}/${item.id}`));
}

async function removeLeftovers(): Promise<void> {
  for (const name of CONTAINERS) await docker('rm', '-f', name);
  for (const name of NETWORKS) await docker('network', 'rm', name);
  const { routers } = await neutronGet<{ routers: Array<{ id: string }> }>(`/routers?name=${ROUTER}`);
  for (const router of routers) {
    await ignoreFailure(() => neutronSend('PUT', `/routers/${router.id}`, { router: { external_gateway_info: null } }));
    await ignoreFailure(() => neutronSend('DELETE', `/routers/${router.id}`));
  }
  await deleteNamed('networks', 'networks', EXTERNAL_NETWORK);
  await deleteNamed('security_groups', 'security-groups', CLOSED_GROUP);
  await deleteNamed('security_groups', 'security-groups', ICMP_GROUP);
  await deleteNamed('policies', 'qos/policies', QOS_POLICY);
}

async function createFixtures(): Promise<void> {
  const { projects } = await keystoneGet<{ projects: Array<{ id: string }> }>('/projects?name=service');
  ids.project = projects[0]?.id ?? '';
  assert.notEqual(ids.project, '', 'the lab has a service project, where kuryr creates its resources');

  // The groups belong to kuryr's project, because Neutron puts only a project's own groups on its ports.
  const closed = await neutronSend<{ security_group: { id: string } }>('POST', '/security-groups', { security_group: { name: CLOSED_GROUP, project_id: ids.project } });
  ids.closedGroup = closed?.security_group.id ?? '';
  const icmp = await neutronSend<{ security_group: { id: string } }>('POST', '/security-groups', { security_group: { name: ICMP_GROUP, project_id: ids.project } });
  ids.icmpGroup = icmp?.security_group.id ?? '';
  for (const prefix of ['10.66.0.0/24', '10.67.0.0/24']) {
    await neutronSend('POST', '/security-group-rules', {
      security_group_rule: { security_group_id: ids.icmpGroup, direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', remote_ip_prefix: prefix, project_id: ids.project },
    });
  }
  const qos = await neutronSend<{ policy: { id: string } }>('POST', '/qos/policies', { policy: { name: QOS_POLICY, project_id: ids.project } });
  ids.qosPolicy = qos?.policy.id ?? '';

  // A VXLAN external network avoids the lab's one flat physical network.
  const external = await neutronSend<{ network: { id: string } }>('POST', '/networks', { network: { name: EXTERNAL_NETWORK, 'router:external': true } });
  ids.externalNetwork = external?.network.id ?? '';
  const subnet = await neutronSend<{ subnet: { id: string } }>('POST', '/subnets', {
    subnet: { network_id: ids.externalNetwork, ip_version: 4, cidr: '10.69.0.0/24', enable_dhcp: false, name: `${EXTERNAL_NETWORK}-subnet` },
  });
  ids.externalSubnet = subnet?.subnet.id ?? '';
  const router = await neutronSend<{ router: { id: string } }>('POST', '/routers', {
    router: { name: ROUTER, project_id: ids.project, external_gateway_info: { network_id: ids.externalNetwork } },
  });
  ids.router = router?.router.id ?? '';
}

async function floatingIpsOf(portId: string): Promise<NeutronFloatingIp[]> {
  return (await neutronGet<{ floatingips: NeutronFloatingIp[] }>(`/floatingips?port_id=${portId}`)).floatingips;
}

async function routerInterfaces(): Promise<Array<{ fixed_ips: Array<{ subnet_id: string; ip_address: string }> }>> {
  const { ports } = await neutronGet<{ ports: Array<{ fixed_ips: Array<{ subnet_id: string; ip_address: string }> }> }>(
    `/ports?device_id=${ids.router}&device_owner=network%3Arouter_interface`,
  );
  return ports;
}

describe('neutron features', { timeout: 600_000 }, () => {
  before(async () => {
    await removeLeftovers();
    await createFixtures();
  });
  after(removeLeftovers);

  it('applies network and endpoint groups', async () => {
    await createNetwork(SG_NETWORK, '10.66.0.0/24', `neutron.security_groups=${CLOSED_GROUP}`, 'neutron.security_groups.mode=replace');
    await startConnected('feat-sg-a', SG_NETWORK, []);
    await startConnected('feat-sg-b', SG_NETWORK, [`neutron.security_groups=${ids.icmpGroup}`, `neutron.qos_policy=${QOS_POLICY}`]);
    const ipA = await containerIp('feat-sg-a', SG_NETWORK);
    const ipB = await containerIp('feat-sg-b', SG_NETWORK);

    const portA = await portWithAddress(ipA);
    const portB = await portWithAddress(ipB);
    assert.deepEqual(portA.security_groups, [ids.closedGroup], 'the network replaces the default group');
    assert.deepEqual([...portB.security_groups].sort(), [ids.closedGroup, ids.icmpGroup].sort(), 'the endpoint adds its group');
    assert.equal(portB.qos_policy_id, ids.qosPolicy, 'the endpoint has its QoS policy');
    assert.equal(portA.qos_policy_id, null, 'the other port has none');

    await pingsEventually('feat-sg-a', ipB);
    await assertBlocked('feat-sg-b', ipA);
  });

  it('keeps exposed-ports group with replace', async () => {
    await dockerOk('run', '-d', '--network', SG_NETWORK, '--expose', '8080', '--name', 'feat-sg-exposed', 'busybox', 'sleep', '600');
    const port = await portWithAddress(await containerIp('feat-sg-exposed', SG_NETWORK));
    const { security_groups: exposed } = await neutronGet<{ security_groups: Array<{ id: string }> }>(`/security-groups?name=kuryr-exposed-${port.id}`);
    assert.equal(exposed.length, 1, 'ProgramExternalConnectivity made the group');
    assert.deepEqual([...port.security_groups].sort(), [ids.closedGroup, exposed[0]?.id ?? ''].sort(), 'the network group and the exposed-ports group');
  });

  it('lets only unfiltered or paired sources spoof', async () => {
    await createNetwork(PS_NETWORK, '10.67.0.0/24', `neutron.security_groups=${ICMP_GROUP}`);
    await startConnected('feat-ps-rx', PS_NETWORK, []);
    await startConnected('feat-ps-off', PS_NETWORK, ['neutron.port_security=false'], '--cap-add', 'NET_ADMIN');
    await startConnected('feat-ps-on', PS_NETWORK, [], '--cap-add', 'NET_ADMIN');
    await startConnected('feat-ps-pair', PS_NETWORK, ['neutron.allowed_address_pairs=10.67.0.202'], '--cap-add', 'NET_ADMIN');
    const receiver = await containerIp('feat-ps-rx', PS_NETWORK);

    const off = await portWithAddress(await containerIp('feat-ps-off', PS_NETWORK));
    assert.equal(off.port_security_enabled, false);
    assert.deepEqual(off.security_groups, [], 'a port without port security has no groups');
    const paired = await portWithAddress(await containerIp('feat-ps-pair', PS_NETWORK));
    assert.deepEqual(paired.allowed_address_pairs.map((pair) => pair.ip_address), ['10.67.0.202']);

    for (const [name, spoofed] of [['feat-ps-off', '10.67.0.200'], ['feat-ps-on', '10.67.0.201'], ['feat-ps-pair', '10.67.0.202']] as const) {
      await dockerOk('exec', name, 'ip', 'addr', 'add', `${spoofed}/24`, 'dev', 'eth0');
    }
    await pingsEventually('feat-ps-off', receiver, '10.67.0.200');
    await pingsEventually('feat-ps-pair', receiver, '10.67.0.202');
    await assertBlocked('feat-ps-on', receiver, '10.67.0.201');
  });

  it('sets port security and QoS on the network', async () => {
    await createNetwork(NOPS_NETWORK, '10.66.1.0/24', 'neutron.port_security=false', `neutron.qos_policy=${ids.qosPolicy}`);
    const networkId = await dockerOk('network', 'inspect', '-f', '{{.Id}}', NOPS_NETWORK);
    const { networks } = await neutronGet<{ networks: Array<{ port_security_enabled: boolean; qos_policy_id: string | null }> }>(
      `/networks?tags=kuryr.net.uuid.lh:${networkId.slice(0, 32)}`,
    );
    assert.equal(networks[0]?.port_security_enabled, false);
    assert.equal(networks[0]?.qos_policy_id, ids.qosPolicy);

    await dockerOk('run', '-d', '--network', NOPS_NETWORK, '--name', 'feat-nops-c', 'busybox', 'sleep', '600');
    const port = await portWithAddress(await containerIp('feat-nops-c', NOPS_NETWORK));
    assert.equal(port.port_security_enabled, false, 'the port inherits port security');
    assert.deepEqual(port.security_groups, []);
  });

  it('attaches router and floating IPs', async () => {
    await createNetwork(NAT_NETWORK, '10.68.0.0/24', `neutron.router=${ROUTER}`, `neutron.floatingip.network=${EXTERNAL_NETWORK}`);
    const interfaces = await routerInterfaces();
    assert.deepEqual(interfaces.map((port) => port.fixed_ips[0]?.ip_address), ['10.68.0.1'], 'the router sits on the gateway address');

    await dockerOk('run', '-d', '--network', NAT_NETWORK, '--name', 'feat-nat-c', 'busybox', 'sleep', '600');
    const ip = await containerIp('feat-nat-c', NAT_NETWORK);
    const port = await portWithAddress(ip);
    const floatingIps = await floatingIpsOf(port.id);
    assert.equal(floatingIps.length, 1, 'one floating IP per endpoint');
    assert.equal(floatingIps[0]?.fixed_ip_address, ip);
    assert.equal(floatingIps[0]?.floating_network_id, ids.externalNetwork);
    const floatingIpId = floatingIps[0]?.id ?? '';

    await dockerOk('rm', '-f', 'feat-nat-c');
    const { floatingips: left } = await neutronGet<{ floatingips: unknown[] }>(`/floatingips?id=${floatingIpId}`);
    assert.equal(left.length, 0, 'docker rm releases the floating IP');

    await dockerOk('network', 'rm', NAT_NETWORK);
    assert.deepEqual(await routerInterfaces(), [], 'network rm removes the router interface');
    const { routers } = await neutronGet<{ routers: unknown[] }>(`/routers?id=${ids.router}`);
    assert.equal(routers.length, 1, 'the router is the operator\'s and stays');
  });

  it('rejects SNAT on an internal network', async () => {
    const stderr = await dockerError('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--internal', '--subnet', '10.68.1.0/24', '-o', `neutron.router=${ROUTER}`, 'feat-internal-nat');
    assert.match(stderr, /neutron\.router conflicts with --internal/);
  });

  it('explains a floating IP without router', async () => {
    await dockerOk('create', '--network', SG_NETWORK, '--name', 'feat-nat-quota', 'busybox', 'sleep', '600');
    await dockerOk('network', 'disconnect', SG_NETWORK, 'feat-nat-quota');
    await dockerOk('network', 'connect', '--driver-opt', `neutron.floatingip.network=${EXTERNAL_NETWORK}`, SG_NETWORK, 'feat-nat-quota');
    const stderr = await dockerError('start', 'feat-nat-quota');
    assert.match(stderr, /no router connects subnet "[^"]+" to external network/);
    await dockerOk('rm', '-f', 'feat-nat-quota');
  });

  it('names resource, limit and project on OverQuota', async () => {
    await createNetwork(NAT_NETWORK, '10.68.0.0/24', `neutron.router=${ROUTER}`, `neutron.floatingip.network=${EXTERNAL_NETWORK}`);
    const before = await neutronGet<{ quota: { floatingip: number } }>(`/quotas/${ids.project}`);
    // Only this test uses floating IPs in kuryr's project, so a zero limit for a moment affects no one else.
    await neutronSend('PUT', `/quotas/${ids.project}`, { quota: { floatingip: 0 } });
    try {
      const output = await docker('run', '-d', '--network', NAT_NETWORK, '--name', 'feat-nat-c', 'busybox', 'sleep', '600');
      assert.notEqual(output.code, 0, 'the container cannot start without a floating IP');
      assert.match(output.stderr, new RegExp(`quota exceeded in project "${ids.project}": floatingip limit 0, 0 in use`));
      assert.match(output.stderr, /openstack quota set --floating-ips <n>/);
    } finally {
      await neutronSend('PUT', `/quotas/${ids.project}`, { quota: { floatingip: before?.quota.floatingip ?? 50 } });
    }
    await docker('rm', '-f', 'feat-nat-c');
    await dockerOk('network', 'rm', NAT_NETWORK);
  });

  it('reports missing FWaaS extension', async () => {
    const stderr = await dockerError('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--subnet', '10.68.2.0/24', '-o', 'neutron.firewall_group=feat-fw', 'feat-fw');
    assert.match(stderr, /needs the Neutron FWaaS v2 API \(extension "fwaas_v2"\)/);
    const { networks } = await neutronGet<{ networks: unknown[] }>('/networks?name=feat-fw');
    assert.equal(networks.length, 0);
  });

  it('rejects invalid option values', async () => {
    const stderr = await dockerError('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--subnet', '10.68.3.0/24', '-o', 'neutron.port_security=maybe', 'feat-bad');
    assert.match(stderr, /invalid -o neutron\.port_security "maybe": expected true or false/);
    const pairs = await dockerError('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--subnet', '10.68.3.0/24', '-o', 'neutron.allowed_address_pairs=10.68.3.1/16', 'feat-bad');
    assert.match(pairs, /allowed_address_pairs entry "10\.68\.3\.1\/16"/);
  });
});
