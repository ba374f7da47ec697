/**
 * The HTTP seam under the Keystone session and the Neutron client. Code above it
 * handles only plain requests and replies, so tests swap in a fake transport.
 */
import type { Dispatcher } from 'undici';
import { KuryrError } from '../errors.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** The OpenStack service a request goes to. It picks the error code and wording when the service is unreachable. */
export type ServiceName = 'Keystone' | 'Neutron';

export interface HttpRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  service: ServiceName;
}

export interface HttpResponse {
  status: number;
  /** Header names in lowercase. */
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends one HTTP request and returns whatever status the server sent.
 * Implementations throw KuryrError `NEUTRON_UNREACHABLE` or `KEYSTONE_UNREACHABLE`
 * (by `service`) when no reply arrives: refused or reset connections, DNS
 * failures and timeouts.
 */
export interface HttpTransport {
  request(request: HttpRequest): Promise<HttpResponse>;
}

type FetchFunction = typeof globalThis.fetch;

/** The real transport, over Node's global fetch (undici). */
export class FetchTransport implements HttpTransport {
  readonly #fetch: FetchFunction;
  readonly #dispatcher: Dispatcher | undefined;

  /** `dispatcher` carries TLS settings (see createTlsAgent); without it fetch uses its global Agent. */
  constructor(options: { fetch?: FetchFunction; dispatcher?: Dispatcher } = {}) {
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#dispatcher = options.dispatcher;
  }

  async request(request: HttpRequest): Promise<HttpResponse> {
    // The timeout signal also covers reading the body, so a server that stalls
    // halfway through a reply cannot hold the caller forever. Redirects are not
    // followed: OpenStack APIs do not redirect, and the credentials in the headers
    // must not travel to a host the configuration never named.
    const signal = AbortSignal.timeout(request.timeoutMs);
    try {
      const response = await this.#fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal,
        redirect: 'manual',
        ...(this.#dispatcher === undefined ? {} : { dispatcher: this.#dispatcher }),
      } as RequestInit);
      const body = await response.text();
      return { status: response.status, headers: Object.fromEntries(response.headers), body };
    } catch (error) {
      throw unreachableError(request, error);
    }
  }
}

/** Builds the error for a request that got no HTTP reply, naming the service, the URL and the cause. */
export function unreachableError(request: Pick<HttpRequest, 'service' | 'url' | 'timeoutMs'>, cause: unknown): KuryrError {
  const code = request.service === 'Keystone' ? 'KEYSTONE_UNREACHABLE' : 'NEUTRON_UNREACHABLE';
  const reason = describeFetchFailure(cause, request.timeoutMs);
  return new KuryrError(code, `cannot reach ${request.service} at "${request.url}": ${reason}`, { cause });
}

/**
 * Describes why fetch failed in one line. undici rejects with a bare
 * `TypeError: fetch failed` and puts the socket error (with `code`, for
 * example ECONNREFUSED) in `cause`, so the cause is what the message shows.
 */
function describeFetchFailure(error: unknown, timeoutMs: number): string {
  if (isNamedError(error, 'TimeoutError')) return `no reply within ${timeoutMs} ms`;
  if (isNamedError(error, 'AbortError')) return 'request aborted';
  if (!(error instanceof Error)) return String(error);

  const cause: unknown = error.cause;
  if (cause instanceof Error) {
    const code = errorCodeOf(cause);
    if (cause.message !== '') return cause.message;
    if (code !== undefined) return code;
  }
  return error.message;
}

function isNamedError(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}

function errorCodeOf(error: Error): string | undefined {
  const code: unknown = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
