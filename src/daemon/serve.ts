/**
 * `kuryr serve`: wires configuration, the OpenStack clients, the binder and
 * the protocol server, then listens until SIGTERM or SIGINT. It listens at
 * once and never waits for Keystone or Neutron: a daemon that is not
 * listening makes dockerd stall for 15 s per call.
 */
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { resolveConfig, type KuryrConfig } from '../config/index.js';
import { ExecFileRunner } from '../host/index.js';
import type { CallInfo } from '../neutron/index.js';
import { createLogger, logFilePath, type LogFormat } from '../observability/index.js';
import { createProtocolServer } from '../protocol/index.js';
import { createDriverService, FileJournal, PortReaper, ServiceContext, systemClock } from '../service/index.js';
import { createBinder, portSettings } from './binder.js';
import { listenOnSocket, listenOnTcp } from './listen.js';
import { SPEC_FILE } from './spec-file.js';
import { DaemonObservability, probeOpenStack } from './observability.js';
import { createOpenStackClients } from './openstack.js';

export interface ServeOptions {
  configFile: string;
  /** False when configFile is the built-in default, which may then be missing. */
  configFileExplicit?: boolean;
  socket?: string;
  logFormat?: LogFormat;
  /** Resolves to stop the daemon; by default it runs until SIGTERM or SIGINT. */
  until?: Promise<void>;
  /** Environment variables to read; process.env by default. */
  env?: NodeJS.ProcessEnv;
}

/** How long a stopping daemon waits for pending port deletes. */
const STOP_DRAIN_MS = 5000;

export async function serve(options: ServeOptions): Promise<void> {
  const resolved = await resolveConfig({
    configFile: options.configFile,
    configFileExplicit: options.configFileExplicit ?? true,
    ...(options.env === undefined ? {} : { env: options.env }),
    overrides: options.socket === undefined ? [] : [{ source: 'cli:--socket', sections: { DEFAULT: { socket_path: options.socket } } }],
  });
  const config = resolved.config;
  const logger = createLogger({
    level: config.DEFAULT.debug ? 'debug' : config.DEFAULT.log_level,
    format: options.logFormat ?? 'json',
    file: logFilePath(config.DEFAULT.log_file, config.DEFAULT.log_dir),
  });
  // Which file and variables were used, never their values: `kuryr config show` prints those.
  logger.info({ configFile: resolved.configFile ?? null, sources: [...new Set(resolved.sources.values())].sort() }, 'configuration loaded');
  for (const warning of resolved.warnings) logger.warn(warning);

  const observability = new DaemonObservability(logger);
  const context = buildContext(config, logger, observability.onNeutronCall);
  const server = createProtocolServer({
    service: createDriverService(context),
    logger,
    scope: config.DEFAULT.capability_scope,
    onRequest: observability.onRequest,
  });
  const socketPath = config.DEFAULT.socket_path;
  await listenOnSocket(server, socketPath);
  logger.info({ socketPath, hostName: context.config.hostName }, 'listening');

  const tcpServer = config.DEFAULT.enable_tcp ? createProtocolServer({ service: createDriverService(context), logger, scope: config.DEFAULT.capability_scope, onRequest: observability.onRequest }) : undefined;
  if (tcpServer !== undefined) {
    await listenOnTcp(tcpServer, config.DEFAULT.kuryr_uri, SPEC_FILE);
    logger.info({ uri: config.DEFAULT.kuryr_uri, specFile: SPEC_FILE }, 'listening on TCP');
  }

  await observability.listen(config.DEFAULT.metrics_address);
  const probe = new AbortController();
  void probeOpenStack(context.neutron, observability.readiness, logger, probe.signal);
  // Deletes cut off by a crash or a restart run again; listening does not wait for them.
  context.reaper.resume().catch((error: unknown) => logger.error({ err: error }, 'cannot read the journal of pending port deletes'));

  await (options.until ?? waitForStopSignal());
  logger.info('stopping');
  probe.abort();
  observability.close();
  server.close();
  tcpServer?.close();
  await rm(socketPath, { force: true });
  // Pending deletes stay in the journal for the next start when Neutron is slow.
  await Promise.race([context.reaper.drain(), new Promise((resolve) => setTimeout(resolve, STOP_DRAIN_MS).unref())]);
}

function buildContext(config: KuryrConfig, logger: Logger, onCall: (info: CallInfo) => void): ServiceContext {
  const neutronConfig = config.neutron;
  const { neutron } = createOpenStackClients(config, logger, onCall);
  const runner = new ExecFileRunner({ logger });
  const binder = createBinder(config.binding, { runner, neutron, bindir: config.DEFAULT.bindir, logger });
  const activeTimeoutMs = neutronConfig.vif_plugging_is_fatal ? neutronConfig.vif_plugging_timeout * 1000 : 0;
  const ports = portSettings(config.binding, config.DEFAULT.host ?? hostname(), activeTimeoutMs);
  const reaper = new PortReaper({
    neutron,
    journal: new FileJournal(join(config.DEFAULT.state_dir, 'port-deletes')),
    logger,
    clock: systemClock,
    background: config.DEFAULT.delete_ports_in_background,
  });
  return new ServiceContext(neutron, binder, {
    hostName: ports.hostName,
    subnetPoolPrefix: config.DEFAULT.subnetpool_name_prefix,
    defaultSubnetPoolV4: neutronConfig.default_subnetpool_v4,
    defaultSubnetPoolV6: neutronConfig.default_subnetpool_v6,
    enableDhcp: neutronConfig.enable_dhcp,
    portActiveTimeoutMs: ports.portActiveTimeoutMs,
    globalScope: config.DEFAULT.capability_scope === 'global',
    portActivePollMs: 500,
  }, logger, systemClock, reaper);
}

function waitForStopSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
}
