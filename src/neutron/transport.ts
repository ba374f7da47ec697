/**
 * The HTTP seam under the Keystone session and the Neutron client. Code above it
 * handles only plain requests and replies, so tests swap in a fake transport.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type AgentOptions as HttpsAgentOptions } from 'node:https';
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

/**
 * Time an idle keep-alive connection stays open on kuryr's side. Servers close
 * idle connections after their own timeout, so closing first keeps a request
 * off a socket that the server is about to drop.
 */
const IDLE_SOCKET_MS = 4_000;

/** Raised inside the transport when a request runs past its `timeoutMs`. */
class RequestTimeout extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * The real transport, over node:http and node:https with keep-alive
 * connections. Node's global fetch (undici, with a WebAssembly HTTP parser)
 * added about 12 MiB to the daemon's RSS when measured on the lab.
 */
export class NodeHttpTransport implements HttpTransport {
  readonly #http: HttpAgent;
  readonly #https: HttpsAgent;

  /** `tls` contains the CA bundle, client certificate and verification switch for https URLs (see tlsAgentOptions). */
  constructor(options: { tls?: HttpsAgentOptions } = {}) {
    this.#http = new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
    this.#https = new HttpsAgent({ ...options.tls, keepAlive: true, timeout: IDLE_SOCKET_MS });
  }

  /**
   * Sends the request once. Retries belong to the layers above, which know
   * whether a request is safe to repeat: a POST whose reply was lost may
   * already have created its resource.
   */
  async request(request: HttpRequest): Promise<HttpResponse> {
    try {
      return await this.#send(request);
    } catch (error) {
      throw unreachableError(request, error);
    }
  }

  /**
   * Sends one request. The timer covers connecting, sending and reading the whole
   * body, so a server that stalls halfway through a reply cannot hold the
   * caller. Redirects come back as they are: OpenStack APIs do not redirect,
   * and the credentials in the headers must not travel to a host the
   * configuration never named.
   */
  #send(request: HttpRequest): Promise<HttpResponse> {
    const url = new URL(request.url);
    const secure = url.protocol === 'https:';
    const headers: Record<string, string> = { ...request.headers };
    if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
    return new Promise<HttpResponse>((resolve, reject) => {
      let timedOut = false;
      const outgoing: ClientRequest = (secure ? httpsRequest : httpRequest)(url, {
        method: request.method,
        headers,
        agent: secure ? this.#https : this.#http,
      });
      const timer = setTimeout(() => {
        timedOut = true;
        outgoing.destroy(new RequestTimeout());
      }, request.timeoutMs);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        reject(timedOut ? new RequestTimeout() : error);
      };
      outgoing.on('error', fail);
      outgoing.on('response', (incoming: IncomingMessage) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', fail);
        incoming.on('end', () => {
          clearTimeout(timer);
          resolve({ status: incoming.statusCode ?? 0, headers: flattenHeaders(incoming), body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      outgoing.end(request.body);
    });
  }
}

function flattenHeaders(incoming: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** Builds the error for a request that got no HTTP reply, naming the service, the URL and the cause. */
export function unreachableError(request: Pick<HttpRequest, 'service' | 'url' | 'timeoutMs'>, cause: unknown): KuryrError {
  const code = request.service === 'Keystone' ? 'KEYSTONE_UNREACHABLE' : 'NEUTRON_UNREACHABLE';
  const reason = describeFailure(cause, request.timeoutMs);
  return new KuryrError(code, `cannot reach ${request.service} at "${request.url}": ${reason}`, { cause });
}

/**
 * Describes why a request failed in one line. Socket errors carry their code
 * in the message (for example ECONNREFUSED), and one with an empty message is
 * named by its code.
 */
function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof RequestTimeout) return `no reply within ${timeoutMs} ms`;
  if (!(error instanceof Error)) return String(error);
  if (error.message !== '') return error.message;
  return errorCodeOf(error) ?? error.name;
}

function errorCodeOf(error: Error): string | undefined {
  const code: unknown = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
