/**
 * TLS settings for the Keystone and Neutron connections: a CA bundle, a client
 * certificate and the switch that turns verification off. They reach the
 * transport as options of its https Agent.
 */
import { readFileSync } from 'node:fs';
import type { AgentOptions } from 'node:https';
import { KuryrError } from '../errors.js';

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

/**
 * Turns `tls` into options for the https Agent. The files are read once, here,
 * so a missing or unreadable file stops the daemon at start with the key to
 * fix. `caFile` replaces the system CAs rather than adding to them.
 */
export function tlsAgentOptions(tls: TlsOptions): AgentOptions {
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new KuryrError('CONFIG_INVALID', 'invalid TLS client certificate: set both [neutron] certfile and keyfile, or neither');
  }
  const options: AgentOptions = { rejectUnauthorized: tls.insecure !== true };
  const ca = readPem(tls.caFile, 'cafile');
  const cert = readPem(tls.certFile, 'certfile');
  const key = readPem(tls.keyFile, 'keyfile');
  if (ca !== undefined) options.ca = ca;
  if (cert !== undefined) options.cert = cert;
  if (key !== undefined) options.key = key;
  return options;
}

function readPem(path: string | undefined, key: string): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new KuryrError('CONFIG_INVALID', `cannot read [neutron] ${key} "${path}": ${(error as Error).message}`, { cause: error });
  }
}
