/**
 * `kuryr doctor`: checks what the daemon needs, one line per check with
 * PASS, WARN or FAIL, and the fix for each failure. Checks that depend on an
 * earlier one (Neutron on Keystone) are skipped with a FAIL naming it.
 */
import { constants } from 'node:fs';
import { access, readFile, readdir, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import type { KuryrConfig } from '../config/index.js';
import type { CommandRunner } from '../host/index.js';
import type { KeystoneSession, NeutronClient } from '../neutron/index.js';
import { REQUIRED_EXTENSIONS } from '../daemon/observability.js';

export type CheckStatus = 'PASS' | 'WARN' | 'FAIL';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  /** Remedy for a WARN or FAIL. */
  fix?: string;
}

export interface DoctorDependencies {
  config: KuryrConfig;
  hostName: string;
  session: Pick<KeystoneSession, 'getToken' | 'getProjectId'>;
  neutron: Pick<NeutronClient, 'extensions' | 'agents'>;
  runner: CommandRunner;
  /** Path of the spec file that enable_tcp writes. */
  specFile: string;
  /** Places that show veth support; the defaults are the real ones. */
  kernel?: Partial<KernelPaths>;
}

export interface KernelPaths {
  /** Present when the veth module is loaded or built in with parameters. */
  vethModuleDir: string;
  /** Lists loaded modules. */
  modulesFile: string;
  /** The running kernel's gzip-compressed configuration. */
  configGz: string;
  /** `modules.builtin` and `modules.dep` of the running kernel. */
  modulesDir: string;
}

/** Neutron agent binaries that plug a kuryr port's tap on this host. */
const L2_AGENT_BINARIES = ['neutron-linuxbridge-agent', 'neutron-openvswitch-agent', 'ovn-controller', 'neutron-ovn-metadata-agent'];

export async function runDoctor(deps: DoctorDependencies): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const keystone = await checkKeystone(deps);
  results.push(keystone);
  if (keystone.status === 'FAIL') {
    const skipped = { status: 'FAIL' as const, detail: 'not checked because Keystone authentication failed', fix: 'fix the Keystone check first' };
    results.push({ name: 'neutron extensions', ...skipped }, { name: 'L2 agent', ...skipped });
  } else {
    results.push(...(await checkExtensions(deps)));
    results.push(await checkAgent(deps));
  }
  results.push(await checkIpBinary(deps), await checkVeth(deps), await checkBindir(deps), await checkSocket(deps), await checkSpecFile(deps));
  return results;
}

async function checkKeystone(deps: DoctorDependencies): Promise<CheckResult> {
  const authUrl = deps.config.neutron.auth_url ?? '(unset)';
  try {
    await deps.session.getToken();
    const projectId = await deps.session.getProjectId();
    return { name: 'keystone', status: 'PASS', detail: `authenticated at ${authUrl}, project id ${projectId ?? 'unknown'}` };
  } catch (error) {
    return { name: 'keystone', status: 'FAIL', detail: messageOf(error), fix: 'check [neutron] auth_url and the credentials with `kuryr config show`' };
  }
}

async function checkExtensions(deps: DoctorDependencies): Promise<CheckResult[]> {
  let aliases: Set<string>;
  try {
    aliases = new Set((await deps.neutron.extensions.list()).map((extension) => extension.alias));
  } catch (error) {
    return [{ name: 'neutron', status: 'FAIL', detail: messageOf(error), fix: 'check that the catalog has a network endpoint for [neutron] region_name and endpoint_type, and that it is reachable' }];
  }
  return REQUIRED_EXTENSIONS.map((alias) =>
    aliases.has(alias)
      ? { name: `neutron extension ${alias}`, status: 'PASS', detail: 'enabled' }
      : { name: `neutron extension ${alias}`, status: 'FAIL', detail: 'missing', fix: `enable the ${alias} extension in neutron-server (service plugins or ML2 extension drivers)` },
  );
}

async function checkAgent(deps: DoctorDependencies): Promise<CheckResult> {
  try {
    const agents = (await deps.neutron.agents.list({ host: deps.hostName })).filter((agent) => L2_AGENT_BINARIES.includes(agent.binary));
    const alive = agents.filter((agent) => agent.alive && agent.admin_state_up);
    if (alive.length > 0) return { name: 'L2 agent', status: 'PASS', detail: `${alive.map((agent) => agent.binary).join(', ')} alive on host "${deps.hostName}"` };
    const detail = agents.length === 0 ? `no L2 agent reports host "${deps.hostName}"` : `the L2 agent on host "${deps.hostName}" is down or disabled`;
    return { name: 'L2 agent', status: 'FAIL', detail, fix: 'start the L2 agent on this host, and make [DEFAULT] host equal to the agent\'s host setting' };
  } catch (error) {
    return { name: 'L2 agent', status: 'FAIL', detail: messageOf(error), fix: 'the credentials need the admin role to list agents' };
  }
}

async function checkIpBinary(deps: DoctorDependencies): Promise<CheckResult> {
  try {
    const result = await deps.runner.run(['ip', '-V'], { allowFailure: true });
    if (result.exitCode === 0) return { name: 'ip binary', status: 'PASS', detail: (result.stdout || result.stderr).trim() };
    return { name: 'ip binary', status: 'FAIL', detail: `ip -V exited with ${result.exitCode}`, fix: 'install iproute2' };
  } catch (error) {
    return { name: 'ip binary', status: 'FAIL', detail: messageOf(error), fix: 'install iproute2 and put ip on PATH' };
  }
}

