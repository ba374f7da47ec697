/**
 * `--expose` and `-p` on the lab. The endpoint's port gets a security group
 * with IPv4 and IPv6 ingress rules for those ports. Traffic from outside the
 * project's default group reaches only those ports, and the group goes away
 * with the container.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { docker, dockerOk, eventually, neutronGet, neutronSend, type NeutronPort } from '../support/lab.js';

const NETWORK = 'kuryr-e2e-exposed';
const SERVER = 'kuryr-e2e-exposed-web';
const CLIENT = 'kuryr-e2e-exposed-client';
const STOPPED = 'kuryr-e2e-exposed-stopped';
/** The client's only security group. It has no ingress rules, and the client is no longer a member of the default group. */
const CLIENT_GROUP = 'kuryr-e2e-exposed-client-only';

interface NeutronRule {
  direction: string;
  ethertype: string;
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
}

interface NeutronGroup {
  id: string;
  name: string;
  tags: string[];
  security_group_rules: NeutronRule[];
}

async function containerIp(name: string): Promise<string> {
  return dockerOk('inspect', '-f', `{{(index .NetworkSettings.Networks "${NETWORK}").IPAddress}}`, name);
}

async function portWithAddress(ip: string): Promise<NeutronPort> {
  const { ports } = await neutronGet<{ ports: NeutronPort[] }>(`/ports?fixed_ips=ip_address%3D${ip}&device_owner=kuryr%3Acontainer`);
  assert.equal(ports.length, 1, `expected one kuryr port with ${ip}, found ${ports.length}`);
  return ports[0] as NeutronPort;
}

async function exposedGroups(portId: string): Promise<NeutronGroup[]> {
  const { security_groups: groups } = await neutronGet<{ security_groups: NeutronGroup[] }>(`/security-groups?name=kuryr-exposed-${portId}`);
  return groups;
}

function ingressRules(group: NeutronGroup): string[] {
  return group.security_group_rules
    .filter((rule) => rule.direction === 'ingress')
    .map((rule) => `${rule.ethertype} ${rule.protocol ?? 'any'} ${rule.port_range_min ?? ''}-${rule.port_range_max ?? ''}`)
    .sort();
}

/** Sends an HTTP request from the client with busybox nc and returns nc's exit code and output. */
async function httpFromClient(ip: string, port: number): Promise<{ code: number; output: string }> {
  const result = await docker('exec', CLIENT, 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} ${port}`);
  return { code: result.code, output: result.stdout };
}

async function removeLeftovers(): Promise<void> {
  for (const name of [SERVER, CLIENT, STOPPED]) await docker('rm', '-f', name);
  await docker('network', 'rm', NETWORK);
  const { security_groups: groups } = await neutronGet<{ security_groups: Array<{ id: string }> }>(`/security-groups?name=${CLIENT_GROUP}`);
  for (const group of groups) await neutronSend('DELETE', `/security-groups/${group.id}`);
}

describe('exposed ports', () => {
  let serverIp = '';
  let serverPortId = '';

  before(async () => {
    await removeLeftovers();
    await dockerOk('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--subnet', '10.61.0.0/24', '--gateway', '10.61.0.1', NETWORK);
  });
  after(removeLeftovers);

  it('creates group with IPv4 and IPv6 rules', async () => {
    // httpd serves 8080 (exposed) and 8081 (not exposed) from the same page.
    const script = 'echo exposed > /tmp/index.html; httpd -h /tmp -p 8081; exec httpd -f -h /tmp -p 8080';
    await dockerOk('run', '--net', NETWORK, '--expose', '8080', '-p', '9000:9001/udp', '-d', '--name', SERVER, 'busybox', 'sh', '-c', script);
    serverIp = await containerIp(SERVER);
    const port = await portWithAddress(serverIp);
    serverPortId = port.id;

    const groups = await exposedGroups(port.id);
    assert.equal(groups.length, 1, 'one exposed-ports group per port');
    const group = groups[0] as NeutronGroup;
    assert.ok(group.tags.includes('kuryr.exposed'), `tags: ${group.tags.join(', ')}`);
    assert.deepEqual(ingressRules(group), ['IPv4 tcp 8080-8080', 'IPv4 udp 9001-9001', 'IPv6 tcp 8080-8080', 'IPv6 udp 9001-9001']);
    assert.ok(port.security_groups.includes(group.id), 'the group is on the port');
    assert.equal(port.security_groups.length, 2, 'the project default group stays on the port');
  });

  it('lets a non-member reach only exposed ports', async () => {
    await dockerOk('run', '--net', NETWORK, '-d', '--name', CLIENT, 'busybox', 'sleep', '600');
    const clientPort = await portWithAddress(await containerIp(CLIENT));
    const created = await neutronSend<{ security_group: { id: string } }>('POST', '/security-groups', { security_group: { name: CLIENT_GROUP } });
    assert.ok(created !== undefined);
    await neutronSend('PUT', `/ports/${clientPort.id}`, { port: { security_groups: [created.security_group.id] } });

    // The agent applies the change asynchronously: wait until the unexposed port is closed to the client.
    await eventually('port 8081 closed to the client', async () => ((await httpFromClient(serverIp, 8081)).code !== 0 ? true : undefined), 60_000);
    const exposed = await httpFromClient(serverIp, 8080);
    assert.equal(exposed.code, 0, 'nc to the exposed port succeeds');
    assert.match(exposed.output, /exposed/);
  });

  it('deletes group on docker rm -f', async () => {
    await dockerOk('rm', '-f', SERVER);
    await eventually('the group of the removed container to be deleted', async () => ((await exposedGroups(serverPortId)).length === 0 ? true : undefined));
    // kuryr deletes released ports in the background, a moment after `docker rm` returns.
    const ports = await eventually('the port of the removed container to be deleted', async () => {
      const { ports: left } = await neutronGet<{ ports: unknown[] }>(`/ports?id=${serverPortId}`);
      return left.length === 0 ? left : undefined;
    }, 15_000);
    assert.equal(ports.length, 0, 'the port is deleted too');
  });

  it('deletes group on stop, then rm', async () => {
    await dockerOk('run', '--net', NETWORK, '--expose', '7070-7072/tcp', '-d', '--name', STOPPED, 'busybox', 'sleep', '600');
    const port = await portWithAddress(await containerIp(STOPPED));
    const groups = await exposedGroups(port.id);
    assert.equal(groups.length, 1);
    assert.deepEqual(ingressRules(groups[0] as NeutronGroup), ['IPv4 tcp 7070-7072', 'IPv6 tcp 7070-7072']);

    await dockerOk('stop', '-t', '1', STOPPED);
    assert.equal((await exposedGroups(port.id)).length, 0, 'RevokeExternalConnectivity deletes the group');
    await dockerOk('rm', STOPPED);
    assert.equal((await exposedGroups(port.id)).length, 0);
  });
});
