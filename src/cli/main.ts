#!/usr/bin/env node
/** The `kuryr` command. */
import { Command, Option } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../config/index.js';
import { serve } from '../daemon/index.js';

const program = new Command();

program
  .name('kuryr')
  .description('Docker network and IPAM plugin that puts containers on OpenStack Neutron networks')
  .version('0.1.0');

program
  .command('serve')
  .description('run the libnetwork plugin daemon (NetworkDriver and IpamDriver) until SIGTERM or SIGINT')
  .addOption(new Option('--config-file <path>', 'kuryr.conf to read').default(DEFAULT_CONFIG_FILE))
  .addOption(new Option('--socket <path>', 'plugin unix socket; overrides [DEFAULT] socket_path'))
  .action(async (options: { configFile: string; socket?: string }) => {
    await serve(options);
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`kuryr: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
