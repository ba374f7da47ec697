/**
 * Crash recovery: a second kuryr daemon is killed with SIGKILL at one step
 * of `docker run`, container removal, `docker network create` or
 * `docker network rm` per run. The step is picked exactly. A fault proxy
 * keeps the matching Neutron request or Docker plugin call waiting, and the
 * test kills the daemon. It then drops that request (the step never
 * happened) or forwards it (the step happened, and its reply was lost). After a restart,
 * Docker commands must work again, and once the test networks are removed,
 * `kuryr gc` must find and delete whatever was left, so that no port,
 * subnet, subnet pool, network, security group or device remains.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { vethNames } from '../../src/binding/names.js';
import { KuryrInstance } from '../support/kuryr-instance.js';
import { countLeftovers, findLeftovers, type Leftovers } from '../support/leaks.js';
import { command, docker, dockerOk, DOCKER_HOST, LAB_NAMESPACE, type CommandOutput } from '../support/lab.js';

const DRIVER = 'kuryr-rel';
const NETWORK = 'rel-crash';
const SUBNET = '10.75.0.0/24';
const HOLD_TIMEOUT_MS = 60_000;
const DOCKER_TIMEOUT_MS = 120_000;
const UUID = '[0-9a-f-]{36}';

type Phase = 'run' | 'remove' | 'create-network' | 'remove-network';

interface CrashPoint {
  phase: Phase;
  /** The proxy that keeps the request waiting: between kuryr and Neutron, or between dockerd and kuryr. */
  proxy: 'neutron' | 'plugin';
  method: string;
  path: RegExp;
  /**
   * drop: kill, then reset the held request, so the step never ran.
   * forward: kill, then send the request on, so the step ran but its reply was lost.
   * finish: let the daemon handle the plugin call, then kill it before Docker gets the reply.
   */
  then: 'drop' | 'forward' | 'finish';
  /** Extra `docker run` arguments. */
  runArgs?: string[];
}

const plugin = (phase: Phase, verb: string, then: CrashPoint['then']): CrashPoint => ({ phase, proxy: 'plugin', method: 'POST', path: new RegExp(`^/${verb.replace('.', '\\.')}$`), then });
const neutron = (phase: Phase, method: string, path: string, then: CrashPoint['then'], runArgs?: string[]): CrashPoint => ({
  phase,
  proxy: 'neutron',
  method,
  path: new RegExp(`^/v2\\.0/${path}$`),
  then,
  ...(runArgs === undefined ? {} : { runArgs }),
});

const CRASH_POINTS: CrashPoint[] = [
  plugin('run', 'IpamDriver.RequestAddress', 'drop'),
  neutron('run', 'POST', 'ports', 'drop'),
  neutron('run', 'POST', 'ports', 'forward'),
  plugin('run', 'IpamDriver.RequestAddress', 'finish'),
  plugin('run', 'NetworkDriver.CreateEndpoint', 'drop'),
  neutron('run', 'PUT', `ports/${UUID}/tags`, 'drop'),
  neutron('run', 'PUT', `ports/${UUID}/tags`, 'forward'),
  neutron('run', 'GET', `ports/${UUID}`, 'forward'),
  plugin('run', 'NetworkDriver.CreateEndpoint', 'finish'),
  plugin('run', 'NetworkDriver.Join', 'drop'),
  plugin('run', 'NetworkDriver.Join', 'finish'),
  neutron('run', 'POST', 'security-groups', 'forward', ['--expose', '8080']),
  neutron('run', 'PUT', `security-groups/${UUID}/tags`, 'forward', ['--expose', '8081']),
  plugin('remove', 'NetworkDriver.RevokeExternalConnectivity', 'drop'),
  plugin('remove', 'NetworkDriver.Leave', 'drop'),
  plugin('remove', 'NetworkDriver.DeleteEndpoint', 'drop'),
  plugin('remove', 'NetworkDriver.DeleteEndpoint', 'finish'),
  plugin('remove', 'IpamDriver.ReleaseAddress', 'drop'),
  neutron('remove', 'DELETE', `ports/${UUID}`, 'drop'),
  neutron('remove', 'DELETE', `ports/${UUID}`, 'forward'),
  neutron('create-network', 'POST', 'subnetpools', 'drop'),
  neutron('create-network', 'POST', 'subnetpools', 'forward'),
  neutron('create-network', 'POST', 'networks', 'forward'),
  neutron('create-network', 'PUT', `networks/${UUID}/tags`, 'forward'),
  neutron('create-network', 'POST', 'subnets', 'forward'),
  plugin('create-network', 'NetworkDriver.CreateNetwork', 'finish'),
  plugin('remove-network', 'IpamDriver.ReleasePool', 'drop'),
  neutron('remove-network', 'DELETE', `subnets/${UUID}`, 'forward'),
  plugin('remove-network', 'NetworkDriver.DeleteNetwork', 'drop'),
  neutron('remove-network', 'DELETE', `networks/${UUID}`, 'forward'),
];

