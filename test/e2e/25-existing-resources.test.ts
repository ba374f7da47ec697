/**
 * Docker networks on an operator's Neutron network, subnet and subnet pool
 * (`-o` and `--ipam-opt neutron.*`). kuryr must use them, record the
 * adoption in tags, and hand everything back exactly as it found it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { docker, dockerOk, neutronGet, neutronSend, type NeutronPort } from '../support/lab.js';

const PREFIX = 'kuryr-e2e-existing';

interface Resource {
  id: string;
  name: string;
  tags: string[];
}

interface Operator {
  network: Resource;
  subnet: Resource & { cidr: string };
  poolA: Resource;
  poolB: Resource;
}

const operator = {} as Operator;
const dockerNetworks = [`${PREFIX}-a`, `${PREFIX}-b`, `${PREFIX}-c`, `${PREFIX}-pool1`, `${PREFIX}-pool2`, `${PREFIX}-carved`];
const containers = [`${PREFIX}-web1`, `${PREFIX}-web2`, `${PREFIX}-web3`];

async function removeDockerObjects(): Promise<void> {
  for (const name of containers) await docker('rm', '-f', name);
  for (const name of dockerNetworks) await docker('network', 'rm', name);
}

async function get<T>(path: string, key: string): Promise<T> {
  const body = await neutronGet<Record<string, T>>(path);
  return body[key] as T;
}

async function portOf(container: string): Promise<NeutronPort> {
  const output = await dockerOk('exec', container, 'ip', '-o', '-4', 'addr', 'show', 'eth0');
  const ip = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(output)?.[1];
  assert.ok(ip, `no address in ${container}`);
  const ports = await get<NeutronPort[]>(`/ports?fixed_ips=ip_address%3D${ip}&device_owner=kuryr%3Acontainer`, 'ports');
  assert.equal(ports.length, 1, `expected one kuryr port with ${ip}`);
  return ports[0] as NeutronPort;
}

describe('existing Neutron resources', () => {
  before(async () => {
    await removeDockerObjects();
    for (const name of [`${PREFIX}-net`]) {
      for (const network of await get<Resource[]>(`/networks?name=${name}`, 'networks')) await neutronSend('DELETE', `/networks/${network.id}`);
    }
    for (const name of [`${PREFIX}-poolA`, `${PREFIX}-poolB`]) {
      for (const pool of await get<Resource[]>(`/subnetpools?name=${name}`, 'subnetpools')) await neutronSend('DELETE', `/subnetpools/${pool.id}`);
    }
    const network = await neutronSend<{ network: Resource }>('POST', '/networks', { network: { name: `${PREFIX}-net` } });
    assert.ok(network);
    await neutronSend('PUT', `/networks/${network.network.id}/tags`, { tags: ['operator-owned'] });
    const subnet = await neutronSend<{ subnet: Resource & { cidr: string } }>('POST', '/subnets', {
      subnet: { network_id: network.network.id, name: `${PREFIX}-subnet`, ip_version: 4, cidr: '10.63.0.0/24', enable_dhcp: false },
    });
    assert.ok(subnet);
    const poolA = await neutronSend<{ subnetpool: Resource }>('POST', '/subnetpools', { subnetpool: { name: `${PREFIX}-poolA`, prefixes: ['10.66.0.0/16'], default_prefixlen: 26 } });
    const poolB = await neutronSend<{ subnetpool: Resource }>('POST', '/subnetpools', { subnetpool: { name: `${PREFIX}-poolB`, prefixes: ['10.66.0.0/16'], default_prefixlen: 26 } });
    assert.ok(poolA, 'pool A was created');
    assert.ok(poolB, 'pool B was created');
    operator.network = { ...network.network, tags: ['operator-owned'] };
    operator.subnet = subnet.subnet;
    operator.poolA = poolA.subnetpool;
    operator.poolB = poolB.subnetpool;
  });

  after(async () => {
    await removeDockerObjects();
    if (operator.network !== undefined) await neutronSend('DELETE', `/networks/${operator.network.id}`);
    for (const pool of [operator.poolA, operator.poolB]) if (pool !== undefined) await neutronSend('DELETE', `/subnetpools/${pool.id}`);
  });

  it('uses an operator network and its subnet by name', async () => {
    await dockerOk('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--subnet', '10.63.0.0/24', '-o', `neutron.net.name=${PREFIX}-net`, `${PREFIX}-a`);
    await dockerOk('run', '-d', '--net', `${PREFIX}-a`, '--name', `${PREFIX}-web1`, 'busybox', 'sleep', '600');
    await dockerOk('run', '-d', '--net', `${PREFIX}-a`, '--name', `${PREFIX}-web2`, 'busybox', 'sleep', '600');
    const port1 = await portOf(`${PREFIX}-web1`);
    const port2 = await portOf(`${PREFIX}-web2`);
    assert.equal(port1.fixed_ips[0]?.subnet_id, operator.subnet.id, 'the container is on the operator subnet');
    await dockerOk('exec', `${PREFIX}-web1`, 'ping', '-c', '2', '-W', '2', port2.fixed_ips[0]?.ip_address ?? '');
  });

  it('shares the operator network with a second Docker network', async () => {
    await dockerOk('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--subnet', '10.64.0.0/24', '-o', `neutron.net.uuid=${operator.network.id}`, `${PREFIX}-b`);
    await dockerOk('run', '-d', '--net', `${PREFIX}-b`, '--name', `${PREFIX}-web3`, 'busybox', 'sleep', '600');
    const port = await portOf(`${PREFIX}-web3`);
    const subnets = await get<Array<Resource & { cidr: string }>>(`/subnets?network_id=${operator.network.id}`, 'subnets');
    assert.deepEqual(subnets.map((subnet) => subnet.cidr).sort(), ['10.63.0.0/24', '10.64.0.0/24']);
    assert.equal(port.fixed_ips[0]?.ip_address.startsWith('10.64.0.'), true);
  });

  it('hands the network and subnet back unchanged', async () => {
    await removeDockerObjects();
    const network = await get<Resource>(`/networks/${operator.network.id}`, 'network');
    assert.equal(network.name, `${PREFIX}-net`);
    assert.deepEqual(network.tags, ['operator-owned']);
    const subnets = await get<Array<Resource & { cidr: string }>>(`/subnets?network_id=${operator.network.id}`, 'subnets');
    assert.deepEqual(subnets.map((subnet) => subnet.id), [operator.subnet.id], 'only the operator subnet remains');
    assert.deepEqual(subnets[0]?.tags, []);
    const pools = await get<Resource[]>('/subnetpools?name=kuryrPool-10.63.0.0%2F24', 'subnetpools');
    assert.deepEqual(pools, []);
  });

  it('uses an operator subnet through --ipam-opt and -o', async () => {
    const option = `neutron.subnet.uuid=${operator.subnet.id}`;
    await dockerOk('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--ipam-opt', option, '-o', option, `${PREFIX}-c`);
    const subnet = (await dockerOk('network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', `${PREFIX}-c`)).trim();
    assert.equal(subnet, '10.63.0.0/24');
    await dockerOk('run', '-d', '--net', `${PREFIX}-c`, '--name', `${PREFIX}-web1`, 'busybox', 'sleep', '600');
    const port = await portOf(`${PREFIX}-web1`);
    assert.equal(port.fixed_ips[0]?.subnet_id, operator.subnet.id);
    await removeDockerObjects();
    const remaining = await get<Resource[]>(`/subnets?network_id=${operator.network.id}`, 'subnets');
    assert.deepEqual(remaining.map((item) => item.id), [operator.subnet.id]);
  });

  it('allows overlapping CIDRs from two named pools', async () => {
    for (const [name, pool] of [[`${PREFIX}-pool1`, operator.poolA], [`${PREFIX}-pool2`, operator.poolB]] as const) {
      await dockerOk('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--subnet', '10.66.1.0/24', '--ipam-opt', `neutron.pool.uuid=${pool.id}`, name);
    }
    await dockerOk('run', '-d', '--net', `${PREFIX}-pool1`, '--name', `${PREFIX}-web1`, 'busybox', 'sleep', '600');
    await dockerOk('run', '-d', '--net', `${PREFIX}-pool2`, '--name', `${PREFIX}-web2`, 'busybox', 'sleep', '600');
    for (const container of [`${PREFIX}-web1`, `${PREFIX}-web2`]) {
      const output = await dockerOk('exec', container, 'ip', '-o', '-4', 'addr', 'show', 'eth0');
      assert.match(output, /inet 10\.66\.1\.\d+\/24/, `${container} has an address in the overlapping CIDR`);
    }
    const subnets = await get<Array<{ cidr: string; subnetpool_id: string }>>('/subnets?cidr=10.66.1.0%2F24', 'subnets');
    assert.deepEqual(subnets.map((subnet) => subnet.subnetpool_id).sort(), [operator.poolA.id, operator.poolB.id].sort());
  });

  it('carves from a named pool without --subnet', async () => {
    await dockerOk('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--ipam-opt', `neutron.pool.name=${PREFIX}-poolA`, `${PREFIX}-carved`);
    const subnet = (await dockerOk('network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', `${PREFIX}-carved`)).trim();
    assert.match(subnet, /^10\.66\.\d+\.\d+\/26$/);
    await removeDockerObjects();
    const pools = await get<Resource[]>(`/subnetpools?name=${PREFIX}-poolA`, 'subnetpools');
    assert.equal(pools.length, 1, 'the operator pool is kept');
  });

  it('rejects invalid and unknown references clearly', async () => {
    const invalid = await docker('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--subnet', '10.67.0.0/24', '-o', 'neutron.net.uuid=not-a-uuid', `${PREFIX}-a`);
    assert.notEqual(invalid.code, 0);
    assert.match(invalid.stderr, /invalid -o neutron\.net\.uuid "not-a-uuid"/);
    const missing = await docker('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--subnet', '10.67.0.0/24', '-o', 'neutron.net.name=no-such-network', `${PREFIX}-a`);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /network named "no-such-network" not found/);
    const pools = await get<Resource[]>('/subnetpools?name=kuryrPool-10.67.0.0%2F24', 'subnetpools');
    assert.deepEqual(pools, [], 'a failed create leaves no pool behind');
  });
});
