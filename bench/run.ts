/**
 * `npm run bench`: measures kuryr-ts on the lab and prints the figures.
 * Rounds are interleaved across the kuryr network, a no-op plugin's network
 * and Docker's default bridge, so load changes hit all three alike.
 * Needs root and the lab up (`bash lab/up.sh`). Options: BENCH_ROUNDS
 * (default 10), BENCH_PARALLEL (default 50), BENCH_SCALE_NETWORKS and
 * BENCH_SCALE_PORTS (default 500 and 2000 filler resources for the last
 * rounds; 0 skips them).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { docker, dockerOk, command } from '../test/support/lab.js';
import { createFiller, deleteFiller, liftAdminQuotas } from './scale.js';
import { activeWaitTimes, fileSize, KURYR_LOG, kuryrPid, kuryrUserId, NEUTRON_LOG, neutronRequests, readSince, rssMiB, type NeutronRequests } from './lab-probe.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '10');
const PARALLEL = Number(process.env.BENCH_PARALLEL ?? '50');
const SCALE_NETWORKS = Number(process.env.BENCH_SCALE_NETWORKS ?? '500');
const SCALE_PORTS = Number(process.env.BENCH_SCALE_PORTS ?? '2000');
const REPO = join(import.meta.dirname, '..');
const LAB_CONFIG = '/var/lib/kuryr-lab/etc/kuryr/kuryr.conf';
const NO_WAIT_CONFIG = '/var/lib/kuryr-lab/etc/kuryr/kuryr-bench-nowait.conf';

/** Benchmark figures by label, printed as one summary line per label in the order the labels were first added. */
class Series {
  readonly #values = new Map<string, number[]>();

  add(label: string, value: number): void {
    const values = this.#values.get(label) ?? [];
    values.push(value);
    this.#values.set(label, values);
  }

  /** Adds the request count and neutron-server's time of one operation. */
  addRequests(operation: string, requests: NeutronRequests): void {
    this.add(`Neutron requests: ${operation}`, requests.count);
    this.add(`Neutron server time (s): ${operation}`, requests.seconds);
  }

  print(labelWidth: number): void {
    for (const [label, values] of this.#values) console.log(`${label.padEnd(labelWidth)} ${summary(values)}`);
  }
}

function summary(values: number[]): string {
  if (values.length === 0) return 'n/a';
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return `median ${median.toFixed(3)}  min ${(sorted[0] ?? 0).toFixed(3)}  max ${(sorted.at(-1) ?? 0).toFixed(3)}  (n=${sorted.length})`;
}

async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return (performance.now() - started) / 1000;
}

/**
 * Runs `action` and counts the kuryr user's Neutron requests it caused. The
 * pauses let the port deletes kuryr runs after a removal's reply land in the
 * removal's window, not in the next one.
 */
async function counted(userId: string, action: () => Promise<unknown>): Promise<NeutronRequests> {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const offset = await fileSize(NEUTRON_LOG);
  await action();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return neutronRequests(await readSince(NEUTRON_LOG, offset), userId);
}

/** Counts and times the Neutron requests of a `docker run -d`, its `rm -f`, a network create and a network rm, labelled with `suffix`. */
async function countRequests(series: Series, userId: string, suffix: string): Promise<void> {
  series.addRequests(`docker run -d${suffix}`, await counted(userId, () => dockerOk('run', '-d', '--net', 'bench-kuryr', '--name', 'bench-count', 'busybox', 'sleep', '600')));
  series.addRequests(`docker rm -f${suffix}`, await counted(userId, () => dockerOk('rm', '-f', 'bench-count')));
  series.addRequests(`network create${suffix}`, await counted(userId, () => dockerOk('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--subnet', '10.81.0.0/24', 'bench-net')));
  series.addRequests(`network rm${suffix}`, await counted(userId, () => dockerOk('network', 'rm', 'bench-net')));
}

