/**
 * One Neutron call: endpoint lookup, authentication with one re-authentication
 * after a 401, retries of idempotent methods, error mapping, logging and the
 * per-call hook. The typed resource methods sit on top of it.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import { KuryrError, OpenStackHttpError } from '../errors.js';
import type { EndpointQuery } from './catalog.js';
import { parseFault } from './fault.js';
import { describeSchemaError, parseJson } from './json.js';
import type { TokenSource } from './keystone.js';
import type { HttpMethod, HttpResponse, HttpTransport } from './transport.js';

export interface RetryOptions {
  /** Maximum number of attempts of an idempotent call, the first one included. */
  attempts: number;
  /** Delay before the first retry in ms. It doubles with each further retry. */
  baseDelayMs: number;
  /** Upper bound of one delay in ms. */
  maxDelayMs: number;
}

/** Report passed to the `onCall` hook after each HTTP request to Neutron, retries and re-authentications included. */
export interface CallInfo {
  method: HttpMethod;
  /** URL path without the query, for example `/v2.0/ports/4f1c…`. */
  path: string;
  /** HTTP status, or null when no reply arrived. */
  status: number | null;
  ms: number;
}

/**
 * Location of Neutron: a catalog query or a fixed URL. In the query, the service
 * type defaults to `network` and the interface to `public`, and the region is
 * needed only when the catalog lists several. A fixed URL replaces the catalog's,
 * for example when the catalog names an address this host cannot reach.
 */
export type NeutronEndpoint = Partial<EndpointQuery> | { url: string };

export interface NeutronApiOptions {
  tokens: TokenSource;
  transport: HttpTransport;
  endpoint?: NeutronEndpoint;
  /** Timeout of one HTTP request in ms. The default is 10 000. */
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
  sleep?: (ms: number) => Promise<void>;
  /** Source of numbers in [0, 1) for the jitter. The default is Math.random. */
  random?: () => number;
  /** Monotonic clock in ms, for durations. The default is performance.now. */
  now?: () => number;
  logger?: Logger;
  /** Called after each HTTP request. It must not throw. */
  onCall?: (info: CallInfo) => void;
}

export interface ApiCall {
  method: HttpMethod;
  /** Path below `/v2.0`, starting with `/`, already URL-encoded. */
  path: string;
  /** Encoded query string without the `?`. */
  query?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Description of the call for error messages, for example `delete port "4f1c…"`. */
  operation: string;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 4, baseDelayMs: 200, maxDelayMs: 2_000 };
const DEFAULT_TIMEOUT_MS = 10_000;

export class NeutronApi {
  readonly #options: NeutronApiOptions;
  readonly #retry: RetryOptions;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #now: () => number;

  constructor(options: NeutronApiOptions) {
    this.#options = options;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * Sends the call and returns the 2xx reply. Throws OpenStackHttpError for any
   * other status, and KuryrError NEUTRON_UNREACHABLE or KEYSTONE_UNREACHABLE when
   * no reply arrived after the last attempt.
   *
   * GET, PUT and DELETE are retried on 429, 5xx and unreachable errors. POST is
   * not: after an ambiguous failure the resource may exist, and the caller
   * resolves that by looking it up by its tags rather than creating a duplicate.
   * The one exception, for every method, is the re-send after a 401, because
   * Neutron processes nothing before it accepts the token.
   */
  async call(call: ApiCall): Promise<HttpResponse> {
    const attempts = call.method === 'POST' ? 1 : Math.max(1, this.#retry.attempts);
    for (let attempt = 1; ; attempt += 1) {
      const isLast = attempt >= attempts;
      let response: HttpResponse;
      try {
        response = await this.#sendAuthenticated(call);
      } catch (error) {
        if (isLast || !isRetryableError(error)) throw error;
        await this.#backOff(call, attempt, error, undefined);
        continue;
      }

      if (response.status >= 200 && response.status <= 299) return response;
      const error = await this.#httpError(call, response);
      if (isLast || !isRetryableStatus(response.status)) throw error;
      await this.#backOff(call, attempt, error, retryAfterMs(response));
    }
  }

  /** Parses a JSON reply against `schema`, throwing NEUTRON_ERROR that names the call when it does not match. */
  async parse<T>(schema: z.ZodType<T>, response: HttpResponse, call: ApiCall): Promise<T> {
    const parsed = schema.safeParse(parseJson(response.body));
    if (parsed.success) return parsed.data;
    const url = await this.#url(call);
    const detail = describeSchemaError(parsed.error);
    throw new KuryrError('NEUTRON_ERROR', `${call.operation} failed: unexpected reply from ${call.method} ${url}: ${detail}`, {
      cause: parsed.error,
    });
  }

  /** Returns the Neutron API root, ending in `/v2.0`. */
  async baseUrl(): Promise<string> {
    const endpoint = this.#options.endpoint ?? {};
    const found =
      'url' in endpoint
        ? endpoint.url
        : await this.#options.tokens.getEndpoint({
            serviceType: endpoint.serviceType ?? 'network',
            interface: endpoint.interface ?? 'public',
            ...(endpoint.region === undefined ? {} : { region: endpoint.region }),
          });
    const trimmed = found.replace(/\/+$/, '');
    // The catalog usually lists Neutron's root (http://host:9696/), while all
    // resources live under /v2.0.
    return trimmed.endsWith('/v2.0') ? trimmed : `${trimmed}/v2.0`;
  }

