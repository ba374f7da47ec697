/**
 * A dockerd restart with a --restart=always container on a kuryr network:
 * dockerd stops the container (releasing its port), activates kuryr again
 * on start, and brings the container back with a new, ACTIVE port.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { command, docker, dockerOk, eventually, neutronGet, type NeutronPort } from '../support/lab.js';

const NETWORK = 'kuryr-e2e-dockerd-restart';
const SUBNET = '10.71.0.0/24';
const CONTAINER = 'kuryr-e2e-always';
const DOCKERD_PID_FILE = '/run/kuryr-lab/pids/dockerd.pid';

async function portsOnSubnet(): Promise<NeutronPort[]> {
  const { subnets } = await neutronGet<{ subnets: Array<{ id: string }> }>(`/subnets?name=${encodeURIComponent(`kuryr-subnet-${SUBNET}`)}`);
  const subnet = subnets[0];
  if (subnet === undefined) return [];
  const { ports } = await neutronGet<{ ports: NeutronPort[] }>(`/ports?fixed_ips=subnet_id%3D${subnet.id}`);
  return ports;
}

async function containerIp(): Promise<string> {
  const output = await dockerOk('exec', CONTAINER, 'ip', '-o', '-4', 'addr', 'show', 'eth0');
  const match = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(output);
  assert.ok(match, `no address on eth0: ${output}`);
  return match[1] ?? '';
}

async function dockerdPid(): Promise<number> {
  const pid = Number((await readFile(DOCKERD_PID_FILE, 'utf8')).trim());
  const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
  assert.match(cmdline, /dockerd/, `pid ${pid} from ${DOCKERD_PID_FILE} is not dockerd`);
  return pid;
}

async function processGone(pid: number): Promise<true | undefined> {
  try {
    process.kill(pid, 0);
    return undefined;
  } catch {
    return true;
  }
}

describe('dockerd restart', () => {
  before(async () => {
    await docker('rm', '-f', CONTAINER);
    await docker('network', 'rm', NETWORK);
    await dockerOk('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--subnet', SUBNET, NETWORK);
  });
  after(async () => {
    await docker('rm', '-f', CONTAINER);
    await docker('network', 'rm', NETWORK);
  });

  it('brings back a --restart=always container', async () => {
    await dockerOk('run', '-d', '--restart=always', '--net', NETWORK, '--name', CONTAINER, 'busybox', 'sleep', '3600');
    await containerIp();

    const pid = await dockerdPid();
    process.kill(pid, 'SIGTERM');
    await eventually('dockerd to exit', () => processGone(pid), 60_000);
    const started = await command(['bash', 'lab/up.sh'], { LAB_SMOKE: '0' }, 300_000);
    assert.equal(started.code, 0, `lab/up.sh failed to restart dockerd: ${started.stderr.slice(-2000)}`);

    const running = await eventually('the container to run again', async () => {
      const state = await docker('inspect', '-f', '{{.State.Running}}', CONTAINER);
      return state.stdout.trim() === 'true' ? true : undefined;
    }, 60_000);
    assert.equal(running, true);
    const after = await containerIp();
    const ports = await portsOnSubnet();
    assert.equal(ports.length, 1, `expected one port after the restart, found ${ports.length}`);
    const port = ports[0] as NeutronPort;
    assert.equal(port.fixed_ips[0]?.ip_address, after);
    assert.equal(port.status, 'ACTIVE');
  });
});
