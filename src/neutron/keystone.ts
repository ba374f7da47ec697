/**
 * Keystone v3 authentication (password, application credential or an existing
 * token) with a cached, project-scoped token.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { KuryrError, OpenStackHttpError } from '../errors.js';
import { catalogSchema, findEndpoint } from './catalog.js';
import type { EndpointQuery, ServiceCatalog } from './catalog.js';
import { parseFault } from './fault.js';
import { describeSchemaError, parseJson } from './json.js';
import type { HttpTransport } from './transport.js';

export type DomainRef = { id: string } | { name: string };
export type UserRef = { id: string } | { name: string; domain: DomainRef };
export type ProjectRef = { id: string } | { name: string; domain: DomainRef };

/** Password authentication, scoped to a project. */
export interface PasswordCredentials {
  user: UserRef;
  password: string;
  project: ProjectRef;
}

/**
 * Application credential authentication. The credential is bound to one
 * project when it is created, so the request carries no scope. A credential
 * given by name also needs its owner.
 */
export interface ApplicationCredentials {
  applicationCredential: { id: string; secret: string } | { name: string; user: UserRef; secret: string };
}

/**
 * Authentication with an existing token, exchanged for one scoped to `project`.
 * Keystone does not renew a token past its own expiry, so the daemon fails once
 * the given token expires.
 */
export interface TokenCredentials {
  token: string;
  project: ProjectRef;
}

export type KeystoneCredentials = PasswordCredentials | ApplicationCredentials | TokenCredentials;

export type KeystoneOptions = KeystoneCredentials & {
  /** Keystone's URL, with or without the trailing `/v3`. */
  authUrl: string;
  transport: HttpTransport;
  /** Timeout of one authentication request in ms. The default is 10 000. */
  timeoutMs?: number;
  /** Wall clock in ms since the epoch. Tests pass a fake one. */
  now?: () => number;
  logger?: Logger;
};

/** The part of a Keystone session that the Neutron client uses. */
export interface TokenSource {
  /** Returns a valid token, authenticating first when the cached one is missing or close to expiry. */
  getToken(): Promise<string>;
  /** Drops the cached token after a service rejected it with HTTP 401. */
  invalidate(token: string): void;
  getEndpoint(query: EndpointQuery): Promise<string>;
}

interface CachedToken {
  value: string;
  /** Local clock time at which the token expires. */
  expiresAt: number;
  /** Local clock time from which the token is renewed before use. */
  renewAt: number;
  projectId: string | undefined;
  catalog: ServiceCatalog;
}

const DEFAULT_TIMEOUT_MS = 10_000;
// A token is renewed when 5 minutes or a tenth of its lifetime remain, whichever
// is shorter, so requests in flight never carry a token that expires under them.
const RENEWAL_MARGIN_MAX_MS = 5 * 60_000;
const RENEWAL_MARGIN_FRACTION = 0.1;

const tokenReplySchema = z.looseObject({
  token: z.looseObject({
    expires_at: z.string(),
    issued_at: z.string().optional(),
    project: z.looseObject({ id: z.string() }).optional(),
    catalog: catalogSchema.default([]),
  }),
});

export class KeystoneSession implements TokenSource {
  /** Normalised auth URL, ending in `/v3`. */
  readonly authUrl: string;
  readonly #options: KeystoneOptions;
  readonly #now: () => number;
  #token: CachedToken | undefined;
  #pending: Promise<CachedToken> | undefined;