  /**
   * Sends the call with the cached token. A 401 means Keystone revoked the token
   * before its expiry (a restart with new Fernet keys, a password change), so the
   * call is sent once more with a fresh token. A second 401 is returned as is.
   */
  async #sendAuthenticated(call: ApiCall): Promise<HttpResponse> {
    const { tokens } = this.#options;
    const url = await this.#url(call);
    const token = await tokens.getToken();
    const response = await this.#send(call, url, token);
    if (response.status !== 401) return response;

    tokens.invalidate(token);
    return this.#send(call, url, await tokens.getToken());
  }

  async #send(call: ApiCall, url: string, token: string): Promise<HttpResponse> {
    const headers: Record<string, string> = { Accept: 'application/json', 'X-Auth-Token': token, ...call.headers };
    if (call.body !== undefined) headers['Content-Type'] = 'application/json';
    const started = this.#now();
    let status: number | null = null;
    try {
      const response = await this.#options.transport.request({
        method: call.method,
        url,
        headers,
        ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
        timeoutMs: this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        service: 'Neutron',
      });
      status = response.status;
      return response;
    } finally {
      this.#report(call, url, status, this.#now() - started);
    }
  }

  #report(call: ApiCall, url: string, status: number | null, ms: number): void {
    const { pathname, search } = new URL(url);
    this.#options.logger?.debug({ method: call.method, path: pathname, query: search, status, ms }, 'neutron call');
    this.#options.onCall?.({ method: call.method, path: pathname, status, ms });
  }

  async #backOff(call: ApiCall, attempt: number, error: unknown, retryAfter: number | undefined): Promise<void> {
    const delayMs = backoffDelay(this.#retry, attempt, this.#random(), retryAfter);
    this.#options.logger?.warn(
      { method: call.method, path: call.path, attempt, delayMs, err: error instanceof Error ? error.message : String(error) },
      'retrying neutron call',
    );
    await this.#sleep(delayMs);
  }

  async #httpError(call: ApiCall, response: HttpResponse): Promise<OpenStackHttpError> {
    const fault = parseFault(response.body);
    return new OpenStackHttpError({
      status: response.status,
      method: call.method,
      url: await this.#url(call),
      serverMessage: fault.message,
      operation: call.operation,
      ...(fault.faultType === undefined ? {} : { faultType: fault.faultType }),
    });
  }

  async #url(call: ApiCall): Promise<string> {
    const query = call.query === undefined || call.query === '' ? '' : `?${call.query}`;
    return `${await this.baseUrl()}${call.path}${query}`;
  }
}

/**
 * Returns the delay before retry number `attempt` (1 for the first retry):
 * exponential from `baseDelayMs`, capped at `maxDelayMs`, with "equal jitter"
 * (half fixed, half random) so that clients that failed together do not retry
 * together. A server's Retry-After raises the delay, up to the same cap.
 */
export function backoffDelay(retry: RetryOptions, attempt: number, random: number, retryAfter?: number): number {
  const exponential = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
  const jittered = exponential / 2 + (random * exponential) / 2;
  const delay = retryAfter === undefined ? jittered : Math.max(jittered, Math.min(retry.maxDelayMs, retryAfter));
  return Math.round(delay);
}

function isRetryableError(error: unknown): boolean {
  if (error instanceof OpenStackHttpError) return isRetryableStatus(error.status);
  return error instanceof KuryrError && (error.code === 'NEUTRON_UNREACHABLE' || error.code === 'KEYSTONE_UNREACHABLE');
}

/** 429 and 5xx are worth another try. 501 is not, because the server will never implement the call. */
function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599 && status !== 501);
}

/** Reads a Retry-After header given in seconds. The HTTP-date form is ignored. */
function retryAfterMs(response: HttpResponse): number | undefined {
  const value = response.headers['retry-after'];
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim()) * 1000;
}
