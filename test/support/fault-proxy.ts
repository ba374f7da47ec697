/**
 * A programmable HTTP proxy for fault injection in tests. It listens on
 * 127.0.0.1 or on a unix socket, forwards each request to one upstream
 * (a loopback TCP port or a unix socket) and applies the first matching
 * rule: added latency, a fixed status without forwarding, a reset
 * connection, a reset after the upstream processed the request (a lost
 * reply), or a hold that the test releases. It records every request and
 * the ids of the resources that successful POSTs created, so leak checks can
 * look each one up afterwards.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';

export type ProxyAddress = { host: '127.0.0.1'; port: number } | { socketPath: string };

export type FaultAction =
  /** Forwards the request after `ms` milliseconds. */
  | { kind: 'delay'; ms: number }
  /** Replies with `status` and a Neutron-style fault body; the upstream never receives the request. */
  | { kind: 'status'; status: number; faultType?: string; message?: string; headers?: Record<string, string> }
  /** Resets the client's connection; the upstream never receives the request. */
  | { kind: 'reset' }
  /** Forwards the request, then resets the client's connection instead of relaying the reply. */
  | { kind: 'lose-reply' }
  /** Keeps the request until the test calls `forward()` or `drop()` on the handle from `nextHeld()`. */
  | { kind: 'hold' };

export interface FaultRule {
  /** HTTP method to match; any method when absent. */
  method?: string;
  /** Pattern matched against the request path with its query; any path when absent. */
  path?: RegExp;
  /** Number of matching requests to let through unchanged before the rule applies. The default is 0. */
  skip?: number;
  /** Number of requests the rule applies to. The default is 1; use Infinity for all. */
  times?: number;
  action: FaultAction;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** X-Auth-Token of the request, to tell re-authentications apart. */
  token: string | undefined;
  /** Kind of the fault applied, or undefined for a plain forward. */
  fault: FaultAction['kind'] | undefined;
  /** HTTP status of a `status` fault. */
  faultStatus: number | undefined;
  /** Status the upstream returned, or undefined when the request never reached it. */
  upstreamStatus: number | undefined;
  /** Time the proxy received the request, in ms since the epoch. */
  startedAt: number;
  /** Time until the proxy replied, reset or held the request, in ms. */
  ms: number;
}

/** A request kept by a `hold` rule. */
export interface HeldRequest {
  method: string;
  path: string;
  /** Sends the request upstream, then resets the client; returns the upstream status, or undefined when it failed. */
  forward(): Promise<number | undefined>;
  /** Resets the client's connection without forwarding. */
  drop(): void;
}

interface ActiveRule extends FaultRule {
  seen: number;
  applied: number;
}

interface UpstreamReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Headers that belong to one connection and are not relayed. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host']);

export class FaultProxy {
  readonly requests: RecordedRequest[] = [];
  /** Ids of resources created through the proxy, by Neutron collection (`ports`, `networks`, …). */
  readonly created = new Map<string, Set<string>>();
  readonly #upstream: ProxyAddress;
  readonly #server: Server;
  #rules: ActiveRule[] = [];
  #held: HeldRequest[] = [];
  #heldWaiters: Array<(held: HeldRequest) => void> = [];
  #listenAddress: ProxyAddress | undefined;

  constructor(upstream: ProxyAddress) {
    this.#upstream = upstream;
    this.#server = createServer((request, response) => void this.#handle(request, response));
    this.#server.keepAliveTimeout = 30_000;
  }

