/**
 * The daemon's and the CLI's pino logger: JSON lines by default, or readable
 * lines (pino-pretty) for a terminal. Secrets are redacted by key name as a
 * second line of defence, because no code path is meant to log them.
 */
import { createRequire } from 'node:module';
import { isAbsolute, join } from 'node:path';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import type { PrettyStream } from 'pino-pretty';

// pino-pretty costs about 8 MB of memory, so it is loaded only for the pretty format.
const require = createRequire(import.meta.url);

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Field names whose values never appear in a log line, at the top level or one object deep. */
const SECRET_FIELDS = ['password', 'secret', 'token', 'application_credential_secret', 'X-Auth-Token', 'x-auth-token', 'X-Subject-Token', 'x-subject-token'];

export const REDACT_PATHS = [...SECRET_FIELDS.map((field) => `["${field}"]`), ...SECRET_FIELDS.map((field) => `*["${field}"]`)];

export interface LoggerOptions {
  level: Level;
  format: LogFormat;
  /** Log file; standard output when undefined. */
  file?: string | undefined;
  /** Replaces the output stream; tests capture lines with it. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const base = { level: options.level, base: { service: 'kuryr' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  const output = options.destination ?? (options.file === undefined ? pino.destination(1) : pino.destination({ dest: options.file, mkdir: true }));
  if (options.format === 'json') return pino(base, output);
  const colorize = options.destination === undefined && options.file === undefined && process.stdout.isTTY;
  const pretty = require('pino-pretty') as (options: Record<string, unknown>) => PrettyStream;
  return pino(base, pretty({ destination: output, colorize, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'pid,hostname,service', sync: true }));
}

/**
 * Resolves oslo.log's log_file and log_dir: a relative log_file is joined to
 * log_dir, and log_dir alone means `<log_dir>/kuryr.log`.
 */
export function logFilePath(logFile: string | undefined, logDir: string | undefined): string | undefined {
  if (logFile === undefined) return logDir === undefined ? undefined : join(logDir, 'kuryr.log');
  if (isAbsolute(logFile) || logDir === undefined) return logFile;
  return join(logDir, logFile);
}