async function startNoopPlugin(): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', 'lab-os', process.execPath, '--import', 'tsx', join(REPO, 'bench/noop-plugin.ts')], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`no-op plugin exited with ${code}`)));
  });
  return child;
}

async function setUpNetworks(): Promise<void> {
  for (const name of ['bench-kuryr', 'bench-noop']) await docker('network', 'rm', name);
  await dockerOk('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--subnet', '10.80.0.0/16', '--gateway', '10.80.0.1', '--ip-range', '10.80.0.0/20', 'bench-kuryr');
  await dockerOk('network', 'create', '--driver', 'kuryrnoop', '--ipam-driver', 'kuryrnoop', '--subnet', '10.90.0.0/16', '--gateway', '10.90.0.1', 'bench-noop');
}

async function restartKuryr(configFile: string): Promise<void> {
  const result = await command(['bash', join(REPO, 'lab/kuryr.sh'), 'restart'], { KURYR_CONFIG_FILE: configFile });
  if (result.code !== 0) throw new Error(`lab/kuryr.sh restart failed: ${result.stderr}`);
}

async function writeNoWaitConfig(): Promise<void> {
  const result = await command(['bash', '-c', `sed 's/^vif_plugging_is_fatal.*//' ${LAB_CONFIG} > ${NO_WAIT_CONFIG} && printf '\\n[neutron]\\nvif_plugging_is_fatal = false\\n' >> ${NO_WAIT_CONFIG}`]);
  if (result.code !== 0) throw new Error(result.stderr);
}

