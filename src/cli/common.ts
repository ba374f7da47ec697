/** Options and helpers shared by the `kuryr` subcommands. */
import { Option, type Command } from 'commander';
import type { Logger } from 'pino';
import { DEFAULT_CONFIG_FILE, resolveConfig, type ResolvedConfig } from '../config/index.js';
import { createLogger, LOG_FORMATS, type LogFormat } from '../observability/index.js';

export interface ConfigOptions {
  configFile: string;
  logFormat: LogFormat;
}

/** Adds `--config-file` and `--log-format` to `command`. */
export function withConfigOptions(command: Command): Command {
  return command
    .addOption(new Option('--config-file <path>', 'kuryr.conf to read; a missing default file is allowed and the environment is used').default(DEFAULT_CONFIG_FILE))
    .addOption(
      new Option('--log-format <format>', 'log lines as JSON (for collectors) or pretty (readable on a terminal)')
        .choices(LOG_FORMATS)
        .default('json'),
    );
}

/** Returns true when `--config-file` was given on the command line, as opposed to its default. */
export function configFileExplicit(command: Command): boolean {
  return command.getOptionValueSource('configFile') !== 'default';
}

/** Resolves the configuration for a command other than `serve`. */
export function loadCliConfig(options: ConfigOptions, command: Command, checkCredentials = true): Promise<ResolvedConfig> {
  return resolveConfig({ configFile: options.configFile, configFileExplicit: configFileExplicit(command), checkCredentials });
}

/** Creates the CLI commands' logger: warnings and errors only, on standard error, so command output stays clean. */
export function cliLogger(options: ConfigOptions): Logger {
  return createLogger({ level: 'warn', format: options.logFormat, destination: process.stderr });
}
