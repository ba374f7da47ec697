import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KuryrError, OpenStackHttpError } from '../errors.js';
import { KeystoneSession, normaliseAuthUrl } from './keystone.js';
import {
  FakeClock,
  FakeTransport,
  KEYSTONE_URL,
  NEUTRON_URL,
  TEST_PASSWORD,
  expectAuth,
  testSession,
  tokenReply,
} from './test-support.js';
import type { FakeReply } from './test-support.js';

const MINUTE = 60_000;

describe('normaliseAuthUrl', () => {
  const cases: [string, string][] = [
    ['http://127.0.0.1:5000', 'http://127.0.0.1:5000/v3'],
    ['http://127.0.0.1:5000/', 'http://127.0.0.1:5000/v3'],
    ['http://127.0.0.1:5000/v3', 'http://127.0.0.1:5000/v3'],
    ['http://127.0.0.1:5000/v3//', 'http://127.0.0.1:5000/v3'],
    ['http://127.0.0.1/identity', 'http://127.0.0.1/identity/v3'],
  ];
  for (const [input, expected] of cases) {
    it(`normalises ${input}`, () => {
      assert.equal(normaliseAuthUrl(input), expected);
    });
  }

  it('rejects a v2.0 URL', () => {
    assert.throws(() => normaliseAuthUrl('http://127.0.0.1:5000/v2.0/'), (error: unknown) => {
      assert.ok(error instanceof KuryrError, `expected KuryrError, got ${String(error)}`);
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.match(error.message, /only the v3 API is supported/);
      return true;
    });
  });
});

describe('KeystoneSession authentication', () => {
  it('sends a password request scoped by names', async () => {
    const transport = new FakeTransport([expectAuth()]);

    assert.equal(await testSession(transport).getToken(), 'token-1');

    const [request] = transport.calls;
    assert.ok(request !== undefined, 'no request was sent');
    assert.equal(request.url, `${KEYSTONE_URL}/auth/tokens`);
    assert.equal(request.service, 'Keystone');
    assert.equal(request.headers['Content-Type'], 'application/json');
    assert.deepEqual(JSON.parse(request.body ?? ''), {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'kuryr', domain: { name: 'Default' }, password: TEST_PASSWORD } },
        },
        scope: { project: { name: 'service', domain: { name: 'Default' } } },
      },
    });
    transport.assertDone();
  });

  it('sends a password request scoped by ids', async () => {
    const transport = new FakeTransport([expectAuth()]);
    const session = new KeystoneSession({
      authUrl: 'http://127.0.0.1:5000/',
      user: { id: 'user-id' },
      password: TEST_PASSWORD,
      project: { id: 'project-id' },
      transport,
    });

    await session.getToken();

    const body: unknown = JSON.parse(transport.calls[0]?.body ?? '');
    assert.deepEqual(body, {
      auth: {
        identity: { methods: ['password'], password: { user: { id: 'user-id', password: TEST_PASSWORD } } },
        scope: { project: { id: 'project-id' } },
      },
    });
    transport.assertDone();
  });

  it('sends domain ids when given', async () => {
    const transport = new FakeTransport([expectAuth()]);
    const session = new KeystoneSession({
      authUrl: KEYSTONE_URL,
      user: { name: 'kuryr', domain: { id: 'default' } },
      password: TEST_PASSWORD,
      project: { name: 'service', domain: { id: 'default' } },
      transport,
    });

    await session.getToken();

    const body = JSON.parse(transport.calls[0]?.body ?? '') as { auth: { identity: unknown; scope: unknown } };
    assert.deepEqual(body.auth.scope, { project: { name: 'service', domain: { id: 'default' } } });
    assert.deepEqual(body.auth.identity, {
      methods: ['password'],
      password: { user: { name: 'kuryr', domain: { id: 'default' }, password: TEST_PASSWORD } },
    });
  });

  it('sends an application credential by id without a scope', async () => {
    const transport = new FakeTransport([expectAuth()]);
    const session = new KeystoneSession({
      authUrl: KEYSTONE_URL,
      applicationCredential: { id: 'appcred-id', secret: TEST_PASSWORD },
      transport,
    });

    await session.getToken();

    assert.deepEqual(JSON.parse(transport.calls[0]?.body ?? ''), {
      auth: {
        identity: { methods: ['application_credential'], application_credential: { id: 'appcred-id', secret: TEST_PASSWORD } },
      },
    });
  });

  it('sends an application credential by name with its user', async () => {
    const transport = new FakeTransport([expectAuth()]);
    const session = new KeystoneSession({
      authUrl: KEYSTONE_URL,
      applicationCredential: { name: 'kuryr-cred', user: { name: 'kuryr', domain: { name: 'Default' } }, secret: TEST_PASSWORD },
      transport,
    });

    await session.getToken();

    const body = JSON.parse(transport.calls[0]?.body ?? '') as { auth: { identity: unknown } };
    assert.deepEqual(body.auth.identity, {
      methods: ['application_credential'],
      application_credential: { name: 'kuryr-cred', user: { name: 'kuryr', domain: { name: 'Default' } }, secret: TEST_PASSWORD },
    });
  });

  it('exchanges a token for a project-scoped one', async () => {
    const transport = new FakeTransport([expectAuth()]);
    const session = new KeystoneSession({ authUrl: KEYSTONE_URL, token: 'given-token', project: { id: 'project-id' }, transport });

    await session.getToken();

    assert.deepEqual(JSON.parse(transport.calls[0]?.body ?? ''), {
      auth: { identity: { methods: ['token'], token: { id: 'given-token' } }, scope: { project: { id: 'project-id' } } },
    });
  });

  it('names the application credential when Keystone rejects it', async () => {
    const transport = new FakeTransport([{ method: 'POST', path: '/v3/auth/tokens', reply: { status: 401, body: {} } }]);
    const session = new KeystoneSession({
      authUrl: KEYSTONE_URL,
      applicationCredential: { id: 'appcred-id', secret: TEST_PASSWORD },
      transport,
    });

    await assert.rejects(session.getToken(), (error: unknown) => {
      assert.ok(error instanceof KuryrError);
      assert.equal(error.code, 'AUTH_FAILED');
      assert.match(error.message, /application credential id "appcred-id"/);
      assert.doesNotMatch(error.message, new RegExp(TEST_PASSWORD));
      return true;
    });
  });

  it('returns the project id of the token', async () => {
    const transport = new FakeTransport([expectAuth()]);

    assert.equal(await testSession(transport).getProjectId(), 'project-1');
  });
});

