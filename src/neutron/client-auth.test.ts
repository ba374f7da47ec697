import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { KuryrError, OpenStackHttpError } from '../errors.js';
import { NeutronClient } from './client.js';
import { FakeTransport, TEST_PASSWORD, expectAuth, networkFixture, setupClient, testSession } from './test-support.js';
import type { ExpectedCall } from './test-support.js';

const listNetworks: ExpectedCall = { method: 'GET', path: '/v2.0/networks', reply: { body: { networks: [networkFixture()] } } };
const unauthorized: ExpectedCall = {
  method: 'GET',
  path: '/v2.0/networks',
  reply: { status: 401, body: { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } } },
};

describe('NeutronClient authentication', () => {
  it('sends the Keystone token', async () => {
    const { client, transport } = setupClient([listNetworks]);

    await client.networks.list();

    const [request] = transport.requestsTo('/v2.0/networks');
    assert.equal(request?.headers['X-Auth-Token'], 'token-1');
    assert.equal(request?.headers.Accept, 'application/json');
    assert.equal(request?.service, 'Neutron');
    transport.assertDone();
  });

  it('authenticates again once after a 401', async () => {
    const { client, transport } = setupClient([unauthorized, expectAuth({ token: 'token-2' }), listNetworks]);

    const networks = await client.networks.list();

    assert.equal(networks.length, 1);
    const tokens = transport.requestsTo('/v2.0/networks').map((request) => request.headers['X-Auth-Token']);
    assert.deepEqual(tokens, ['token-1', 'token-2']);
    transport.assertDone();
  });

  it('reports AUTH_FAILED after a second 401', async () => {
    const { client, transport, delays } = setupClient([unauthorized, expectAuth({ token: 'token-2' }), unauthorized]);

    const error = await client.networks.list().catch((rejection: unknown) => rejection);

    assert.ok(error instanceof OpenStackHttpError, `expected OpenStackHttpError, got ${String(error)}`);
    assert.equal(error.code, 'AUTH_FAILED');
    assert.equal(error.status, 401);
    assert.equal(
      error.message,
      'list networks failed: GET http://127.0.0.1:9696/v2.0/networks returned HTTP 401: The request you have made requires authentication',
    );
    assert.deepEqual(delays, []);
    transport.assertDone();
  });

  it('passes on a Keystone rejection without calling Neutron', async () => {
    const transport = new FakeTransport([{ method: 'POST', path: '/v3/auth/tokens', reply: { status: 401, body: '' } }]);
    const client = new NeutronClient({ tokens: testSession(transport), transport });

    await assert.rejects(client.networks.list(), (error: unknown) => error instanceof KuryrError && error.code === 'AUTH_FAILED');
    transport.assertDone();
  });
});

describe('NeutronClient endpoint', () => {
  it('takes the public RegionOne endpoint and adds /v2.0', async () => {
    const { client, transport } = setupClient([listNetworks], { endpoint: { region: 'RegionOne' } });

    await client.networks.list();

    assert.equal(transport.calls[1]?.url, 'http://127.0.0.1:9696/v2.0/networks');
  });

  it('keeps /v2.0 when the catalog URL has it', async () => {
    const { client, transport } = setupClient([listNetworks], { endpoint: { interface: 'public', region: 'RegionTwo' } });

    await client.networks.list();

    assert.equal(transport.calls[1]?.url, 'http://127.0.0.3:9696/v2.0/networks');
  });

  it('takes the internal endpoint', async () => {
    const { client, transport } = setupClient([listNetworks], { endpoint: { interface: 'internal' } });

    await client.networks.list();

    assert.equal(transport.calls[1]?.url, 'http://127.0.0.2:9696/v2.0/networks');
  });

  it('uses a fixed URL instead of the catalog', async () => {
    const { client, transport } = setupClient([listNetworks], { endpoint: { url: 'http://127.0.0.9:9696/' } });

    await client.networks.list();

    assert.equal(transport.calls[1]?.url, 'http://127.0.0.9:9696/v2.0/networks');
  });

  it('reports a missing endpoint as CONFIG_INVALID', async () => {
    const { client } = setupClient([], { endpoint: { interface: 'admin', region: 'RegionOne' } });

    await assert.rejects(client.networks.list(), (error: unknown) => {
      assert.ok(error instanceof KuryrError, `expected KuryrError, got ${String(error)}`);
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.match(error.message, /^no "network" endpoint with interface "admin" in region "RegionOne" in the Keystone catalog: /);
      return true;
    });
  });
});

describe('NeutronClient observability', () => {
  it('reports every HTTP request to onCall', async () => {
    const { client, hookCalls } = setupClient([unauthorized, expectAuth({ token: 'token-2' }), listNetworks]);

    await client.networks.list();

    assert.deepEqual(hookCalls, [
      { method: 'GET', path: '/v2.0/networks', status: 401, ms: 0 },
      { method: 'GET', path: '/v2.0/networks', status: 200, ms: 0 },
    ]);
  });

  it('logs each call without token, password or body', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    const { client } = setupClient([{ ...listNetworks, path: '/v2.0/networks?name=secret-net' }], { logger });

    await client.networks.list({ name: 'secret-net' });

    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.ok(records.some((record) => record.msg === 'keystone call'), 'no debug line for the Keystone call');
    const call = records.find((record) => record.msg === 'neutron call');
    assert.equal(call?.method, 'GET');
    assert.equal(call?.path, '/v2.0/networks');
    assert.equal(call?.status, 200);
    assert.equal(call?.ms, 0);
    const output = lines.join('');
    assert.doesNotMatch(output, /token-1/);
    assert.doesNotMatch(output, new RegExp(TEST_PASSWORD));
    assert.doesNotMatch(output, /kuryr-net/, 'the reply body must not be logged');
  });
});
