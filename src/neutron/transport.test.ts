import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KuryrError } from '../errors.js';
import { NodeHttpTransport, unreachableError } from './transport.js';
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

describe('NodeHttpTransport over loopback', () => {
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
    const transport = new NodeHttpTransport();

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
    const response = await new NodeHttpTransport().request(request({ url: `${baseUrl(server)}/redirect` }));

    assert.equal(response.status, 302);
  });

  it('maps a reset connection to NEUTRON_UNREACHABLE', async () => {
    const url = `${baseUrl(server)}/reset`;

    const error = await rejection(new NodeHttpTransport().request(request({ url })));

    assert.equal(error.code, 'NEUTRON_UNREACHABLE');
    assert.ok(error.message.startsWith(`cannot reach Neutron at "${url}": `), error.message);
  });
});

describe('NodeHttpTransport failures', () => {
  it('maps a refused connection to NEUTRON_UNREACHABLE', async () => {
    const url = await refusedUrl();

    const error = await rejection(new NodeHttpTransport().request(request({ url })));

    assert.equal(error.code, 'NEUTRON_UNREACHABLE');
    assert.match(error.message, new RegExp(`^cannot reach Neutron at "${url}": .*ECONNREFUSED`));
  });

  it('maps a refused Keystone connection to KEYSTONE_UNREACHABLE', async () => {
    const url = await refusedUrl();

    const error = await rejection(new NodeHttpTransport().request(request({ url, method: 'POST', service: 'Keystone' })));

    assert.equal(error.code, 'KEYSTONE_UNREACHABLE');
    assert.match(error.message, new RegExp(`^cannot reach Keystone at "${url}": .*ECONNREFUSED`));
  });

  it('times out a silent server', async () => {
    const silent = await listen(() => undefined);
    const url = `${baseUrl(silent)}/v2.0/ports`;

    const error = await rejection(new NodeHttpTransport().request(request({ url, timeoutMs: 200 })));

    assert.equal(error.code, 'NEUTRON_UNREACHABLE');
    assert.equal(error.message, `cannot reach Neutron at "${url}": no reply within 200 ms`);
    silent.closeAllConnections();
    await close(silent);
  });

  it('times out a stalled body', async () => {
    const stalling = await listen((_incoming, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.write('{"ports":[');
    });
    const url = `${baseUrl(stalling)}/v2.0/ports`;

    const error = await rejection(new NodeHttpTransport().request(request({ url, timeoutMs: 200 })));

    assert.equal(error.message, `cannot reach Neutron at "${url}": no reply within 200 ms`);
    stalling.closeAllConnections();
    await close(stalling);
  });

  it('names the socket error code when its message is empty', () => {
    const socketError = Object.assign(new Error(''), { code: 'ECONNRESET' });

    const error = unreachableError(request({ url: 'http://127.0.0.1:9696/' }), socketError);

    assert.equal(error.message, 'cannot reach Neutron at "http://127.0.0.1:9696/": ECONNRESET');
  });
});

describe('NodeHttpTransport keep-alive', () => {
  it('reuses one keep-alive connection', async () => {
    const sockets = new Set<unknown>();
    const server = await listen((incoming, response) => {
      sockets.add(incoming.socket);
      response.end('{}');
    });
    const transport = new NodeHttpTransport();

    for (let i = 0; i < 3; i += 1) await transport.request(request({ url: `${baseUrl(server)}/v2.0/networks` }));

    assert.equal(sockets.size, 1);
    server.closeAllConnections();
    await close(server);
  });

  it('never sends a request twice', async () => {
    // The server replies to the first request, then drops the connection when
    // the second arrives. Neutron may have acted on a request whose reply was
    // lost, so the transport reports the failure and leaves retries to the
    // client, which repeats only idempotent calls.
    let served = 0;
    const server = await listen((incoming, response) => {
      served += 1;
      if (served === 2) {
        incoming.socket.destroy();
        return;
      }
      response.end(`{"served":${served}}`);
    });
    const transport = new NodeHttpTransport();
    const url = `${baseUrl(server)}/v2.0/networks`;

    await transport.request(request({ method: 'POST', url, body: '{}' }));
    const error = await rejection(transport.request(request({ method: 'POST', url, body: '{}' })));

    assert.equal(error.code, 'NEUTRON_UNREACHABLE');
    assert.equal(served, 2);
    server.closeAllConnections();
    await close(server);
  });
});