describe('KeystoneSession token cache', () => {
  it('reuses the token until the renewal margin', async () => {
    const clock = new FakeClock();
    const transport = new FakeTransport([expectAuth({ token: 'token-1' })]);
    const session = testSession(transport, clock);

    assert.equal(await session.getToken(), 'token-1');
    clock.advance(54 * MINUTE);
    assert.equal(await session.getToken(), 'token-1');

    transport.assertDone();
  });

  it('renews a one-hour token 5 minutes before expiry', async () => {
    const clock = new FakeClock();
    const transport = new FakeTransport([expectAuth({ token: 'token-1' }), expectAuth({ token: 'token-2' })]);
    const session = testSession(transport, clock);

    await session.getToken();
    clock.advance(55 * MINUTE - 1);
    assert.equal(await session.getToken(), 'token-1');
    clock.advance(1);
    assert.equal(await session.getToken(), 'token-2');

    transport.assertDone();
  });

  it('renews a short token at a tenth of its lifetime', async () => {
    const clock = new FakeClock();
    const transport = new FakeTransport([
      expectAuth({ token: 'token-1', issuedAt: '2026-12-01T12:00:00Z', expiresAt: '2026-12-01T12:10:00Z' }),
      expectAuth({ token: 'token-2' }),
    ]);
    const session = testSession(transport, clock);

    await session.getToken();
    clock.advance(9 * MINUTE - 1);
    assert.equal(await session.getToken(), 'token-1');
    clock.advance(1);
    assert.equal(await session.getToken(), 'token-2');
  });

  it('measures the lifetime on the Keystone clock', async () => {
    // Keystone's clock is two hours behind ours: judged by our clock, the token
    // would have expired an hour ago.
    const clock = new FakeClock('2026-12-01T14:00:00Z');
    const transport = new FakeTransport([expectAuth({ token: 'token-1' })]);
    const session = testSession(transport, clock);

    await session.getToken();
    clock.advance(50 * MINUTE);

    assert.equal(await session.getToken(), 'token-1');
    transport.assertDone();
  });

  it('shares one renewal among concurrent callers', async () => {
    let release: (reply: FakeReply) => void = () => undefined;
    const held = new Promise<FakeReply>((resolve) => {
      release = resolve;
    });
    const transport = new FakeTransport([{ method: 'POST', path: '/v3/auth/tokens', reply: () => held }]);
    const session = testSession(transport);

    const first = session.getToken();
    const second = session.getToken();
    const third = session.getEndpoint({ serviceType: 'network', interface: 'public', region: 'RegionOne' });
    release(tokenReply({ token: 'token-1' }));

    assert.deepEqual(await Promise.all([first, second, third]), ['token-1', 'token-1', NEUTRON_URL]);
    assert.equal(transport.calls.length, 1);
    transport.assertDone();
  });

  it('authenticates again after invalidate', async () => {
    const transport = new FakeTransport([expectAuth({ token: 'token-1' }), expectAuth({ token: 'token-2' })]);
    const session = testSession(transport);

    await session.getToken();
    session.invalidate('token-1');

    assert.equal(await session.getToken(), 'token-2');
    transport.assertDone();
  });

  it('keeps a renewed token when a stale one is invalidated', async () => {
    const transport = new FakeTransport([expectAuth({ token: 'token-1' }), expectAuth({ token: 'token-2' })]);
    const session = testSession(transport);

    await session.getToken();
    session.invalidate('token-1');
    await session.getToken();
    session.invalidate('token-1');

    assert.equal(await session.getToken(), 'token-2');
    transport.assertDone();
  });

  it('tries again after a failed authentication', async () => {
    const transport = new FakeTransport([
      { method: 'POST', path: '/v3/auth/tokens', reply: { status: 503, body: 'busy' } },
      expectAuth({ token: 'token-2' }),
    ]);
    const session = testSession(transport);

    await assert.rejects(session.getToken(), OpenStackHttpError);

    assert.equal(await session.getToken(), 'token-2');
    transport.assertDone();
  });
});

