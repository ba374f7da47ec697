/**
 * Test doubles for the Neutron and Keystone seams. Not exported from index.ts.
 */
import assert from 'node:assert/strict';
import type { Logger } from 'pino';
import type { CallInfo } from './api.js';
import { NeutronClient } from './client.js';
import type { NeutronClientOptions } from './client.js';
import { KeystoneSession } from './keystone.js';
import type { HttpMethod, HttpRequest, HttpResponse, HttpTransport } from './transport.js';

export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  /** Reply body: a string is sent as is, anything else as JSON. */
  body?: unknown;
}

export interface ExpectedCall {
  method: HttpMethod;
  /** Path and query of the request URL, compared exactly, for example `/v2.0/ports?network_id=n1`. */
  path: string;
  /** The reply, a function that builds it (possibly later, to hold a request in flight), or an error to throw. */
  reply?: FakeReply | ((request: HttpRequest) => FakeReply | Promise<FakeReply>);
  error?: Error;
}

/**
 * A transport that replies from a list of expected calls. Each request takes
 * the first unused expectation with the same method and path, so identical
 * calls get their replies in the order they were expected. A request that matches
 * none fails with an error naming it and the calls still expected.
 */
export class FakeTransport implements HttpTransport {
  readonly calls: HttpRequest[] = [];
  readonly #pending: ExpectedCall[] = [];
  readonly #unexpected: string[] = [];

  constructor(expected: ExpectedCall[] = []) {
    this.#pending.push(...expected);
  }

  expect(...expected: ExpectedCall[]): this {
    this.#pending.push(...expected);
    return this;
  }

  async request(request: HttpRequest): Promise<HttpResponse> {
    this.calls.push(request);
    const path = pathOf(request.url);
    const index = this.#pending.findIndex((call) => call.method === request.method && call.path === path);
    const expected = this.#pending[index];
    if (expected === undefined) {
      const described = `${request.method} ${path}`;
      this.#unexpected.push(described);
      throw new Error(`unexpected request ${described}; still expected: ${this.#describePending()}`);
    }

    this.#pending.splice(index, 1);
    if (expected.error !== undefined) throw expected.error;
    const reply = typeof expected.reply === 'function' ? await expected.reply(request) : (expected.reply ?? {});
    return { status: reply.status ?? 200, headers: lowercaseKeys(reply.headers ?? {}), body: serialiseBody(reply.body) };
  }

  /** Fails unless every expected call was made and no unexpected one was. */
  assertDone(): void {
    assert.deepEqual(this.#unexpected, [], 'unexpected requests were made');
    assert.equal(this.#pending.length, 0, `expected requests never made: ${this.#describePending()}`);
  }

  /** Returns the recorded requests to URLs with this path (query excluded), in order. */
  requestsTo(pathname: string): HttpRequest[] {
    return this.calls.filter((call) => new URL(call.url).pathname === pathname);
  }

  #describePending(): string {
    return this.#pending.map((call) => `${call.method} ${call.path}`).join(', ') || 'none';
  }
}

function pathOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

function serialiseBody(body: unknown): string {
  if (body === undefined) return '';
  if (typeof body === 'string') return body;
  return JSON.stringify(body);
}

function lowercaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

/** A clock that only moves when a test moves it. */
export class FakeClock {
  #ms: number;

  constructor(start: string | number = '2026-12-01T12:00:00Z') {
    this.#ms = typeof start === 'number' ? start : Date.parse(start);
  }

  readonly now = (): number => this.#ms;

  advance(ms: number): void {
    this.#ms += ms;
  }
}

/** A sleep that returns at once and records each requested delay. */
export function recordingSleep(): { sleep: (ms: number) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms) => {
      delays.push(ms);
    },
  };
}

export const KEYSTONE_URL = 'http://127.0.0.1:5000/v3';
export const NEUTRON_URL = 'http://127.0.0.1:9696';

/** Builds a Keystone token reply with a catalog that lists Neutron in RegionOne (public, internal) and RegionTwo (public). */
export function tokenReply(options: { token?: string; issuedAt?: string; expiresAt?: string } = {}): FakeReply {
  return {
    status: 201,
    headers: { 'X-Subject-Token': options.token ?? 'token-1' },
    body: {
      token: {
        issued_at: options.issuedAt ?? '2026-12-01T12:00:00.000000Z',
        expires_at: options.expiresAt ?? '2026-12-01T13:00:00.000000Z',
        project: { id: 'project-1', name: 'service' },
        catalog: [
          {
            type: 'network',
            name: 'neutron',
            endpoints: [
              { interface: 'public', region_id: 'RegionOne', region: 'RegionOne', url: `${NEUTRON_URL}/` },
              { interface: 'internal', region_id: 'RegionOne', region: 'RegionOne', url: 'http://127.0.0.2:9696' },
              { interface: 'public', region_id: 'RegionTwo', region: 'RegionTwo', url: 'http://127.0.0.3:9696/v2.0/' },
            ],
          },
          { type: 'identity', name: 'keystone', endpoints: [{ interface: 'public', region_id: 'RegionOne', url: KEYSTONE_URL }] },
        ],
      },
    },
  };
}

