/**
 * TLS settings for the Keystone and Neutron connections: a CA bundle, a client
 * certificate and the switch that turns verification off. They reach fetch as
 * an undici Agent passed as `dispatcher`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Agent } from 'undici';
import type * as Undici from 'undici';
import { KuryrError } from '../errors.js';

const require = createRequire(import.meta.url);

export interface TlsOptions {
  /** PEM file with the CA certificates that sign Keystone's and Neutron's certificates. */
  caFile?: string | undefined;
  /** PEM client certificate, for servers that require one. */
  certFile?: string | undefined;
  /** PEM private key of `certFile`. */
  keyFile?: string | undefined;
  /** Skip server certificate verification. */
  insecure?: boolean | undefined;
}

/** Returns true when `tls` changes anything from Node's defaults (system CAs, verification on). */
export function hasTlsSettings(tls: TlsOptions): boolean {
  return tls.caFile !== undefined || tls.certFile !== undefined || tls.keyFile !== undefined || tls.insecure === true;
}

/**
 * Builds the Agent that applies `tls`. The files are read once, here, so a
 * missing or unreadable file stops the daemon at start with the key to fix.
 * `caFile` replaces the system CAs rather than adding to them.
 */
export function createTlsAgent(tls: TlsOptions): Agent {
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new KuryrError('CONFIG_INVALID', 'invalid TLS client certificate: set both [neutron] certfile and keyfile, or neither');
  }
  // Loaded only here: the undici package adds about 11 MiB to the daemon's
  // RSS, and without TLS settings fetch uses Node's built-in copy.
  const { Agent: UndiciAgent } = require('undici') as typeof Undici;
  return new UndiciAgent({
    connect: {
      ca: readPem(tls.caFile, 'cafile'),
      cert: readPem(tls.certFile, 'certfile'),
      key: readPem(tls.keyFile, 'keyfile'),
      rejectUnauthorized: tls.insecure !== true,
    },
  });
}

function readPem(path: string | undefined, key: string): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new KuryrError('CONFIG_INVALID', `cannot read [neutron] ${key} "${path}": ${(error as Error).message}`, { cause: error });
  }
}