const kuryr = new KuryrInstance({ name: DRIVER, config: { neutron: { vif_plugging_timeout: '30' } } });

function describePoint(point: CrashPoint): string {
  return `${point.phase}: ${point.then} ${point.method} ${point.path.source.replace(/^\^|\$$/g, '').replaceAll('\\', '').replaceAll(UUID, '{id}')}${point.runArgs === undefined ? '' : ` (${point.runArgs.join(' ')})`}`;
}

function dockerSlow(...args: string[]): Promise<CommandOutput> {
  return command(['docker', ...args], { DOCKER_HOST }, DOCKER_TIMEOUT_MS);
}

/** Starts `step`, waits for the held request, kills the daemon as `point.then` selects, restarts it, and returns the step's output. */
async function crashDuring(point: CrashPoint, step: () => Promise<CommandOutput>): Promise<CommandOutput> {
  const proxy = point.proxy === 'neutron' ? kuryr.neutron : kuryr.plugin;
  proxy.addRule({ method: point.method, path: point.path, action: { kind: 'hold' } });
  const running = step();
  try {
    const held = await proxy.nextHeld(HOLD_TIMEOUT_MS);
    if (point.then === 'finish') {
      await held.forward();
      await kuryr.kill();
    } else {
      await kuryr.kill();
      if (point.then === 'drop') held.drop();
      else await held.forward();
    }
  } finally {
    proxy.clearRules();
  }
  await kuryr.start();
  return running;
}

/** Runs gc for this daemon and returns the ids and tap names it lists as leftovers. */
async function gc(...args: string[]): Promise<{ output: string; leftoverIds: string[] }> {
  const result = await command(
    ['ip', 'netns', 'exec', LAB_NAMESPACE, process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'gc', '--config-file', kuryr.configFile, '--driver', DRIVER, ...args],
    { DOCKER_HOST },
    120_000,
  );
  assert.equal(result.code, 0, `kuryr gc ${args.join(' ')} failed: ${result.stderr}${result.stdout}`);
  const leftoverIds = [...result.stdout.matchAll(/^leftover \w+: (?:port|veth|subnet pool|subnet|network) (\S+)/gm)].map((match) => match[1] as string);
  return { output: result.stdout, leftoverIds };
}

/** Returns the gc leftovers that this test created: its Neutron ids and the taps of its ports. */
function ownLeftovers(leftoverIds: string[]): string[] {
  const own = new Set<string>();
  for (const ids of kuryr.neutron.created.values()) for (const id of ids) own.add(id);
  for (const portId of kuryr.neutron.created.get('ports') ?? []) own.add(vethNames(portId).hostIfName);
  return leftoverIds.filter((id) => own.has(id));
}

/** Returns the line of Docker's output that carries the error. */
function errorLine(stderr: string): string {
  const lines = stderr.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines.find((line) => /error/i.test(line)) ?? lines[0] ?? '';
}

async function removeTestContainers(): Promise<void> {
  const containers = await docker('ps', '-aq', '--filter', 'name=^rel-crash-');
  for (const id of containers.stdout.split('\n').filter((line) => line !== '')) await docker('rm', '-f', id);
}