/** Builds an expected Keystone authentication whose reply is `tokenReply(options)`. */
export function expectAuth(options: Parameters<typeof tokenReply>[0] = {}): ExpectedCall {
  return { method: 'POST', path: '/v3/auth/tokens', reply: tokenReply(options) };
}

/** Builds an error reply in Neutron's `NeutronError` shape. */
/** Parses the JSON body of a recorded request: null when it has none. */
export function requestBody<T = unknown>(request: { body?: string | undefined } | undefined): T {
  return JSON.parse(request?.body ?? 'null') as T;
}

export function neutronFault(status: number, type: string, message: string): FakeReply {
  return { status, body: { NeutronError: { type, message, detail: '' } } };
}

/** Builds a Neutron port as the API returns it, with `overrides` applied. */
export function portFixture(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'port-1',
    name: 'kuryr-port',
    network_id: 'net-1',
    mac_address: 'fa:16:3e:00:00:01',
    fixed_ips: [{ subnet_id: 'subnet-1', ip_address: '10.0.0.5' }],
    status: 'DOWN',
    admin_state_up: true,
    device_owner: 'kuryr:container',
    device_id: 'endpoint-1',
    'binding:host_id': 'node-1',
    'binding:vif_type': 'bridge',
    'binding:vif_details': { connectivity: 'l2', port_filter: true },
    'binding:vnic_type': 'normal',
    'binding:profile': {},
    tags: [],
    security_groups: ['sg-1'],
    allowed_address_pairs: [],
    revision_number: 3,
    project_id: 'project-1',
    ...overrides,
  };
}

/** Builds a Neutron network as the API returns it, with `overrides` applied. */
export function networkFixture(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'net-1',
    name: 'kuryr-net',
    status: 'ACTIVE',
    admin_state_up: true,
    mtu: 1450,
    shared: false,
    tags: [],
    project_id: 'project-1',
    subnets: ['subnet-1'],
    'router:external': false,
    ...overrides,
  };
}

/** Builds a Neutron subnet as the API returns it, with `overrides` applied. */
export function subnetFixture(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'subnet-1',
    name: 'kuryr-subnet',
    network_id: 'net-1',
    ip_version: 4,
    cidr: '10.0.0.0/24',
    gateway_ip: '10.0.0.1',
    allocation_pools: [{ start: '10.0.0.2', end: '10.0.0.254' }],
    host_routes: [],
    dns_nameservers: [],
    subnetpool_id: null,
    tags: [],
    enable_dhcp: false,
    project_id: 'project-1',
    ...overrides,
  };
}

/** Builds a Neutron subnet pool as the API returns it, with `overrides` applied. */
export function subnetPoolFixture(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'pool-1',
    name: 'kuryr-pool',
    prefixes: ['10.10.0.0/16'],
    default_prefixlen: 24,
    shared: false,
    tags: [],
    ip_version: 4,
    description: '',
    project_id: 'project-1',
    ...overrides,
  };
}

/** Builds a Neutron trunk as Neutron 21 returns it, with `overrides` applied. */
export function trunkFixture(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'trunk-1',
    name: 'vm-trunk',
    port_id: 'vm-port',
    status: 'DOWN',
    admin_state_up: true,
    project_id: 'project-1',
    sub_ports: [],
    revision_number: 1,
    description: '',
    tags: [],
    ...overrides,
  };
}

export const TEST_PASSWORD = 'secret-password';

/** Creates a Keystone session for user kuryr in project service (domain Default) over `transport`. */
export function testSession(transport: HttpTransport, clock: FakeClock = new FakeClock(), logger?: Logger): KeystoneSession {
  return new KeystoneSession({
    authUrl: KEYSTONE_URL,
    user: { name: 'kuryr', domain: { name: 'Default' } },
    password: TEST_PASSWORD,
    project: { name: 'service', domain: { name: 'Default' } },
    transport,
    now: clock.now,
    ...(logger === undefined ? {} : { logger }),
  });
}

/**
 * Creates a client over a fake transport that first expects one authentication,
 * then `expected`. Neutron is the catalog's public endpoint in RegionOne unless
 * `options.endpoint` sets another. Sleeps are recorded, the jitter is fixed
 * at the middle of its range (random 0.5), and the `onCall` hook is recorded.
 */
export function setupClient(expected: ExpectedCall[], options: Partial<NeutronClientOptions> = {}) {
  const transport = new FakeTransport([expectAuth(), ...expected]);
  const tokens = testSession(transport, new FakeClock(), options.logger);
  const { sleep, delays } = recordingSleep();
  const hookCalls: CallInfo[] = [];
  const client = new NeutronClient({
    tokens,
    transport,
    sleep,
    random: () => 0.5,
    now: () => 0,
    onCall: (info) => hookCalls.push(info),
    endpoint: { region: 'RegionOne' },
    ...options,
  });
  return { client, transport, tokens, delays, hookCalls };
}