  constructor(options: KeystoneOptions) {
    this.authUrl = normaliseAuthUrl(options.authUrl);
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  async getToken(): Promise<string> {
    return (await this.#currentToken()).value;
  }

  /** Returns the id of the project the token is scoped to. */
  async getProjectId(): Promise<string | undefined> {
    return (await this.#currentToken()).projectId;
  }

  async getEndpoint(query: EndpointQuery): Promise<string> {
    return findEndpoint((await this.#currentToken()).catalog, query);
  }

  /**
   * Drops the cached token. With `token`, it drops the cache only if the cached
   * token is that one. Several requests can fail with the same stale token, and
   * the later ones must not discard a token that another request just renewed.
   */
  invalidate(token?: string): void {
    if (token === undefined || this.#token?.value === token) this.#token = undefined;
  }

  async #currentToken(): Promise<CachedToken> {
    const cached = this.#token;
    if (cached !== undefined && this.#now() < cached.renewAt) return cached;

    // Single flight: concurrent callers share one authentication request.
    this.#pending ??= this.#authenticate().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #authenticate(): Promise<CachedToken> {
    const url = `${this.authUrl}/auth/tokens`;
    const started = this.#now();
    const response = await this.#options.transport.request({
      method: 'POST',
      url,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(this.#authBody()),
      timeoutMs: this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      service: 'Keystone',
    });
    const received = this.#now();
    this.#options.logger?.debug(
      { service: 'Keystone', method: 'POST', path: new URL(url).pathname, status: response.status, ms: received - started },
      'keystone call',
    );

    if (response.status === 401) throw this.#rejectedCredentials();
    if (response.status < 200 || response.status > 299) {
      const fault = parseFault(response.body);
      throw new OpenStackHttpError({
        status: response.status,
        method: 'POST',
        url,
        serverMessage: fault.message,
        operation: `authentication of ${this.#describeUser()}`,
      });
    }

    const token = response.headers['x-subject-token'];
    if (token === undefined || token === '') throw this.#invalidReply('the X-Subject-Token header is missing');
    const cached = this.#cacheToken(token, response.body, received);
    this.#token = cached;
    return cached;
  }

  #cacheToken(value: string, body: string, received: number): CachedToken {
    const parsed = tokenReplySchema.safeParse(parseJson(body));
    if (!parsed.success) throw this.#invalidReply(describeSchemaError(parsed.error));

    const reply = parsed.data.token;
    const expiresAt = Date.parse(reply.expires_at);
    if (Number.isNaN(expiresAt)) throw this.#invalidReply(`token.expires_at "${reply.expires_at}" is not a timestamp`);

    // The lifetime is measured on Keystone's clock (issued_at to expires_at) and
    // then applied to ours, so a skew between the two hosts does not matter.
    const issuedAt = reply.issued_at === undefined ? Number.NaN : Date.parse(reply.issued_at);
    const lifetime = Number.isNaN(issuedAt) ? expiresAt - received : expiresAt - issuedAt;
    const margin = Math.min(RENEWAL_MARGIN_MAX_MS, Math.max(0, lifetime) * RENEWAL_MARGIN_FRACTION);
    return {
      value,
      expiresAt: received + lifetime,
      renewAt: received + lifetime - margin,
      projectId: reply.project?.id,
      catalog: reply.catalog,
    };
  }

  #authBody(): unknown {
    const options = this.#options;
    if ('applicationCredential' in options) {
      const credential = options.applicationCredential;
      const body =
        'id' in credential
          ? { id: credential.id, secret: credential.secret }
          : { name: credential.name, user: userBody(credential.user), secret: credential.secret };
      return { auth: { identity: { methods: ['application_credential'], application_credential: body } } };
    }
    if ('token' in options) {
      return {
        auth: { identity: { methods: ['token'], token: { id: options.token } }, scope: { project: projectBody(options.project) } },
      };
    }
    return {
      auth: {
        identity: { methods: ['password'], password: { user: { ...userBody(options.user), password: options.password } } },
        scope: { project: projectBody(options.project) },
      },
    };
  }

  #rejectedCredentials(): KuryrError {
    return new KuryrError(
      'AUTH_FAILED',
      `authentication of ${this.#describeUser()} at "${this.authUrl}" failed: Keystone rejected the credentials with HTTP 401, ` +
        `so check ${this.#credentialKeys()} in the configuration`,
    );
  }

  #invalidReply(detail: string): KuryrError {
    return new KuryrError('AUTH_FAILED', `authentication of ${this.#describeUser()} at "${this.authUrl}" failed: unexpected Keystone reply: ${detail}`);
  }

  #describeUser(): string {
    const options = this.#options;
    if ('applicationCredential' in options) {
      const credential = options.applicationCredential;
      return 'id' in credential
        ? `application credential id "${credential.id}"`
        : `application credential "${credential.name}" of ${describeUserRef(credential.user)}`;
    }
    const subject = 'token' in options ? 'the configured token' : describeUserRef(options.user);
    const project = options.project;
    const where = 'id' in project ? `project id "${project.id}"` : `project "${project.name}" (${describeDomain(project.domain)})`;
    return `${subject} to ${where}`;
  }

  #credentialKeys(): string {
    if ('applicationCredential' in this.#options) return 'the application credential id or name and its secret';
    if ('token' in this.#options) return 'that the token has not expired and the project';
    return 'the user name or id, password, domains and project';
  }
}

/** Adds `/v3` to Keystone's URL unless it already ends with it, after dropping trailing slashes. */
export function normaliseAuthUrl(authUrl: string): string {
  const trimmed = authUrl.trim().replace(/\/+$/, '');
  if (/\/v2\.0$/.test(trimmed)) {
    throw new KuryrError('CONFIG_INVALID', `invalid Keystone auth URL "${authUrl}": only the v3 API is supported, so use the /v3 URL`);
  }
  return /\/v3$/.test(trimmed) ? trimmed : `${trimmed}/v3`;
}

function userBody(user: UserRef): Record<string, unknown> {
  return 'id' in user ? { id: user.id } : { name: user.name, domain: domainBody(user.domain) };
}

function projectBody(project: ProjectRef): Record<string, unknown> {
  return 'id' in project ? { id: project.id } : { name: project.name, domain: domainBody(project.domain) };
}

function describeUserRef(user: UserRef): string {
  return 'id' in user ? `user id "${user.id}"` : `user "${user.name}" (${describeDomain(user.domain)})`;
}

function domainBody(domain: DomainRef): DomainRef {
  return 'id' in domain ? { id: domain.id } : { name: domain.name };
}

function describeDomain(domain: DomainRef): string {
  return 'id' in domain ? `domain id "${domain.id}"` : `domain "${domain.name}"`;
}
