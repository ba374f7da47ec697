/**
 * With neutron-server stopped, `docker network create` must fail with an
 * error that names the Neutron endpoint, and the daemon must keep serving.
 * The lab's own start script brings neutron-server back afterwards.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { command, docker, dockerOk, eventually } from '../support/lab.js';

const NEUTRON_PID_FILE = '/run/kuryr-lab/pids/neutron-server.pid';
const NETWORK = 'kuryr-e2e-neutron-down';

async function neutronServerPid(): Promise<number> {
  const pid = Number((await readFile(NEUTRON_PID_FILE, 'utf8')).trim());
  const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
  assert.match(cmdline, /neutron-server/, `pid ${pid} from ${NEUTRON_PID_FILE} is not neutron-server`);
  return pid;
}

async function neutronAnswers(): Promise<boolean> {
  try {
    const response = await fetch('http://127.0.0.1:9696/', { signal: AbortSignal.timeout(2000) });
    return response.status < 500;
  } catch {
    return false;
  }
}

describe('Neutron down', () => {
  after(async () => {
    await docker('network', 'rm', NETWORK);
    const restarted = await command(['bash', 'lab/up.sh'], { LAB_SMOKE: '0' }, 300_000);
    assert.equal(restarted.code, 0, `lab/up.sh failed to restore Neutron: ${restarted.stderr.slice(-2000)}`);
  });

  it('reports the Neutron endpoint and keeps serving', async () => {
    process.kill(await neutronServerPid(), 'SIGTERM');
    await eventually('neutron-server to stop answering', async () => ((await neutronAnswers()) ? undefined : true), 60_000);

    const created = await docker(
      'network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr',
      '--subnet', '10.77.0.0/24', '--gateway', '10.77.0.1', NETWORK,
    );
    assert.notEqual(created.code, 0);
    assert.match(created.stderr, /IpamDriver\.RequestPool: .*127\.0\.0\.1:9696/);

    // The daemon still serves the handshake, and Docker's own commands work.
    const activate = await command(['curl', '-sf', '--unix-socket', '/run/docker/plugins/kuryr.sock', '-X', 'POST', 'http://kuryr/Plugin.Activate']);
    assert.equal(activate.code, 0, activate.stderr);
    assert.deepEqual(JSON.parse(activate.stdout), { Implements: ['NetworkDriver', 'IpamDriver'] });
    await dockerOk('network', 'ls');
  });
});