describe('KeystoneSession errors', () => {
  it('reports rejected credentials as AUTH_FAILED', async () => {
    const transport = new FakeTransport([
      {
        method: 'POST',
        path: '/v3/auth/tokens',
        reply: { status: 401, body: { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } } },
      },
    ]);

    const error = await testSession(transport).getToken().then(
      () => assert.fail('expected a rejection'),
      (rejection: unknown) => rejection,
    );

    assert.ok(error instanceof KuryrError, `expected KuryrError, got ${String(error)}`);
    assert.equal(error.code, 'AUTH_FAILED');
    assert.match(error.message, /^authentication of user "kuryr" \(domain "Default"\) to project "service" \(domain "Default"\)/);
    assert.match(error.message, /at "http:\/\/127\.0\.0\.1:5000\/v3"/);
    assert.match(error.message, /check the user name or id, password, domains and project/);
    assert.doesNotMatch(error.message, new RegExp(TEST_PASSWORD));
  });

  it('reports other statuses with the Keystone message', async () => {
    const transport = new FakeTransport([
      {
        method: 'POST',
        path: '/v3/auth/tokens',
        reply: { status: 400, body: { error: { code: 400, title: 'Bad Request', message: 'Invalid input for field identity.' } } },
      },
    ]);

    const error = await testSession(transport).getToken().catch((rejection: unknown) => rejection);

    assert.ok(error instanceof OpenStackHttpError, `expected OpenStackHttpError, got ${String(error)}`);
    assert.equal(error.status, 400);
    assert.equal(error.code, 'INVALID_REQUEST');
    assert.equal(
      error.message,
      'authentication of user "kuryr" (domain "Default") to project "service" (domain "Default") failed: ' +
        'POST http://127.0.0.1:5000/v3/auth/tokens returned HTTP 400: Invalid input for field identity',
    );
  });

  it('rejects a reply without X-Subject-Token', async () => {
    const reply = tokenReply();
    const transport = new FakeTransport([{ method: 'POST', path: '/v3/auth/tokens', reply: { ...reply, headers: {} } }]);

    await assert.rejects(testSession(transport).getToken(), (error: unknown) => {
      assert.ok(error instanceof KuryrError, `expected KuryrError, got ${String(error)}`);
      assert.equal(error.code, 'AUTH_FAILED');
      assert.match(error.message, /unexpected Keystone reply: the X-Subject-Token header is missing$/);
      return true;
    });
  });

  it('rejects a reply without an expiry', async () => {
    const transport = new FakeTransport([
      { method: 'POST', path: '/v3/auth/tokens', reply: { status: 201, headers: { 'X-Subject-Token': 't' }, body: { token: {} } } },
    ]);

    await assert.rejects(testSession(transport).getToken(), /unexpected Keystone reply: token\.expires_at: /);
  });
});
