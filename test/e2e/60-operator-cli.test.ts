/**
 * The operator commands on the lab: doctor passes, the daemon serves its
 * metrics and readiness, status shows a running container next to its port,
 * and gc finds a port kuryr would have left behind and deletes exactly that
 * one. The commands run in the lab namespace, where the kuryr daemon creates
 * its taps.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { command, docker, dockerOk, DOCKER_HOST, LAB_NAMESPACE, neutronGet, neutronSend, type CommandOutput } from '../support/lab.js';

const NETWORK = 'kuryr-e2e-cli';
const CONTAINER = 'kuryr-e2e-cli-c1';
const LEFTOVER_NAME = 'kuryr-e2e-cli-leftover';
const CONFIG_FILE = '/var/lib/kuryr-lab/etc/kuryr/kuryr.conf';
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

function kuryr(...args: string[]): Promise<CommandOutput> {
  return command(['ip', 'netns', 'exec', LAB_NAMESPACE, process.execPath, '--import', 'tsx', MAIN, ...args, '--config-file', CONFIG_FILE], { DOCKER_HOST });
}

async function removeLeftovers(): Promise<void> {
  await docker('rm', '-f', CONTAINER);
  await docker('network', 'rm', NETWORK);
  const { ports } = await neutronGet<{ ports: Array<{ id: string }> }>(`/ports?name=${LEFTOVER_NAME}`);
  for (const port of ports) await neutronSend('DELETE', `/ports/${port.id}`);
}

describe('operator commands', () => {
  before(removeLeftovers);
  after(removeLeftovers);

  it('doctor passes on the lab', async () => {
    const output = await kuryr('doctor');

    assert.equal(output.code, 0, output.stdout + output.stderr);
    assert.match(output.stdout, /^PASS {2}keystone: authenticated/m);
    assert.match(output.stdout, /^PASS {2}L2 agent: .* alive on host/m);
    assert.match(output.stdout, /^PASS {2}plugin socket: .* answers Plugin\.Activate$/m);
    assert.match(output.stdout, /all checks passed/);
  });

  it('the daemon is ready and counts requests', async () => {
    const readyz = await command(['ip', 'netns', 'exec', LAB_NAMESPACE, 'curl', '-s', '-w', ' %{http_code}', 'http://127.0.0.1:9797/readyz']);
    const metrics = await command(['ip', 'netns', 'exec', LAB_NAMESPACE, 'curl', '-s', 'http://127.0.0.1:9797/metrics']);

    assert.equal(readyz.stdout, 'ready\n 200');
    assert.match(metrics.stdout, /^kuryr_plugin_requests_total\{verb="Plugin\.Activate",status="200"\} [1-9]/m);
    assert.match(metrics.stdout, /^kuryr_neutron_requests_total\{method="GET",resource="extensions",status="200"\} [1-9]/m);
    assert.match(metrics.stdout, /^kuryr_ready 1$/m);
  });

  it('status and gc tell a live port from a leftover', async () => {
    await dockerOk('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--subnet', '10.66.0.0/24', '--gateway', '10.66.0.1', NETWORK);
    await dockerOk('run', '-d', '--net', NETWORK, '--name', CONTAINER, 'busybox', 'sleep', '600');
    const networkId = await dockerOk('network', 'inspect', '-f', '{{.Id}}', NETWORK);
    const { networks } = await neutronGet<{ networks: Array<{ id: string }> }>(`/networks?tags=kuryr.net.uuid.lh:${networkId.slice(0, 32)}`);
    const neutronNetworkId = networks[0]?.id ?? '';

    const status = await kuryr('status');
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^network ${NETWORK} ${networkId.slice(0, 12)}: neutron network ${neutronNetworkId}`, 'm'));
    const livePort = new RegExp(`^ {2}endpoint \\w{12} /?${CONTAINER} 10\\.66\\.0\\.\\d+: port ([0-9a-f-]{36}) ACTIVE`, 'm').exec(status.stdout);
    assert.ok(livePort !== null, `no ACTIVE port for ${CONTAINER} in:\n${status.stdout}`);

    // What a daemon killed between DeleteEndpoint and ReleaseAddress leaves behind.
    const created = await neutronSend<{ port: { id: string } }>('POST', '/ports', {
      port: { network_id: neutronNetworkId, name: LEFTOVER_NAME, device_owner: 'kuryr:container', 'binding:host_id': hostname() },
    });
    const leftoverId = created?.port.id ?? '';

    const dryRun = await kuryr('gc');
    assert.equal(dryRun.code, 0, dryRun.stderr);
    assert.match(dryRun.stdout, new RegExp(`^leftover port: port ${leftoverId} `, 'm'));
    assert.doesNotMatch(dryRun.stdout, new RegExp(livePort[1] ?? 'none'));

    const applied = await kuryr('gc', '--apply', '--id', leftoverId);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    assert.match(applied.stdout, new RegExp(`^deleted port ${leftoverId}$`, 'm'));
    const { ports } = await neutronGet<{ ports: Array<{ id: string }> }>(`/ports?network_id=${neutronNetworkId}`);
    assert.deepEqual(ports.map((port) => port.id), [livePort[1]]);
  });
});
