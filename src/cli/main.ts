#!/usr/bin/env -S node --max-semi-space-size=1
/**
 * The `kuryr` command. The 1 MiB young-generation semi-space keeps the
 * daemon's memory near 65 MB; its requests allocate little.
 */
import { Command, Option } from 'commander';
import { resolveKeystoneSettings } from '../config/index.js';
import { formatEffectiveConfig } from '../config/show.js';
import { serve } from '../daemon/index.js';
import { SPEC_FILE } from '../daemon/spec-file.js';
import { cliLogger, configFileExplicit, loadCliConfig, withConfigOptions, type ConfigOptions } from './common.js';

// The operator commands' code is loaded only when one of them runs, which keeps `kuryr serve` small.
const actions = () => import('./actions.js');

const program = new Command();

program
  .name('kuryr')
  .description('Docker network and IPAM plugin that puts containers on OpenStack Neutron networks')
  .version('0.1.0');

withConfigOptions(
  program.command('serve').description('run the libnetwork plugin daemon (NetworkDriver and IpamDriver) until SIGTERM or SIGINT'),
)
  .addOption(new Option('--socket <path>', 'plugin unix socket; overrides [DEFAULT] socket_path'))
  .action(async (options: ConfigOptions & { socket?: string }, command: Command) => {
    await serve({ ...options, configFileExplicit: configFileExplicit(command) });
  });

const configCommand = program.command('config').description('inspect the configuration');
withConfigOptions(
  configCommand
    .command('show')
    .description('print the effective configuration as INI, each value with its source (default, file:PATH, env:NAME, clouds.yaml:CLOUD, cli:OPTION); secrets are masked'),
).action(async (options: ConfigOptions, command: Command) => {
  // Incomplete credentials are reported after the listing, which helps to find the missing key.
  const resolved = await loadCliConfig(options, command, false);
  for (const warning of resolved.warnings) process.stderr.write(`warning: ${warning}\n`);
  process.stdout.write(formatEffectiveConfig(resolved));
  resolveKeystoneSettings(resolved.config.neutron);
});

const driverOption = new Option('--driver <name>', 'Docker network driver name of kuryr networks, such as kuryr/libnetwork2:latest for a managed plugin').default('kuryr');

withConfigOptions(
  program
    .command('doctor')
    .description(
      'check Keystone authentication, the Neutron extensions standard-attr-tag and subnet_allocation, a live L2 agent on this host, ' +
        'the ip binary, veth support, bindir, the plugin socket and the spec file; prints PASS, WARN or FAIL with a fix, exits 1 on any FAIL',
    ),
).action(async (options: ConfigOptions, command: Command) => {
  process.exitCode = await (await actions()).doctorAction(await loadCliConfig(options, command), cliLogger(options));
});

withConfigOptions(
  program
    .command('status')
    .description('list Docker networks and endpoints of the kuryr driver next to their Neutron networks, subnets and ports; Docker is read from DOCKER_HOST (unix://) or /var/run/docker.sock'),
)
  .addOption(driverOption)
  .action(async (options: ConfigOptions & { driver: string }, command: Command) => {
    process.exitCode = await (await actions()).statusAction(await loadCliConfig(options, command), cliLogger(options), options.driver);
  });

withConfigOptions(
  program
    .command('gc')
    .description(
      'list what kuryr created that no Docker network or endpoint uses: ports bound to this host, veth taps of ports that no longer exist, ' +
        'kuryr-exposed-* security groups of deleted ports, kuryr-subnet-* subnets, kuryrPool-* pools, tagged networks and untagged kuryr-net-* networks; ' +
        'nothing is deleted without --apply',
    ),
)
  .addOption(driverOption)
  .addOption(new Option('--apply', 'delete the leftovers of this host (ports, taps and security groups)').default(false))
  .addOption(
    new Option('--include-networks', 'with --apply, also delete leftover networks, subnets and pools; only safe when no other Docker host uses the same project').default(false),
  )
  .addOption(new Option('--id <id...>', 'with --apply, delete only the leftovers with these Neutron ids or tap device names'))
  .action(async (options: ConfigOptions & { driver: string; apply: boolean; includeNetworks: boolean; id?: string[] }, command: Command) => {
    process.exitCode = await (await actions()).gcAction(await loadCliConfig(options, command), cliLogger(options), options);
  });

withConfigOptions(program.command('install-spec').description(`write ${SPEC_FILE} with [DEFAULT] kuryr_uri, for dockerd to find a TCP plugin`))
  .addOption(new Option('--spec-file <path>', 'spec file to write').default(SPEC_FILE))
  .action(async (options: ConfigOptions & { specFile: string }, command: Command) => {
    process.exitCode = await (await actions()).installSpecAction(await loadCliConfig(options, command, false), options.specFile);
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`kuryr: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
