/** The actions of `kuryr doctor`, `status`, `gc` and `install-spec`: configuration, clients, then the command's work. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import type { ResolvedConfig } from '../config/index.js';
import { createOpenStackClients } from '../daemon/openstack.js';
import { ExecFileRunner, IpLink } from '../host/index.js';
import type { Logger } from 'pino';
import { DockerClient, dockerSocketPath } from './docker.js';
import { formatResults, runDoctor } from './doctor.js';
import { applyGc, planGc } from './gc.js';
import { collectInventory, type InventoryScope } from './inventory.js';
import { formatStatus } from './status.js';
import { listVethTaps } from './taps.js';
import { SPEC_FILE } from '../daemon/spec-file.js';


/** Runs the checks and prints them; returns the exit code. */
export async function doctorAction(resolved: ResolvedConfig, logger: Logger): Promise<number> {
  const config = resolved.config;
  const { session, neutron } = createOpenStackClients(config, logger);
  const results = await runDoctor({
    config,
    hostName: config.DEFAULT.host ?? hostname(),
    session,
    neutron,
    runner: new ExecFileRunner({ logger }),
    specFile: SPEC_FILE,
  });
  process.stdout.write(formatResults(results));
  return results.some((result) => result.status === 'FAIL') ? 1 : 0;
}

export async function statusAction(resolved: ResolvedConfig, logger: Logger, driver: string): Promise<number> {
  const { docker, inventory } = await gather(resolved, logger, driver);
  process.stdout.write(formatStatus(docker, inventory));
  return 0;
}

export interface GcOptions {
  apply: boolean;
  includeNetworks: boolean;
  driver: string;
  /** When set, only leftovers with these ids (or tap names) are deleted. */
  id?: string[];
}

export async function gcAction(resolved: ResolvedConfig, logger: Logger, options: GcOptions): Promise<number> {
  const { docker, inventory, neutron } = await gather(resolved, logger, options.driver);
  const ip = new IpLink(new ExecFileRunner({ logger }));
  const taps = await listVethTaps(ip);
  const leftovers = planGc(inventory, docker, taps);
  const print = (line: string): void => void process.stdout.write(`${line}\n`);
  if (leftovers.length === 0) {
    print('no leftovers');
    return 0;
  }
  const requestedIds = options.id === undefined ? undefined : new Set(options.id);
  const selected = leftovers.filter((leftover) => (!leftover.shared || options.includeNetworks) && (requestedIds === undefined || requestedIds.has(leftover.id)));
  for (const leftover of leftovers) {
    let reason = '';
    if (leftover.shared && !options.includeNetworks) reason = ' (network-level: pass --include-networks)';
    else if (!selected.includes(leftover)) reason = ' (not named by --id)';
    print(`${options.apply && reason === '' ? 'deleting' : 'leftover'} ${leftover.kind}: ${leftover.description}${reason}`);
  }
  if (!options.apply) {
    print(`${leftovers.length} leftover(s); run with --apply to delete them`);
    return 0;
  }
  const failures = await applyGc(selected, { neutron, deleteLink: async (ifName) => void (await ip.deleteLink(ifName)) }, print);
  return failures === 0 ? 0 : 1;
}

/** Writes the spec file dockerd reads for a TCP plugin: the kuryr_uri of the configuration. */
export async function installSpecAction(resolved: ResolvedConfig, specFile: string): Promise<number> {
  const url = new URL(resolved.config.DEFAULT.kuryr_uri);
  await mkdir(dirname(specFile), { recursive: true });
  await writeFile(specFile, `${url.protocol}//${url.host}\n`);
  process.stdout.write(`wrote ${specFile}: ${url.protocol}//${url.host}\n`);
  if (!resolved.config.DEFAULT.enable_tcp) process.stdout.write('note: the daemon serves TCP only with [DEFAULT] enable_tcp = true\n');
  return 0;
}

async function gather(resolved: ResolvedConfig, logger: Logger, driver: string) {
  const config = resolved.config;
  const { session, neutron } = createOpenStackClients(config, logger);
  const docker = await new DockerClient(dockerSocketPath(process.env.DOCKER_HOST)).listNetworks(driver);
  const scope: InventoryScope = {
    projectId: await session.getProjectId(),
    hostName: config.DEFAULT.host ?? hostname(),
    subnetPoolPrefix: config.DEFAULT.subnetpool_name_prefix,
  };
  const inventory = await collectInventory(neutron, scope);
  return { docker, inventory, neutron };
}
