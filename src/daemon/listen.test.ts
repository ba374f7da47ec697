import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listenOnSocket, listenOnTcp } from './listen.js';

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('listenOnSocket', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kuryr-listen-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the socket with mode 0660', async () => {
    const server = createServer();
    const path = join(dir, 'plugins', 'kuryr.sock');
    await listenOnSocket(server, path);
    assert.equal((await stat(path)).mode & 0o777, 0o660);
    await close(server);
  });

  it('replaces a stale socket left by a killed daemon', async () => {
    const path = join(dir, 'stale.sock');
    // A SIGKILLed process leaves its socket file behind with no listener.
    const child = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`]);
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGKILL');
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    assert.ok((await stat(path)).isSocket());
    const server = createServer();
    await listenOnSocket(server, path);
    await close(server);
  });

  it('refuses to steal the socket of a running daemon', async () => {
    const path = join(dir, 'busy.sock');
    const running = createServer();
    await listenOnSocket(running, path);
    await assert.rejects(listenOnSocket(createServer(), path), /another process is serving/);
    await close(running);
  });

  it('refuses a path that is not a socket', async () => {
    const path = join(dir, 'plain-file');
    await writeFile(path, 'x');
    await assert.rejects(listenOnSocket(createServer(), path), /is not a socket/);
  });
});

describe('listenOnTcp', () => {
  it('listens on loopback and writes the spec file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kuryr-spec-'));
    const server = createServer();
    const spec = join(dir, 'kuryr', 'kuryr.spec');
    await listenOnTcp(server, 'http://127.0.0.1:0', spec);
    const address = server.address();
    assert.ok(address !== null, 'the server is listening');
    assert.ok(typeof address === 'object', 'a TCP listener has an address object');
    assert.equal(await readFile(spec, 'utf8'), `http://127.0.0.1:${address.port}\n`);
    await close(server);
    await rm(dir, { recursive: true, force: true });
  });
});
