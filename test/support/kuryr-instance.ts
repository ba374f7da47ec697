/**
 * A second kuryr daemon for reliability tests, beside the lab's own one,
 * which it never touches. It runs in the lab namespace under its own plugin
 * name, so Docker networks use `--driver NAME --ipam-driver NAME`, with its
 * own socket, configuration and log, and with metrics off.
 *
 * Two fault proxies sit around it, both programmable by the test:
 * - `neutron`, between the daemon and the real Neutron. The daemon reaches it
 *   through `[neutron] endpoint_override` and a forwarder in the namespace,
 *   because the proxy runs in the test process in the host namespace.
 * - `plugin`, between dockerd and the daemon: it listens on the socket
 *   dockerd discovers (/run/docker/plugins/NAME.sock) and forwards to the
 *   daemon's own socket, so a test can hold a Docker call such as
 *   /NetworkDriver.Join while it kills the daemon.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'ini';
import { FaultProxy } from './fault-proxy.js';
import { command, LAB_NAMESPACE } from './lab.js';

const REPO_DIR = new URL('../..', import.meta.url).pathname;
const LAB_CONFIG = '/var/lib/kuryr-lab/etc/kuryr/kuryr.conf';
const NEUTRON_PORT = 9696;
const START_TIMEOUT_MS = 30_000;

export interface KuryrInstanceOptions {
  /** Plugin name: Docker finds the daemon at /run/docker/plugins/NAME.sock. */
  name: string;
  /** Extra configuration keys by section, for example `{ neutron: { timeout: '2' } }`. */
  config?: Record<string, Record<string, string>>;
}

export class KuryrInstance {
  readonly name: string;
  readonly neutron = new FaultProxy({ host: '127.0.0.1', port: NEUTRON_PORT });
  readonly plugin: FaultProxy;
  readonly runDir: string;
  readonly logFile: string;
  readonly configFile: string;
  readonly #daemonSocket: string;
  readonly #extraConfig: Record<string, Record<string, string>>;
  #daemon: ChildProcess | undefined;
  #forwarder: ChildProcess | undefined;
  /** Number of daemon processes started, restarts included. */
  starts = 0;

  constructor(options: KuryrInstanceOptions) {
    this.name = options.name;
    this.runDir = `/run/kuryr-test/${options.name}`;
    this.logFile = join(this.runDir, 'kuryr.log');
    this.configFile = join(this.runDir, 'kuryr.conf');
    this.#daemonSocket = join(this.runDir, 'daemon.sock');
    this.plugin = new FaultProxy({ socketPath: this.#daemonSocket });
    this.#extraConfig = options.config ?? {};
  }

  /** Starts the proxies, the forwarder and the daemon; resolves once the daemon serves Plugin.Activate. */
  async setUp(): Promise<void> {
    // The log of earlier runs is kept: it is the record when a run fails.
    await mkdir(this.runDir, { recursive: true });
    await rm(this.#daemonSocket, { force: true });
    const neutronSocket = join(this.runDir, 'neutron.sock');
    await this.neutron.listen({ socketPath: neutronSocket });
    const forwarder = await startForwarder(neutronSocket);
    this.#forwarder = forwarder.process;
    await this.#writeConfig(`http://127.0.0.1:${forwarder.port}`);
    await this.start();
    await this.plugin.listen({ socketPath: `/run/docker/plugins/${this.name}.sock` });
  }

  /** Stops everything setUp started, by the PIDs it recorded. */
  async tearDown(): Promise<void> {
    await this.stop();
    this.#forwarder?.kill('SIGTERM');
    await this.plugin.close();
    await this.neutron.close();
  }

  /** Starts the daemon process and waits until it serves its socket. */
  async start(): Promise<void> {
    if (this.#daemon !== undefined) throw new Error(`kuryr instance "${this.name}" is already running (pid ${this.#daemon.pid ?? '?'})`);
    const log = openSync(this.logFile, 'a');
    const daemon = spawn('ip', ['netns', 'exec', LAB_NAMESPACE, process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'serve', '--config-file', this.configFile], {
      cwd: REPO_DIR,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.#daemon = daemon;
    this.starts += 1;
    daemon.once('exit', () => {
      if (this.#daemon === daemon) this.#daemon = undefined;
    });
    await this.#waitForSocket(daemon);
  }

  /** Sends SIGKILL to the daemon, by its PID, and waits for it to exit. */
  async kill(): Promise<void> {
    await this.#signal('SIGKILL');
  }

  /** Sends SIGTERM to the daemon and waits for it to exit. */
  async stop(): Promise<void> {
    await this.#signal('SIGTERM');
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  get running(): boolean {
    return this.#daemon !== undefined;
  }

  /** Returns the daemon's log lines that are JSON, parsed. */
  async logRecords(): Promise<Array<Record<string, unknown>>> {
    const text = await readFile(this.logFile, 'utf8').catch(() => '');
    return text.split('\n').flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  async #signal(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const daemon = this.#daemon;
    if (daemon === undefined) return;
    const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
    daemon.kill(signal);
    await exited;
  }

  async #writeConfig(neutronUrl: string): Promise<void> {
    const config = parse(await readFile(LAB_CONFIG, 'utf8')) as Record<string, Record<string, string>>;
    // Its own state directory, so it never replays the lab daemon's journal of pending port deletes.
    const own = { socket_path: this.#daemonSocket, metrics_address: '0', log_level: 'debug', state_dir: join(this.runDir, 'state') };
    config.DEFAULT = { ...config.DEFAULT, ...own, ...this.#extraConfig.DEFAULT };
    config.neutron = { ...config.neutron, endpoint_override: neutronUrl, ...this.#extraConfig.neutron };
    for (const [section, keys] of Object.entries(this.#extraConfig)) {
      if (section !== 'DEFAULT' && section !== 'neutron') config[section] = { ...config[section], ...keys };
    }
    await writeFile(this.configFile, stringify(config), { mode: 0o600 });
  }

  async #waitForSocket(daemon: ChildProcess): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (daemon.exitCode !== null || daemon.signalCode !== null) {
        const tail = (await readFile(this.logFile, 'utf8').catch(() => '')).split('\n').slice(-20).join('\n');
        throw new Error(`kuryr instance "${this.name}" exited during start; last log lines:\n${tail}`);
      }
      const activate = await command(['curl', '-sf', '--max-time', '2', '--unix-socket', this.#daemonSocket, '-X', 'POST', 'http://kuryr/Plugin.Activate'], {}, 5_000);
      if (activate.code === 0) return;
      await sleep(100);
    }
    throw new Error(`kuryr instance "${this.name}" did not serve ${this.#daemonSocket} within ${START_TIMEOUT_MS} ms: see ${this.logFile}`);
  }
}

/** Starts the TCP-to-unix forwarder in the lab namespace on a free loopback port there. */
async function startForwarder(socketPath: string): Promise<{ process: ChildProcess; port: number }> {
  const forwarder = spawn('ip', ['netns', 'exec', LAB_NAMESPACE, process.execPath, '--import', 'tsx', 'test/support/netns-forwarder.ts', '0', socketPath], {
    cwd: REPO_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  forwarder.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the forwarder to ${socketPath} did not start within 15 s: ${stderr}`)), 15_000);
    forwarder.stdout?.on('data', (chunk: Buffer) => {
      const match = /listening (\d+)/.exec(chunk.toString());
      if (match === null) return;
      clearTimeout(timer);
      resolve(Number(match[1]));
    });
    forwarder.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the forwarder to ${socketPath} exited with ${code ?? 'a signal'}: ${stderr}`));
    });
  });
  return { process: forwarder, port };
}
