import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { KuryrError, OpenStackHttpError } from '../errors.js';
import { DEFAULT_RETRY, backoffDelay } from './api.js';
import { NeutronClient } from './client.js';
import type { TokenSource } from './keystone.js';
import { neutronFault, portFixture, recordingSleep, setupClient } from './test-support.js';
import type { ExpectedCall } from './test-support.js';
import { NodeHttpTransport, unreachableError } from './transport.js';

const unavailable = (path: string, method: ExpectedCall['method'] = 'GET'): ExpectedCall => ({
  method,
  path,
  reply: { status: 503, body: '<html><body>503 Service Unavailable</body></html>' },
});
const getPort: ExpectedCall = { method: 'GET', path: '/v2.0/ports/port-1', reply: { body: { port: portFixture() } } };

describe('backoffDelay', () => {
  const cases: [string, number, number, number | undefined, number][] = [
    ['first retry, no jitter', 1, 0, undefined, 100],
    ['first retry, middle jitter', 1, 0.5, undefined, 150],
    ['second retry, middle jitter', 2, 0.5, undefined, 300],
    ['third retry, full jitter', 3, 1, undefined, 800],
    ['capped retry, no jitter', 6, 0, undefined, 1000],
    ['capped retry, full jitter', 6, 1, undefined, 2000],
    ['Retry-After above the backoff', 1, 0.5, 1000, 1000],
    ['Retry-After above the cap', 1, 0.5, 30_000, 2000],
  ];
  for (const [name, attempt, random, retryAfter, expected] of cases) {
    it(`computes ${name}`, () => {
      assert.equal(backoffDelay(DEFAULT_RETRY, attempt, random, retryAfter), expected);
    });
  }
});

describe('NeutronClient retries', () => {
  it('retries a GET after 503 with growing delays', async () => {
    const { client, transport, delays } = setupClient([unavailable('/v2.0/ports/port-1'), unavailable('/v2.0/ports/port-1'), getPort]);

    const port = await client.ports.get('port-1');

    assert.equal(port.id, 'port-1');
    assert.deepEqual(delays, [150, 300]);
    transport.assertDone();
  });

  it('gives up after the configured attempts', async () => {
    const expected = [1, 2, 3].map(() => unavailable('/v2.0/ports/port-1'));
    const { client, transport, delays } = setupClient(expected, { retry: { attempts: 3 } });

    const error = await client.ports.get('port-1').catch((rejection: unknown) => rejection);

    assert.ok(error instanceof OpenStackHttpError, `expected OpenStackHttpError, got ${String(error)}`);
    assert.equal(error.status, 503);
    assert.equal(error.code, 'NEUTRON_ERROR');
    assert.equal(error.message, 'get port "port-1" failed: GET http://127.0.0.1:9696/v2.0/ports/port-1 returned HTTP 503: 503 Service Unavailable');
    assert.deepEqual(delays, [150, 300]);
    transport.assertDone();
  });

  it('honours Retry-After on 429', async () => {
    const tooMany: ExpectedCall = {
      method: 'GET',
      path: '/v2.0/ports/port-1',
      reply: { status: 429, headers: { 'Retry-After': '1' }, body: neutronFault(429, 'OverLimit', 'Too many requests').body },
    };
    const { client, delays } = setupClient([tooMany, getPort]);

    await client.ports.get('port-1');

    assert.deepEqual(delays, [1000]);
  });

  it('retries a PUT and a DELETE when Neutron is unreachable', async () => {
    const refused = (method: ExpectedCall['method'], path: string): ExpectedCall => ({
      method,
      path,
      error: unreachableError({ service: 'Neutron', url: `http://127.0.0.1:9696${path}`, timeoutMs: 10_000 }, new Error('connect ECONNREFUSED')),
    });
    const { client, transport, delays } = setupClient([
      refused('PUT', '/v2.0/ports/port-1/tags'),
      { method: 'PUT', path: '/v2.0/ports/port-1/tags', reply: { body: { tags: ['a'] } } },
      refused('DELETE', '/v2.0/ports/port-1'),
      { method: 'DELETE', path: '/v2.0/ports/port-1', reply: { status: 204 } },
    ]);

    assert.deepEqual(await client.replaceTags('ports', 'port-1', ['a']), ['a']);
    await client.ports.delete('port-1');

    assert.deepEqual(delays, [150, 150]);
    transport.assertDone();
  });

  it('never retries a POST', async () => {
    const { client, transport, delays } = setupClient([unavailable('/v2.0/ports', 'POST')]);

    const error = await client.ports.create({ network_id: 'net-1' }).catch((rejection: unknown) => rejection);

    assert.ok(error instanceof OpenStackHttpError, `expected OpenStackHttpError, got ${String(error)}`);
    assert.equal(error.status, 503);
    assert.deepEqual(delays, []);
    assert.equal(transport.requestsTo('/v2.0/ports').length, 1);
    transport.assertDone();
  });

  it('does not retry a client error', async () => {
    const { client, delays } = setupClient([
      { method: 'PUT', path: '/v2.0/ports/port-1', reply: neutronFault(409, 'MacAddressInUse', 'Unable to complete operation for network net-1.') },
    ]);

    await assert.rejects(client.ports.update('port-1', { mac_address: 'fa:16:3e:00:00:02' }), (error: unknown) => {
      assert.ok(error instanceof OpenStackHttpError, `expected OpenStackHttpError, got ${String(error)}`);
      assert.equal(error.faultType, 'MacAddressInUse');
      return true;
    });
    assert.deepEqual(delays, []);
  });

  it('counts a DELETE that is gone on retry as done', async () => {
    // The first DELETE may have succeeded with its reply lost, so the retry finds nothing.
    const { client, transport } = setupClient([
      unavailable('/v2.0/ports/port-1', 'DELETE'),
      { method: 'DELETE', path: '/v2.0/ports/port-1', reply: neutronFault(404, 'PortNotFound', 'Port port-1 could not be found.') },
    ]);

    await client.ports.delete('port-1', { ignoreNotFound: true });

    transport.assertDone();
  });
});

describe('NeutronClient over a refused connection', () => {
  const staticTokens: TokenSource = {
    getToken: () => Promise.resolve('static-token'),
    invalidate: () => undefined,
    getEndpoint: () => Promise.reject(new Error('the endpoint is fixed in this test')),
  };

  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  it('reports NEUTRON_UNREACHABLE naming the URL after the retries', async () => {
    const port = await closedPort();
    const { sleep, delays } = recordingSleep();
    const client = new NeutronClient({
      tokens: staticTokens,
      transport: new NodeHttpTransport(),
      endpoint: { url: `http://127.0.0.1:${port}` },
      sleep,
      random: () => 0,
    });

    const error = await client.networks.get('net-1').catch((rejection: unknown) => rejection);

    assert.ok(error instanceof KuryrError, `expected KuryrError, got ${String(error)}`);
    assert.equal(error.code, 'NEUTRON_UNREACHABLE');
    assert.match(error.message, new RegExp(`^cannot reach Neutron at "http://127\\.0\\.0\\.1:${port}/v2\\.0/networks/net-1": .*ECONNREFUSED`));
    assert.deepEqual(delays, [100, 200, 400]);
  });
});
