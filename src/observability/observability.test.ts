import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger, logFilePath } from './logger.js';
import { createObservabilityServer, parseListenAddress } from './http.js';
import { DaemonMetrics, neutronResource } from './metrics.js';
import { Readiness } from './readiness.js';

describe('neutronResource', () => {
  const cases: [string, string][] = [
    ['/v2.0/ports/4f1c', 'ports'],
    ['/v2.0/networks/abc/tags/kuryr.net.uuid.lh%3Ax', 'networks'],
    ['/v2.0/subnetpools', 'subnetpools'],
    ['/networking/v2.0/security-groups', 'security-groups'],
    ['/v2.0/extensions', 'extensions'],
  ];
  for (const [path, expected] of cases) {
    it(`maps ${path}`, () => {
      assert.equal(neutronResource(path), expected);
    });
  }
});

describe('observability HTTP server', () => {
  let server: Server;
  let base = '';
  const metrics = new DaemonMetrics(['Plugin.Activate', 'NetworkDriver.CreateNetwork'], { processMetrics: false });
  const readiness = new Readiness();
  readiness.onChange((ready) => metrics.setReady(ready));

  before(async () => {
    server = createObservabilityServer(metrics, readiness);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => {
    server.close();
  });

  it('answers healthz while not ready', async () => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(await ready.text(), /Neutron has not been reached yet/);
  });

  it('becomes ready on a Neutron reply', async () => {
    readiness.onNeutronCall({ method: 'GET', path: '/v2.0/extensions', status: null, ms: 3 });
    assert.equal((await fetch(`${base}/readyz`)).status, 503);

    readiness.onNeutronCall({ method: 'GET', path: '/v2.0/extensions', status: 200, ms: 3 });

    assert.equal((await fetch(`${base}/readyz`)).status, 200);
  });

  it('counts verbs, Neutron calls and errors', async () => {
    metrics.onRequest('NetworkDriver.CreateNetwork', 200, 12);
    metrics.onRequest('Evil.Verb', 404, 1);
    metrics.onNeutronCall({ method: 'POST', path: '/v2.0/networks', status: 201, ms: 40 });
    metrics.onNeutronCall({ method: 'GET', path: '/v2.0/ports', status: null, ms: 10_000 });

    const text = await (await fetch(`${base}/metrics`)).text();

    assert.match(text, /kuryr_plugin_requests_total\{verb="NetworkDriver.CreateNetwork",status="200"\} 1/);
    assert.match(text, /kuryr_plugin_requests_total\{verb="unknown",status="404"\} 1/);
    assert.match(text, /kuryr_plugin_request_duration_seconds_count\{verb="NetworkDriver.CreateNetwork"\} 1/);
    assert.match(text, /kuryr_neutron_requests_total\{method="POST",resource="networks",status="201"\} 1/);
    assert.match(text, /kuryr_neutron_errors_total\{method="GET",resource="ports"\} 1/);
    assert.match(text, /kuryr_ready 1/);
  });

  it('rejects other paths', async () => {
    assert.equal((await fetch(`${base}/`)).status, 404);
  });
});

describe('parseListenAddress', () => {
  it('parses host, IPv6 and off', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:9797'), { host: '127.0.0.1', port: 9797 });
    assert.deepEqual(parseListenAddress('[::1]:9797'), { host: '::1', port: 9797 });
    assert.equal(parseListenAddress('0'), undefined);
    assert.equal(parseListenAddress(''), undefined);
  });
});

describe('createLogger', () => {
  function capture(): { lines: string[]; stream: Writable } {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    return { lines, stream };
  }

  it('writes JSON and redacts secret fields', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ level: 'info', format: 'json', destination: stream });

    logger.info({ password: 'hunter2', request: { token: 'gAAAA' }, user: 'kuryr' }, 'hello');

    const line = JSON.parse(lines.join('')) as Record<string, unknown>;
    assert.equal(line.msg, 'hello');
    assert.equal(line.password, '[redacted]');
    assert.deepEqual(line.request, { token: '[redacted]' });
    assert.equal(line.user, 'kuryr');
  });

  it('writes readable lines in pretty format', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ level: 'info', format: 'pretty', destination: stream });

    logger.warn({ verb: 'Plugin.Activate' }, 'slow');

    const text = lines.join('');
    assert.match(text, /WARN.*slow/);
    assert.match(text, /verb: "Plugin.Activate"/);
    assert.doesNotMatch(text, /^\{/);
  });

  it('joins log_file to log_dir', () => {
    assert.equal(logFilePath('kuryr.log', '/var/log/kuryr'), '/var/log/kuryr/kuryr.log');
    assert.equal(logFilePath('/tmp/k.log', '/var/log/kuryr'), '/tmp/k.log');
    assert.equal(logFilePath(undefined, '/var/log/kuryr'), '/var/log/kuryr/kuryr.log');
    assert.equal(logFilePath(undefined, undefined), undefined);
  });
});
