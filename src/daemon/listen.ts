/** Opening the plugin's listeners: the unix socket dockerd discovers, and optional loopback TCP. */
import { chmod, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { KuryrError } from '../errors.js';

/** Socket mode: dockerd runs as root; the group may be given to an operator tool. */
const SOCKET_MODE = 0o660;

export async function listenOnSocket(server: Server, socketPath: string): Promise<void> {
  await mkdir(dirname(socketPath), { recursive: true });
  await removeStaleSocket(socketPath);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(socketPath, SOCKET_MODE);
}

/**
 * Removes a socket file left by a killed daemon, which would make listen()
 * fail with EADDRINUSE. It is removed only when nothing accepts connections on it, so a second
 * daemon never steals the socket of a running one.
 */
async function removeStaleSocket(socketPath: string): Promise<void> {
  const info = await stat(socketPath).catch(() => undefined);
  if (info === undefined) return;
  if (!info.isSocket()) {
    throw new KuryrError('CONFIG_INVALID', `"${socketPath}" exists and is not a socket: remove it or choose another socket_path`);
  }
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) {
    throw new KuryrError('CONFLICT', `another process is serving "${socketPath}": stop it first, or set another socket_path`);
  }
  await rm(socketPath, { force: true });
}

/** Listens on a loopback TCP address from `kuryr_uri` and writes the spec file dockerd reads for it. */
export async function listenOnTcp(server: Server, uri: string, specPath: string): Promise<void> {
  const url = new URL(uri);
  const port = Number(url.port || '23750');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, url.hostname, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const boundPort = address !== null && typeof address === 'object' ? address.port : port;
  await mkdir(dirname(specPath), { recursive: true });
  await writeFile(specPath, `${url.protocol}//${url.hostname}:${boundPort}\n`);
}