  /** Listens on `address`; a TCP port of 0 picks a free one. Returns the address in use. */
  async listen(address: ProxyAddress): Promise<ProxyAddress> {
    if ('socketPath' in address) await rm(address.socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      const done = (): void => {
        this.#server.off('error', reject);
        resolve();
      };
      if ('socketPath' in address) this.#server.listen(address.socketPath, done);
      else this.#server.listen(address.port, address.host, done);
    });
    this.#listenAddress = 'socketPath' in address ? address : { host: '127.0.0.1', port: (this.#server.address() as AddressInfo).port };
    return this.#listenAddress;
  }

  async close(): Promise<void> {
    for (const held of this.#held) held.drop();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    if (this.#listenAddress !== undefined && 'socketPath' in this.#listenAddress) await rm(this.#listenAddress.socketPath, { force: true });
  }

  /** Adds a rule after the existing ones; the first rule that matches a request decides. */
  addRule(rule: FaultRule): void {
    this.#rules.push({ ...rule, seen: 0, applied: 0 });
  }

  /** Removes every rule; held requests stay held. */
  clearRules(): void {
    this.#rules = [];
  }

  /** Returns how many requests each rule has applied to, in the order the rules were added. */
  appliedCounts(): number[] {
    return this.#rules.map((rule) => rule.applied);
  }

  /** Returns the next held request, waiting up to `timeoutMs` for one. */
  nextHeld(timeoutMs: number): Promise<HeldRequest> {
    const ready = this.#held.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#heldWaiters = this.#heldWaiters.filter((waiter) => waiter !== onHeld);
        reject(new Error(`no request matched a hold rule within ${timeoutMs} ms`));
      }, timeoutMs);
      const onHeld = (held: HeldRequest): void => {
        clearTimeout(timer);
        resolve(held);
      };
      this.#heldWaiters.push(onHeld);
    });
  }

  /** Returns the recorded requests whose method and path match. */
  matching(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((recorded) => recorded.method === method && path.test(recorded.path));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const method = request.method ?? 'GET';
    const path = request.url ?? '/';
    const started = Date.now();
    const tokenHeader = request.headers['x-auth-token'];
    const record: RecordedRequest = {
      method,
      path,
      token: typeof tokenHeader === 'string' ? tokenHeader : undefined,
      fault: undefined,
      faultStatus: undefined,
      upstreamStatus: undefined,
      startedAt: started,
      ms: 0,
    };
    this.requests.push(record);
    const action = this.#match(method, path);
    record.fault = action?.kind;
    if (action?.kind === 'status') record.faultStatus = action.status;
    const finish = (): void => {
      record.ms = Date.now() - started;
    };

    try {
      switch (action?.kind) {
        case undefined:
          await this.#relay(request, body, response, record);
          break;
        case 'delay':
          await new Promise((resolve) => setTimeout(resolve, action.ms));
          await this.#relay(request, body, response, record);
          break;
        case 'status':
          sendFault(response, action);
          break;
        case 'reset':
          resetConnection(request);
          break;
        case 'lose-reply':
          record.upstreamStatus = (await this.#forward(request, body)).status;
          resetConnection(request);
          break;
        case 'hold':
          this.#hold(request, body, record);
          break;
      }
    } catch {
      // The upstream is unreachable (a killed daemon behind a unix socket), so
      // the client sees what it would see from a dead server: a reset.
      resetConnection(request);
    } finally {
      finish();
    }
  }

  #match(method: string, path: string): FaultAction | undefined {
    for (const rule of this.#rules) {
      if (rule.method !== undefined && rule.method !== method) continue;
      if (rule.path !== undefined && !rule.path.test(path)) continue;
      rule.seen += 1;
      if (rule.seen <= (rule.skip ?? 0)) continue;
      if (rule.applied >= (rule.times ?? 1)) continue;
      rule.applied += 1;
      return rule.action;
    }
    return undefined;
  }

  #hold(request: IncomingMessage, body: Buffer, record: RecordedRequest): void {
    let settled = false;
    const held: HeldRequest = {
      method: record.method,
      path: record.path,
      forward: async () => {
        if (settled) return undefined;
        settled = true;
        try {
          const reply = await this.#forward(request, body);
          record.upstreamStatus = reply.status;
          return reply.status;
        } catch {
          return undefined;
        } finally {
          resetConnection(request);
        }
      },
      drop: () => {
        if (settled) return;
        settled = true;
        resetConnection(request);
      },
    };
    const waiter = this.#heldWaiters.shift();
    if (waiter === undefined) this.#held.push(held);
    else waiter(held);
  }

  async #relay(request: IncomingMessage, body: Buffer, response: ServerResponse, record: RecordedRequest): Promise<void> {
    const reply = await this.#forward(request, body);
    record.upstreamStatus = reply.status;
    response.writeHead(reply.status, { ...reply.headers, 'content-length': String(reply.body.length) });
    response.end(reply.body);
  }

  async #forward(request: IncomingMessage, body: Buffer): Promise<UpstreamReply> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === 'string' && !HOP_HEADERS.has(name)) headers[name] = value;
    }
    headers['content-length'] = String(body.length);
    const target = 'socketPath' in this.#upstream ? { socketPath: this.#upstream.socketPath } : { host: this.#upstream.host, port: this.#upstream.port };
    const reply = await new Promise<UpstreamReply>((resolve, reject) => {
      const outgoing = httpRequest({ ...target, method: request.method, path: request.url, headers, timeout: 120_000 }, (incoming) => {
        void readBody(incoming).then((replyBody) => {
          const replyHeaders: Record<string, string> = {};
          for (const [name, value] of Object.entries(incoming.headers)) {
            if (typeof value === 'string' && !HOP_HEADERS.has(name)) replyHeaders[name] = value;
          }
          resolve({ status: incoming.statusCode ?? 502, headers: replyHeaders, body: replyBody });
        }, reject);
      });
      outgoing.on('timeout', () => outgoing.destroy(new Error('upstream sent no reply within 120 s')));
      outgoing.on('error', reject);
      outgoing.end(body);
    });
    if (request.method === 'POST' && reply.status >= 200 && reply.status <= 299) this.#recordCreated(request.url ?? '/', reply.body);
    return reply;
  }

  /** Stores the ids in a Neutron create reply: `{"port": {...}}` or a bulk `{"subnets": [...]}`. */
  #recordCreated(path: string, body: Buffer): void {
    const collection = /^\/v2\.0\/([a-z-]+)$/.exec(path.split('?')[0] ?? '')?.[1];
    if (collection === undefined) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return;
    }
    if (typeof parsed !== 'object' || parsed === null) return;
    const ids = this.created.get(collection) ?? new Set<string>();
    for (const value of Object.values(parsed)) {
      const items: unknown[] = Array.isArray(value) ? value : [value];
      for (const item of items) {
        if (typeof item === 'object' && item !== null && typeof (item as { id?: unknown }).id === 'string') ids.add((item as { id: string }).id);
      }
    }
    this.created.set(collection, ids);
  }
}

/** Resets a TCP connection (RST). A unix socket has no reset, so it is closed instead. */
function resetConnection(request: IncomingMessage): void {
  const { socket } = request;
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function sendFault(response: ServerResponse, action: Extract<FaultAction, { kind: 'status' }>): void {
  const body = JSON.stringify({
    NeutronError: {
      type: action.faultType ?? 'InjectedFault',
      message: action.message ?? `fault injected by the test proxy: HTTP ${action.status}`,
      detail: '',
    },
  });
  response.writeHead(action.status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...action.headers });
  response.end(body);
}