describe('crash recovery', () => {
  const outcomes: string[] = [];
  let leftoversBeforeGc: Leftovers | undefined;

  before(async () => {
    await kuryr.setUp();
    await removeTestContainers();
    await docker('network', 'rm', NETWORK);
    await dockerOk('network', 'create', '--driver', DRIVER, '--ipam-driver', DRIVER, '--subnet', SUBNET, NETWORK);
  });

  after(async () => {
    await removeTestContainers();
    await docker('network', 'rm', NETWORK);
    await kuryr.tearDown();
    process.stdout.write(`crash runs:\n${outcomes.join('\n')}\n`);
    if (leftoversBeforeGc !== undefined) process.stdout.write(`left for gc: ${JSON.stringify(leftoversBeforeGc)}\n`);
  });

  for (const [index, point] of CRASH_POINTS.entries()) {
    it(`recovers from a kill at ${describePoint(point)}`, async () => {
      const container = `rel-crash-${index}`;
      const runArgs = point.runArgs ?? [];
      let output: CommandOutput;

      switch (point.phase) {
        case 'run':
          output = await crashDuring(point, () => dockerSlow('run', '-d', '--name', container, '--net', NETWORK, ...runArgs, 'busybox', 'sleep', '600'));
          await docker('rm', '-f', container);
          break;
        case 'remove':
          await dockerOk('run', '-d', '--name', container, '--net', NETWORK, 'busybox', 'sleep', '600');
          output = await crashDuring(point, () => dockerSlow('rm', '-f', container));
          await docker('rm', '-f', container);
          break;
        case 'create-network': {
          const name = `rel-crash-net-${index}`;
          output = await crashDuring(point, () => dockerSlow('network', 'create', '--driver', DRIVER, '--ipam-driver', DRIVER, '--subnet', `10.76.${index}.0/24`, name));
          // A network that Docker did create must have the requested subnet, never a substitute.
          if (output.code === 0) assert.equal(await dockerOk('network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', name), `10.76.${index}.0/24`);
          await docker('network', 'rm', name);
          break;
        }
        case 'remove-network': {
          const name = `rel-crash-net-${index}`;
          await dockerOk('network', 'create', '--driver', DRIVER, '--ipam-driver', DRIVER, '--subnet', `10.76.${index}.0/24`, name);
          output = await crashDuring(point, () => dockerSlow('network', 'rm', name));
          await docker('network', 'rm', name);
          break;
        }
      }
      outcomes.push(`${describePoint(point)}: exit ${output.code}${output.code === 0 ? '' : `, ${errorLine(output.stderr)}`}`);

      // Docker works again: a container on the network, and for network
      // points a fresh network with the same subnet.
      const run = await dockerSlow('run', '--rm', '--net', NETWORK, 'busybox', 'true');
      assert.equal(run.code, 0, `docker run after the restart failed: ${run.stderr}`);
      if (point.phase === 'create-network' || point.phase === 'remove-network') {
        const name = `rel-crash-again-${index}`;
        const created = await dockerSlow('network', 'create', '--driver', DRIVER, '--ipam-driver', DRIVER, '--subnet', `10.76.${index}.0/24`, name);
        assert.equal(created.code, 0, `network create after the restart failed: ${created.stderr}`);
        const removed = await dockerSlow('network', 'rm', name);
        assert.equal(removed.code, 0, `network rm after the restart failed: ${removed.stderr}`);
      }
    });
  }

  it('leaves nothing after gc', async () => {
    const removed = await docker('network', 'rm', NETWORK);
    assert.equal(removed.code, 0, removed.stderr);
    leftoversBeforeGc = await findLeftovers(kuryr.neutron.created);

    const plan = await gc();
    const own = ownLeftovers(plan.leftoverIds);
    if (own.length > 0) await gc('--apply', '--include-networks', '--id', ...own);

    const leftovers = await findLeftovers(kuryr.neutron.created);
    assert.equal(countLeftovers(leftovers), 0, `left after gc: ${JSON.stringify(leftovers)}\ngc plan:\n${plan.output}`);
  });
});
