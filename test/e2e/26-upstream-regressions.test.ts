/**
 * Regression tests for upstream Kuryr bugs that kuryr-ts must not repeat,
 * each named by the behaviour it protects.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { docker, dockerOk, labIp, neutronGet, neutronSend, type NeutronPort } from '../support/lab.js';

const PREFIX = 'kuryr-e2e-regress';

async function get<T>(path: string, key: string): Promise<T> {
  const body = await neutronGet<Record<string, T>>(path);
  return body[key] as T;
}

async function portOf(container: string, network: string): Promise<NeutronPort> {
  const ip = (await dockerOk('inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container)).trim();
  const ports = await get<NeutronPort[]>(`/ports?fixed_ips=ip_address%3D${ip}&device_owner=kuryr%3Acontainer`, 'ports');
  assert.equal(ports.length, 1, `expected one kuryr port with ${ip}`);
  return ports[0] as NeutronPort;
}

async function cleanUp(): Promise<void> {
  for (const name of ['c1', 'c2', 'c3']) await docker('rm', '-f', `${PREFIX}-${name}`);
  for (const name of ['builtin', 'default', 'pool1', 'pool2', 'mtu']) await docker('network', 'rm', `${PREFIX}-${name}`);
}

describe('upstream regressions', () => {
  let sharedPoolId = '';

  before(async () => {
    await cleanUp();
    for (const pool of await get<Array<{ id: string }>>(`/subnetpools?name=${PREFIX}-pool`, 'subnetpools')) await neutronSend('DELETE', `/subnetpools/${pool.id}`);
    const created = await neutronSend<{ subnetpool: { id: string } }>('POST', '/subnetpools', { subnetpool: { name: `${PREFIX}-pool`, prefixes: ['10.68.0.0/16'], default_prefixlen: 24 } });
    assert.ok(created);
    sharedPoolId = created.subnetpool.id;
  });

  after(async () => {
    await cleanUp();
    if (sharedPoolId !== '') await neutronSend('DELETE', `/subnetpools/${sharedPoolId}`);
  });

  it('tags ports made for Docker built-in IPAM and deletes them', async () => {
    await dockerOk('network', 'create', '--driver', 'kuryr', '--subnet', '10.69.0.0/24', `${PREFIX}-builtin`);
    await dockerOk('run', '-d', '--net', `${PREFIX}-builtin`, '--name', `${PREFIX}-c1`, 'busybox', 'sleep', '600');
    const port = await portOf(`${PREFIX}-c1`, `${PREFIX}-builtin`);
    assert.ok(port.tags.some((tag) => tag.startsWith('kuryr.net.uuid.lh:')), 'the port carries the endpoint tags');
    assert.equal(port.status, 'ACTIVE');
    await dockerOk('rm', '-f', `${PREFIX}-c1`);
    const left = await get<NeutronPort[]>(`/ports/?id=${port.id}`, 'ports');
    assert.deepEqual(left, [], 'the port is deleted with the endpoint');
    await dockerOk('network', 'rm', `${PREFIX}-builtin`);
  });

  it('keeps the operator default pool after network rm', async () => {
    const before = await get<Array<{ id: string }>>('/subnetpools?name=kuryr', 'subnetpools');
    assert.equal(before.length, 1);
    await dockerOk('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', `${PREFIX}-default`);
    await dockerOk('network', 'rm', `${PREFIX}-default`);
    const after = await get<Array<{ id: string }>>('/subnetpools?name=kuryr', 'subnetpools');
    assert.deepEqual(after.map((pool) => pool.id), before.map((pool) => pool.id));
  });

  it('keeps a shared operator pool until both networks go', async () => {
    for (const [name, cidr] of [['pool1', '10.68.1.0/24'], ['pool2', '10.68.2.0/24']] as const) {
      await dockerOk('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--subnet', cidr, '--ipam-opt', `neutron.pool.uuid=${sharedPoolId}`, `${PREFIX}-${name}`);
    }
    await dockerOk('network', 'rm', `${PREFIX}-pool1`);
    await dockerOk('run', '-d', '--net', `${PREFIX}-pool2`, '--name', `${PREFIX}-c2`, 'busybox', 'sleep', '600');
    const port = await portOf(`${PREFIX}-c2`, `${PREFIX}-pool2`);
    assert.equal(port.status, 'ACTIVE');
    await dockerOk('rm', '-f', `${PREFIX}-c2`);
    await dockerOk('network', 'rm', `${PREFIX}-pool2`);
    const pool = await get<{ id: string; tags: string[] }>(`/subnetpools/${sharedPoolId}`, 'subnetpool');
    assert.equal(pool.id, sharedPoolId, 'the operator pool still exists');
    assert.deepEqual(pool.tags, [], 'and carries no kuryr tags');
  });

  it('sets the network MTU on the host end of the veth', async () => {
    await dockerOk('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--subnet', '10.69.1.0/24', `${PREFIX}-mtu`);
    await dockerOk('run', '-d', '--net', `${PREFIX}-mtu`, '--name', `${PREFIX}-c3`, 'busybox', 'sleep', '600');
    const port = await portOf(`${PREFIX}-c3`, `${PREFIX}-mtu`);
    const link = JSON.parse(await labIp('-json', 'link', 'show', 'dev', `tap${port.id.slice(0, 11)}`)) as Array<{ mtu: number }>;
    assert.equal(link[0]?.mtu, 1450);
  });
});
