import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KuryrError } from '../errors.js';
import { FetchTransport } from './transport.js';
import type { HttpRequest } from './transport.js';

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingMessage['headers'];
  body: string;
}

function listen(handler: (request: IncomingMessage, response: ServerResponse, body: string) => void): Promise<Server> {
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => handler(request, response, body));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function baseUrl(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Returns a loopback URL whose port has no listener, by binding a port and closing it again. */
async function refusedUrl(): Promise<string> {
  const server = await listen(() => undefined);
  const url = baseUrl(server);
  await close(server);
  return `${url}/v2.0/ports`;
}

function request(overrides: Partial<HttpRequest>): HttpRequest {
  return { method: 'GET', url: 'http://127.0.0.1:1/', headers: {}, timeoutMs: 5_000, service: 'Neutron', ...overrides };
}

async function rejection(promise: Promise<unknown>): Promise<KuryrError> {
  const error = await promise.then(
    () => assert.fail('expected a rejection'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof KuryrError, `expected a KuryrError, got ${String(error)}`);
  return error;
}

describe('FetchTransport over loopback', () => {
  let server: Server;
  let received: Received[];

  before(async () => {
    received = [];
    server = await listen((incoming, response, body) => {
      received.push({ method: incoming.method, url: incoming.url, headers: incoming.headers, body });
      if (incoming.url === '/reset') {
        incoming.socket.destroy();
        return;
      }
      if (incoming.url === '/redirect') {
        response.writeHead(302, { Location: 'http://127.0.0.1:1/elsewhere' }).end();
        return;
      }
      response.writeHead(201, { 'Content-Type': 'application/json', 'X-Subject-Token': 'abc' }).end('{"ok":true}');
    });
  });

  after(() => close(server));

  it('sends method, headers and body and returns the reply', async () => {
    const transport = new FetchTransport();

    const response = await transport.request(
      request({ method: 'POST', url: `${baseUrl(server)}/v2.0/ports?x=1`, headers: { 'X-Auth-Token': 't' }, body: '{"port":{}}' }),
    );

    assert.equal(response.status, 201);
    assert.equal(response.body, '{"ok":true}');
    assert.equal(response.headers['x-subject-token'], 'abc');
    const last = received.at(-1);
    assert.equal(last?.method, 'POST');
    assert.equal(last?.url, '/v2.0/ports?x=1');
    assert.equal(last?.headers['x-auth-token'], 't');
    assert.equal(last?.body, '{"port":{}}');
  });

  it('returns a redirect without following it', async () => {
    const response = await new FetchTransport().request(request({ url: `${baseUrl(server)}/redirect` }));

    assert.equal(response.status, 302);
  });

  it('maps a reset connection to NEUTRON_UNREACHABLE', async () => {
    const url = `${baseUrl(server)}/reset`;

    const error = await rejection(new FetchTransport().request(request({ url })));

    assert.equal(error.code, 'NEUTRON_UNREACHABLE');
    assert.ok(error.message.startsWith(`cannot reach Neutron at "${url}": `), error.message);
  });
});

describe('FetchTransport failures', () => {
  it('maps a refused connection to NEUTRON_UNREACHABLE', async () => {
    const url = await refusedUrl();

    const error = await rejection(new FetchTransport().request(request({ url })));

    assert.equal(error.code, 'NEUTRON_UNREACHABLE');
    assert.match(error.message, new RegExp(`^cannot reach Neutron at "${url}": .*ECONNREFUSED`));
  });

  it('maps a refused Keystone connection to KEYSTONE_UNREACHABLE', async () => {
    const url = await refusedUrl();

    const error = await rejection(new FetchTransport().request(request({ url, method: 'POST', service: 'Keystone' })));

    assert.equal(error.code, 'KEYSTONE_UNREACHABLE');
    assert.match(error.message, new RegExp(`^cannot reach Keystone at "${url}": .*ECONNREFUSED`));
  });

  it('maps a timeout to NEUTRON_UNREACHABLE', async () => {
    // The injected fetch rejects the way undici does when the timeout signal fires.
    const timingOut: typeof fetch = () => Promise.reject(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    const transport = new FetchTransport({ fetch: timingOut });

    const error = await rejection(transport.request(request({ url: 'http://127.0.0.1:9696/v2.0/ports', timeoutMs: 2_500 })));

    assert.equal(error.code, 'NEUTRON_UNREACHABLE');
    assert.equal(error.message, 'cannot reach Neutron at "http://127.0.0.1:9696/v2.0/ports": no reply within 2500 ms');
  });

  it('names the socket error code when its message is empty', async () => {
    const socketError = Object.assign(new Error(''), { code: 'ECONNRESET' });
    const failing: typeof fetch = () => Promise.reject(new TypeError('fetch failed', { cause: socketError }));

    const error = await rejection(new FetchTransport({ fetch: failing }).request(request({ url: 'http://127.0.0.1:9696/' })));

    assert.equal(error.message, 'cannot reach Neutron at "http://127.0.0.1:9696/": ECONNRESET');
  });
});