async function checkVeth(deps: DoctorDependencies): Promise<CheckResult> {
  const paths: KernelPaths = {
    vethModuleDir: '/sys/module/veth',
    modulesFile: '/proc/modules',
    configGz: '/proc/config.gz',
    modulesDir: `/lib/modules/${release()}`,
    ...deps.kernel,
  };
  const pass = (detail: string): CheckResult => ({ name: 'veth support', status: 'PASS', detail });
  if (await exists(paths.vethModuleDir)) return pass(`${paths.vethModuleDir} exists`);

  const modules = await readFile(paths.modulesFile, 'utf8').catch(() => '');
  if (/^veth /m.test(modules)) return pass('veth module loaded');

  const kernelConfig = await readFile(paths.configGz).then((data) => gunzipSync(data).toString('utf8'), () => '');
  const configured = /^CONFIG_VETH=([ym])$/m.exec(kernelConfig);
  if (configured !== null) return pass(configured[1] === 'y' ? 'built into the kernel (CONFIG_VETH=y)' : 'available as a module (CONFIG_VETH=m)');

  for (const name of ['modules.builtin', 'modules.dep']) {
    const list = await readFile(`${paths.modulesDir}/${name}`, 'utf8').catch(() => '');
    if (/\/veth\.ko/.test(list)) return pass(`listed in ${paths.modulesDir}/${name}`);
  }
  return { name: 'veth support', status: 'FAIL', detail: 'no sign of the veth driver in the running kernel', fix: 'run `modprobe veth`, or use a kernel with CONFIG_VETH' };
}

async function checkBindir(deps: DoctorDependencies): Promise<CheckResult> {
  const bindir = deps.config.DEFAULT.bindir;
  const info = await stat(bindir).catch(() => undefined);
  if (info === undefined) {
    return {
      name: 'bindir',
      status: 'WARN',
      detail: `${bindir} does not exist; ports of vif_type bridge, tap and ovs need no script`,
      fix: 'install the binding scripts there if Neutron binds ports with another vif_type, or set [DEFAULT] bindir',
    };
  }
  if (!info.isDirectory()) return { name: 'bindir', status: 'FAIL', detail: `${bindir} is not a directory`, fix: 'set [DEFAULT] bindir to the directory of the binding scripts' };
  const scripts = await readdir(bindir);
  return { name: 'bindir', status: 'PASS', detail: `${bindir}: ${scripts.length === 0 ? 'no scripts' : scripts.sort().join(', ')}` };
}

async function checkSocket(deps: DoctorDependencies): Promise<CheckResult> {
  const socketPath = deps.config.DEFAULT.socket_path;
  const info = await stat(socketPath).catch(() => undefined);
  if (info === undefined) return { name: 'plugin socket', status: 'FAIL', detail: `${socketPath} does not exist`, fix: 'start the daemon: kuryr serve (or systemctl start kuryr)' };
  if (!info.isSocket()) return { name: 'plugin socket', status: 'FAIL', detail: `${socketPath} is not a socket`, fix: 'remove the file and restart the daemon' };
  const reply = await activate(socketPath).catch((error: unknown) => messageOf(error));
  if (reply === 200) return { name: 'plugin socket', status: 'PASS', detail: `${socketPath} answers Plugin.Activate` };
  return { name: 'plugin socket', status: 'FAIL', detail: `${socketPath}: ${String(reply)}`, fix: 'restart the daemon; a socket without a listener is left by a killed daemon' };
}

async function checkSpecFile(deps: DoctorDependencies): Promise<CheckResult> {
  const text = await readFile(deps.specFile, 'utf8').catch(() => undefined);
  if (!deps.config.DEFAULT.enable_tcp) {
    if (text === undefined) return { name: 'spec file', status: 'PASS', detail: `not used: dockerd finds ${deps.config.DEFAULT.socket_path}` };
    return { name: 'spec file', status: 'WARN', detail: `${deps.specFile} exists but enable_tcp is false`, fix: `remove ${deps.specFile} unless another plugin named kuryr uses it` };
  }
  if (text === undefined) return { name: 'spec file', status: 'FAIL', detail: `${deps.specFile} is missing`, fix: 'start the daemon with enable_tcp = true, or run kuryr install-spec' };
  const url = new URL(deps.config.DEFAULT.kuryr_uri);
  const expected = `${url.protocol}//${url.host}`;
  if (text.trim() === expected) return { name: 'spec file', status: 'PASS', detail: `${deps.specFile}: ${text.trim()}` };
  return { name: 'spec file', status: 'FAIL', detail: `${deps.specFile} contains "${text.trim()}", expected "${expected}"`, fix: 'run kuryr install-spec' };
}

/** Formats the results, one line each, with the fix indented below a WARN or FAIL. */
export function formatResults(results: readonly CheckResult[]): string {
  const lines: string[] = [];
  for (const result of results) {
    lines.push(`${result.status.padEnd(4)}  ${result.name}: ${result.detail}`);
    if (result.status !== 'PASS' && result.fix !== undefined) lines.push(`      fix: ${result.fix}`);
  }
  const failed = results.filter((result) => result.status === 'FAIL').length;
  lines.push('', failed === 0 ? 'all checks passed' : `${failed} check(s) failed`);
  return `${lines.join('\n')}\n`;
}

function activate(socketPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const call = request({ socketPath, path: '/Plugin.Activate', method: 'POST', timeout: 5_000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    call.on('timeout', () => call.destroy(new Error('no reply within 5 s')));
    call.on('error', reject);
    call.end('{}');
  });
}

async function exists(path: string): Promise<boolean> {
  return access(path, constants.F_OK).then(
    () => true,
    () => false,
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
