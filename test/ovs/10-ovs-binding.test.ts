/**
 * The OVS binder on the lab in OVS mode (LAB_L2=ovs bash lab/up.sh): the
 * neutron-openvswitch-agent binds kuryr's ports with vif_type ovs, kuryr puts
 * each tap on br-int with the external_ids the agent matches, the ports go
 * ACTIVE and the containers reach each other. With
 * LAB_OVS_FIREWALL=iptables_hybrid, Neutron requests the hybrid plug, and
 * the qvo end is on br-int instead. Fails on a linuxbridge lab.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { labL2Mode, labOvsVsctl } from '../support/l2-mode.js';
import { docker, dockerOk, eventually, labIp, neutronGet, type NeutronPort } from '../support/lab.js';

const NETWORK = 'ovs-e2e';
const CONTAINERS = ['ovs-a', 'ovs-b'];

interface OvsInterface {
  name: string;
  ofport: number;
  externalIds: Record<string, string>;
}

/** Finds the OVS Interface rows whose external_ids:iface-id is the port id. */
async function interfacesOfPort(portId: string): Promise<OvsInterface[]> {
  const json = await labOvsVsctl('--format=json', '--columns=name,ofport,external_ids', 'find', 'Interface', `external_ids:iface-id=${portId}`);
  const table = JSON.parse(json) as { data: [string, number, ['map', [string, string][]]][] };
  return table.data.map(([name, ofport, [, pairs]]) => ({ name, ofport, externalIds: Object.fromEntries(pairs) }));
}

/** Returns the Linux bridge that a device in the lab namespace is a port of. */
async function masterOf(ifName: string): Promise<string | undefined> {
  const [link] = JSON.parse(await labIp('-json', 'link', 'show', 'dev', ifName)) as { master?: string }[];
  return link?.master;
}

async function containerIp(name: string): Promise<string> {
  return dockerOk('inspect', '-f', `{{(index .NetworkSettings.Networks "${NETWORK}").IPAddress}}`, name);
}

async function endpointId(name: string): Promise<string> {
  return dockerOk('inspect', '-f', `{{(index .NetworkSettings.Networks "${NETWORK}").EndpointID}}`, name);
}

async function portWithAddress(ip: string): Promise<NeutronPort & { 'binding:vif_details': Record<string, unknown> }> {
  const { ports } = await neutronGet<{ ports: (NeutronPort & { 'binding:vif_details': Record<string, unknown> })[] }>(
    `/ports?fixed_ips=ip_address%3D${ip}&device_owner=kuryr%3Acontainer`,
  );
  assert.equal(ports.length, 1, `expected one kuryr port with ${ip}, found ${ports.length}`);
  return ports[0] as NeutronPort & { 'binding:vif_details': Record<string, unknown> };
}

async function removeLeftovers(): Promise<void> {
  for (const name of CONTAINERS) await docker('rm', '-f', name);
  await docker('network', 'rm', NETWORK);
}

describe('ovs binding on the lab', () => {
  const portIds: string[] = [];

  before(async () => {
    assert.equal(await labL2Mode(), 'ovs', 'these tests need the lab in OVS mode: run LAB_L2=ovs bash lab/up.sh');
    await removeLeftovers();
  });
  after(removeLeftovers);

  it('binds container ports with vif_type ovs', async () => {
    await dockerOk('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--subnet', '10.11.0.0/24', NETWORK);
    for (const name of CONTAINERS) await dockerOk('run', '--net', NETWORK, '-itd', '--name', name, 'busybox');

    for (const name of CONTAINERS) {
      const port = await portWithAddress(await containerIp(name));
      portIds.push(port.id);
      assert.equal(port['binding:vif_type'], 'ovs');
      assert.equal(port['binding:vif_details']['bridge_name'], 'br-int');
      assert.equal(port['binding:vif_details']['datapath_type'], 'netdev');
      assert.equal(port.status, 'ACTIVE');
    }
  });

  it('tags each port on br-int for the agent', async () => {
    for (const [index, name] of CONTAINERS.entries()) {
      const portId = portIds[index] ?? '';
      const port = await portWithAddress(await containerIp(name));
      const hybrid = port['binding:vif_details']['ovs_hybrid_plug'] === true;
      const ovsIfName = `${hybrid ? 'qvo' : 'tap'}${portId.slice(0, 11)}`;
      const interfaces = await interfacesOfPort(portId);

      assert.equal(interfaces.length, 1, `expected one OVS Interface for port ${portId}`);
      const [row] = interfaces as [OvsInterface];
      assert.equal(row.name, ovsIfName);
      assert.ok(row.ofport > 0, `ofport of ${ovsIfName} is ${row.ofport}`);
      assert.equal(row.externalIds['iface-status'], 'active');
      assert.equal(row.externalIds['attached-mac'], port.mac_address);
      assert.equal(row.externalIds['vm-uuid'], await endpointId(name));
      assert.equal(row.externalIds['owner'], 'kuryr');
      assert.equal(await labOvsVsctl('port-to-br', ovsIfName), 'br-int');
      if (hybrid) assert.equal(await masterOf(`tap${portId.slice(0, 11)}`), `qbr${portId.slice(0, 11)}`);
    }
  });

  it('lets the containers ping each other', async () => {
    const ipA = await containerIp('ovs-a');
    const ipB = await containerIp('ovs-b');
    // OVS's userspace datapath can deliver an echo reply twice (busybox prints "DUP!"). busybox
    // ping exits 1 only when no reply arrived, so duplicates would not fail this check.
    await dockerOk('exec', 'ovs-a', 'ping', '-c', '3', '-W', '2', ipB);
    await dockerOk('exec', 'ovs-b', 'ping', '-c', '3', '-W', '2', ipA);
  });

  it('removes the OVS ports with the containers', async () => {
    for (const name of CONTAINERS) await dockerOk('rm', '-f', name);
    await dockerOk('network', 'rm', NETWORK);

    for (const portId of portIds) {
      const remaining = await eventually(`OVS Interface of port ${portId} to be removed`, async () => {
        const interfaces = await interfacesOfPort(portId);
        return interfaces.length === 0 ? interfaces : undefined;
      }, 10_000);
      assert.deepEqual(remaining, []);
    }
    const brIntPorts = (await labOvsVsctl('list-ports', 'br-int')).split('\n');
    const links = JSON.parse(await labIp('-json', 'link', 'show')) as { ifname: string }[];
    for (const portId of portIds) {
      const suffix = portId.slice(0, 11);
      assert.ok(!brIntPorts.includes(`tap${suffix}`), `tap${suffix} is still on br-int`);
      assert.ok(!brIntPorts.includes(`qvo${suffix}`), `qvo${suffix} is still on br-int`);
      for (const prefix of ['tap', 'qbr', 'qvb', 'qvo']) {
        assert.ok(!links.some((link) => link.ifname === `${prefix}${suffix}`), `${prefix}${suffix} is still in the lab namespace`);
      }
    }
  });
});
