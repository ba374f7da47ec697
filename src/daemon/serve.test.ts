import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serve } from './serve.js';

/** Returns a loopback port with no listener, by binding one and closing it again. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function activate(socketPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const call = request({ socketPath, path: '/Plugin.Activate', method: 'POST' }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    call.on('error', reject);
    call.end('{}');
  });
}

describe('serve with Keystone unreachable', () => {
  let dir = '';
  let stop: () => void = () => {};
  let running: Promise<void> = Promise.resolve();
  let socketPath = '';
  let metricsPort = 0;
  let startedAt = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kuryr-serve-'));
    socketPath = join(dir, 'kuryr.sock');
    metricsPort = await freePort();
    const keystonePort = await freePort();
    const configFile = join(dir, 'kuryr.conf');
    await writeFile(
      configFile,
      [
        '[DEFAULT]',
        'host = test-host',
        `metrics_address = 127.0.0.1:${metricsPort}`,
        `log_file = ${join(dir, 'kuryr.log')}`,
        '[neutron]',
        `auth_url = http://127.0.0.1:${keystonePort}/v3`,
        'username = kuryr',
        'password = never-logged-password',
        'project_name = service',
        'timeout = 1',
      ].join('\n'),
    );
    const until = new Promise<void>((resolve) => {
      stop = resolve;
    });
    startedAt = performance.now();
    running = serve({ configFile, socket: socketPath, until, env: {} });
  });

  after(async () => {
    stop();
    await running;
    await rm(dir, { recursive: true, force: true });
  });

  it('answers Plugin.Activate within 1 s', async () => {
    let reply: { status: number; body: string } | undefined;
    while (reply === undefined && performance.now() - startedAt < 1_000) {
      reply = await activate(socketPath).catch(() => undefined);
      if (reply === undefined) await new Promise((resolve) => setImmediate(resolve));
    }
    const elapsedMs = performance.now() - startedAt;

    assert.ok(reply !== undefined, `no answer on the plugin socket within ${Math.round(elapsedMs)} ms`);
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.body), { Implements: ['NetworkDriver', 'IpamDriver'] });
  });

  it('is live but not ready', async () => {
    const base = `http://127.0.0.1:${metricsPort}`;

    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 503);
  });

  it('counts the request in the metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();

    assert.match(text, /kuryr_plugin_requests_total\{verb="Plugin.Activate",status="200"\} [1-9]/);
    assert.match(text, /kuryr_ready 0/);
  });

  it('keeps the password out of the log', async () => {
    stop();
    await running;
    const log = await readFile(join(dir, 'kuryr.log'), 'utf8');

    assert.match(log, /"msg":"listening"/);
    assert.match(log, /"sources":\["cli:--socket","file:[^"]*kuryr\.conf"\],"msg":"configuration loaded"/);
    assert.doesNotMatch(log, /never-logged-password/);
  });
});