function activate(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/Plugin.Activate', method: 'POST' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** Starts a second daemon on its own socket and times spawn-to-first-answer. */
async function startToListening(): Promise<number> {
  const socket = '/run/kuryr-lab/bench-start.sock';
  const started = performance.now();
  const child = spawn('ip', ['netns', 'exec', 'lab-os', process.execPath, '--max-semi-space-size=1', join(REPO, 'dist/cli/main.js'), 'serve', '--config-file', LAB_CONFIG, '--socket', socket], { stdio: 'ignore' });
  try {
    const deadline = started + 10_000;
    while (performance.now() < deadline) {
      if (await activate(socket)) return (performance.now() - started) / 1000;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return Number.NaN;
  } finally {
    child.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  const userId = await kuryrUserId();
  const noop = await startNoopPlugin();
  const series = new Series();

  try {
    await restartKuryr(LAB_CONFIG);
    await setUpNetworks();
    const idleRss = await rssMiB(await kuryrPid());
    const networks = { kuryr: 'bench-kuryr', noop: 'bench-noop', bridge: 'bridge' } as const;
    // Warm-up: the first run on each network pays image and plugin activation costs.
    for (const network of Object.values(networks)) await dockerOk('run', '--rm', '--net', network, 'busybox', 'true');

    const kuryrLogOffset = await fileSize(KURYR_LOG);
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [label, network] of Object.entries(networks)) {
        series.add(`docker run --rm busybox true [${label}]`, await timed(() => dockerOk('run', '--rm', '--net', network, 'busybox', 'true')));
        const name = `bench-${label}-${round}`;
        series.add(`docker run -d [${label}]`, await timed(() => dockerOk('run', '-d', '--net', network, '--name', name, 'busybox', 'sleep', '600')));
        series.add(`docker rm -f [${label}]`, await timed(() => dockerOk('rm', '-f', name)));
      }
      series.add('docker network create [kuryr]', await timed(() => dockerOk('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--subnet', '10.81.0.0/24', 'bench-net')));
      series.add('docker network rm [kuryr]', await timed(() => dockerOk('network', 'rm', 'bench-net')));
      await countRequests(series, userId, '');
    }
    for (const wait of activeWaitTimes(await readSince(KURYR_LOG, kuryrLogOffset))) series.add('CreateEndpoint wait for ACTIVE (s)', wait / 1000);

    const parallelStarted = performance.now();
    const results = await Promise.all(Array.from({ length: PARALLEL }, () => docker('run', '--rm', '--net', 'bench-kuryr', 'busybox', 'true')));
    const parallelSeconds = (performance.now() - parallelStarted) / 1000;
    const failures = results.filter((result) => result.code !== 0).length;
    const afterRss = await rssMiB(await kuryrPid());

    await writeNoWaitConfig();
    await restartKuryr(NO_WAIT_CONFIG);
    await dockerOk('run', '--rm', '--net', 'bench-kuryr', 'busybox', 'true');
    for (let round = 0; round < ROUNDS; round += 1) {
      series.add('docker run --rm, ACTIVE wait off [kuryr]', await timed(() => dockerOk('run', '--rm', '--net', 'bench-kuryr', 'busybox', 'true')));
      series.add('docker run --rm, ACTIVE wait off [noop]', await timed(() => dockerOk('run', '--rm', '--net', 'bench-noop', 'busybox', 'true')));
      series.addRequests('docker run --rm, wait off', await counted(userId, () => dockerOk('run', '--rm', '--net', 'bench-kuryr', 'busybox', 'true')));
    }
    await restartKuryr(LAB_CONFIG);
    for (let round = 0; round < 5; round += 1) series.add('daemon start to listening (s)', await startToListening());

    console.log(`\nkuryr-ts benchmark, ${ROUNDS} interleaved rounds, seconds unless noted\n`);
    series.print(52);
    console.log(`${`${PARALLEL} parallel docker run --rm [kuryr]`.padEnd(52)} ${parallelSeconds.toFixed(2)} s total, ${(PARALLEL / parallelSeconds).toFixed(1)} runs/s, ${failures} failed`);
    console.log(`${'daemon RSS idle / after the runs (MiB)'.padEnd(52)} ${idleRss.toFixed(1)} / ${afterRss.toFixed(1)}`);

    if (SCALE_NETWORKS > 0) {
      const restoreQuotas = await liftAdminQuotas();
      try {
        const fillStarted = performance.now();
        await createFiller({ networks: SCALE_NETWORKS, ports: SCALE_PORTS });
        console.log(`\ncreated ${SCALE_NETWORKS} filler networks and ${SCALE_PORTS} filler ports in ${((performance.now() - fillStarted) / 1000).toFixed(0)} s`);
        const scale = `with ${SCALE_NETWORKS} networks, ${SCALE_PORTS} ports`;
        const scaled = new Series();
        for (let round = 0; round < ROUNDS; round += 1) {
          scaled.add(`docker run --rm [kuryr, ${scale}]`, await timed(() => dockerOk('run', '--rm', '--net', 'bench-kuryr', 'busybox', 'true')));
          scaled.add(`docker run -d [kuryr, ${scale}]`, await timed(() => dockerOk('run', '-d', '--net', 'bench-kuryr', '--name', 'bench-scale', 'busybox', 'sleep', '600')));
          scaled.add(`docker rm -f [kuryr, ${scale}]`, await timed(() => dockerOk('rm', '-f', 'bench-scale')));
          scaled.add(`docker network create [kuryr, ${scale}]`, await timed(() => dockerOk('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', '--subnet', '10.81.0.0/24', 'bench-net')));
          scaled.add(`docker network rm [kuryr, ${scale}]`, await timed(() => dockerOk('network', 'rm', 'bench-net')));
          await countRequests(scaled, userId, ` [${scale}]`);
        }
        scaled.print(76);
      } finally {
        await docker('rm', '-f', 'bench-scale');
        await docker('network', 'rm', 'bench-net');
        await deleteFiller();
        await restoreQuotas();
      }
    }
  } finally {
    await docker('rm', '-f', 'bench-count');
    for (const name of ['bench-kuryr', 'bench-noop', 'bench-net']) await docker('network', 'rm', name);
    noop.kill('SIGTERM');
  }
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
