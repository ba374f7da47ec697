#!/usr/bin/env node
/** The `kuryr` command. */
import { Command, Option } from 'commander';
import { formatEffectiveConfig } from '../config/show.js';
import { serve } from '../daemon/index.js';
import { configFileExplicit, loadCliConfig, withConfigOptions, type ConfigOptions } from './common.js';

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
  const resolved = await loadCliConfig(options, command);
  for (const warning of resolved.warnings) process.stderr.write(`warning: ${warning}\n`);
  process.stdout.write(formatEffectiveConfig(resolved));
});

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`kuryr: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
