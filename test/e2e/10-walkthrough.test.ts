/**
 * The README walkthrough on the lab, command for command: a kuryr network
 * with --subnet, --gateway and --ip-range, and busybox containers on it.
 * It runs in both L2 modes of the lab (LAB_L2=linuxbridge or ovs).
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { l2Expectations, labL2Mode, type L2Expectations } from '../support/l2-mode.js';
import { docker, dockerOk, eventually, kuryrResources, labLinkNames, neutronGet, type NeutronPort } from '../support/lab.js';

const NETWORK = 'bar';
const CONTAINERS = ['web', 'web2'];

interface ContainerNic {
  ip: string;
  prefixLength: number;
  mac: string;
  mtu: number;
}

async function containerNic(name: string): Promise<ContainerNic> {
  const json = await dockerOk('exec', name, 'ip', '-o', '-4', 'addr', 'show', 'eth0');
  const address = /inet (\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec(json);
  const link = await dockerOk('exec', name, 'ip', '-o', 'link', 'show', 'eth0');
  const mac = /link\/ether ([0-9a-f:]{17})/.exec(link);
  const mtu = /mtu (\d+)/.exec(link);
  assert.ok(address, `no IPv4 address on eth0 in ${name}: ${json}`);
  assert.ok(mac, `no MAC on eth0 in ${name}: ${link}`);
  assert.ok(mtu, `no MTU on eth0 in ${name}: ${link}`);
  return { ip: address[1] ?? '', prefixLength: Number(address[2]), mac: mac[1] ?? '', mtu: Number(mtu[1]) };
}

async function portWithAddress(ip: string): Promise<NeutronPort> {
  const { ports } = await neutronGet<{ ports: NeutronPort[] }>(`/ports?fixed_ips=ip_address%3D${ip}&device_owner=kuryr%3Acontainer`);
  assert.equal(ports.length, 1, `expected one kuryr port with ${ip}, found ${ports.length}`);
  return ports[0] as NeutronPort;
}

async function removeLeftovers(): Promise<void> {
  for (const name of CONTAINERS) await docker('rm', '-f', name);
  await docker('network', 'rm', NETWORK);
}

describe('walkthrough', () => {
  let expected: L2Expectations;

  before(async () => {
    expected = l2Expectations(await labL2Mode());
    await removeLeftovers();
  });
  after(removeLeftovers);

  it('creates the network exactly as the README shows', async () => {
    await dockerOk(
      'network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr',
      '--subnet', '10.10.0.0/16', '--gateway', '10.10.0.1', '--ip-range', '10.10.0.0/24', NETWORK,
    );
    const networkId = await dockerOk('network', 'inspect', '-f', '{{.Id}}', NETWORK);
    const { networks } = await neutronGet<{ networks: Array<{ id: string; subnets: string[] }> }>(
      `/networks?tags=kuryr.net.uuid.lh:${networkId.slice(0, 32)},kuryr.net.uuid.uh:${networkId.slice(32)}`,
    );
    assert.equal(networks.length, 1);
    const { subnets } = await neutronGet<{ subnets: Array<{ cidr: string; gateway_ip: string; allocation_pools: unknown }> }>(
      `/subnets?network_id=${networks[0]?.id ?? ''}`,
    );
    assert.equal(subnets.length, 1);
    assert.equal(subnets[0]?.cidr, '10.10.0.0/16');
    assert.equal(subnets[0]?.gateway_ip, '10.10.0.1');
    assert.deepEqual(subnets[0]?.allocation_pools, [{ start: '10.10.0.2', end: '10.10.0.255' }]);
  });

  it('runs busybox containers whose eth0 matches their Neutron port', async () => {
    for (const name of CONTAINERS) await dockerOk('run', '--net', NETWORK, '-itd', '--name', name, 'busybox');
    for (const name of CONTAINERS) {
      const nic = await containerNic(name);
      assert.equal(nic.prefixLength, 16, 'the address carries the subnet prefix, not the ip-range prefix');
      const port = await portWithAddress(nic.ip);
      assert.equal(port.mac_address, nic.mac);
      assert.equal(port['binding:host_id'], hostname());
      assert.equal(port['binding:vif_type'], expected.vifType);
      assert.equal(port.status, 'ACTIVE');
      assert.ok(port.tags.includes('compute:kuryr'));
      assert.equal(nic.mtu, expected.tenantNetworkMtu, 'the container gets the tenant network MTU');
      const links = await labLinkNames();
      assert.ok(links.includes(`tap${port.id.slice(0, 11)}`), `tap${port.id.slice(0, 11)} is missing in the lab namespace`);
    }
  });

  it('lets the containers ping each other', async () => {
    const web2 = await containerNic('web2');
    const web = await containerNic('web');
    // OVS's userspace datapath can deliver an echo reply twice (busybox prints "DUP!"). busybox
    // ping exits 1 only when no reply arrived, so duplicates would not fail this check.
    await dockerOk('exec', 'web', 'ping', '-c', '3', '-W', '2', web2.ip);
    await dockerOk('exec', 'web2', 'ping', '-c', '3', '-W', '2', web.ip);
  });

  it('leaves nothing behind after removal', async () => {
    const tapsBefore = (await labLinkNames()).filter((name) => name.startsWith('tap'));
    assert.ok(tapsBefore.length >= 2);
    for (const name of CONTAINERS) await dockerOk('rm', '-f', name);
    await dockerOk('network', 'rm', NETWORK);

    const leftovers = await eventually('kuryr resources to be deleted', async () => {
      const resources = await kuryrResources();
      const count = resources.networks.length + resources.subnets.length + resources.pools.length + resources.ports.length;
      return count === 0 ? resources : undefined;
    }, 10_000);
    assert.deepEqual(leftovers, { networks: [], subnets: [], pools: [], ports: [] });
    const taps = (await labLinkNames()).filter((name) => name.startsWith('tap'));
    assert.deepEqual(taps, []);
  });
});
