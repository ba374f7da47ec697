/**
 * The list, get, create, update and delete methods that every Neutron
 * resource shares, parameterised by the resource's names and schema.
 */
import { z } from 'zod';
import { KuryrError, isHttpStatus } from '../errors.js';
import type { OpenStackHttpError } from '../errors.js';
import type { ApiCall, NeutronApi } from './api.js';
import { encodeQuery } from './filters.js';
import type { FilterObject } from './filters.js';

/** The names Neutron uses for one resource, and the schema of one item. */
export interface ResourceKind<T> {
  /** URL segment, for example `security-groups`. */
  path: string;
  /** Key of the list in replies and bulk requests, for example `security_groups`. */
  collectionKey: string;
  /** Key of one item in replies and requests, for example `security_group`. */
  memberKey: string;
  /** Name in error messages, for example `security group`. Adding `s` gives the plural. */
  label: string;
  object: z.ZodObject<z.ZodRawShape, z.core.$strip> & z.ZodType<T>;
}

/** Attributes to return (`fields`) and page size (`limit`), given beside the filters. */
export interface ListControls<K> {
  /** Attributes Neutron should return. The result type then has only these attributes. */
  fields?: readonly K[];
  /** Page size. Without it, Neutron decides whether to paginate (its `pagination_max_limit` setting). */
  limit?: number;
}

export interface UpdateOptions {
  /** Sends `If-Match: revision_number=N`, so the update fails with 412 (CONFLICT) if the resource changed since revision N. */
  ifMatchRevision?: number;
}

export interface DeleteOptions {
  /** Counts "not found" as success. */
  ignoreNotFound?: boolean;
}

/** Default bound on the pages one `list` follows. */
export const DEFAULT_MAX_PAGES = 100;

const linksSchema = z.array(z.looseObject({ rel: z.string(), href: z.string() })).optional();

export class ResourceApi<T, F extends FilterObject<F>, C, U> {
  readonly #api: NeutronApi;
  readonly #kind: ResourceKind<T>;
  readonly #maxPages: number;

  constructor(api: NeutronApi, kind: ResourceKind<T>, maxPages: number = DEFAULT_MAX_PAGES) {
    this.#api = api;
    this.#kind = kind;
    this.#maxPages = maxPages;
  }

  /**
   * Lists the resources that match the filters, following the `next` links of
   * paginated replies. Throws NEUTRON_ERROR when more pages remain after the
   * page bound, because a partial list could make a caller think something
   * does not exist.
   */
  async list<K extends keyof T = keyof T>(query: F & ListControls<K> = {} as F & ListControls<K>): Promise<Pick<T, K>[]> {
    const { fields, limit, ...filters } = query;
    const call: ApiCall = {
      method: 'GET',
      path: `/${this.#kind.path}`,
      query: encodeQuery(filters as F, (fields ?? []) as readonly string[], limit),
      operation: `list ${this.#kind.label}s`,
    };
    const pageSchema = this.#pageSchema(fields as readonly string[] | undefined);

    const items: unknown[] = [];
    for (let page = 1; ; page += 1) {
      const reply = await this.#api.parse(pageSchema, await this.#api.call(call), call);
      items.push(...reply.items);
      if (reply.nextQuery === undefined) return items as Pick<T, K>[];
      if (page >= this.#maxPages) {
        throw new KuryrError('NEUTRON_ERROR', `${call.operation} failed: more than ${this.#maxPages} pages, so narrow the filters or raise the page size`);
      }
      call.query = reply.nextQuery;
    }
  }

  async get(id: string): Promise<T> {
    const call: ApiCall = { method: 'GET', path: this.#itemPath(id), operation: `get ${this.#kind.label} "${id}"` };
    return this.#parseItem(call, await this.#api.call(call));
  }

  async create(body: C): Promise<T> {
    const call: ApiCall = {
      method: 'POST',
      path: `/${this.#kind.path}`,
      body: { [this.#kind.memberKey]: body },
      operation: `create ${this.#kind.label}`,
    };
    return this.#parseItem(call, await this.#api.call(call));
  }

  /** Creates several resources in one request. Neutron creates all of them or none. */
  async createBulk(bodies: readonly C[]): Promise<T[]> {
    const { collectionKey, label } = this.#kind;
    const call: ApiCall = {
      method: 'POST',
      path: `/${this.#kind.path}`,
      body: { [collectionKey]: bodies },
      operation: `create ${bodies.length} ${label}s in bulk`,
    };
    const schema = z.looseObject({ [collectionKey]: z.array(this.#kind.object.loose()) });
    const reply = await this.#api.parse(schema, await this.#api.call(call), call);
    return reply[collectionKey] as T[];
  }

  async update(id: string, body: U, options: UpdateOptions = {}): Promise<T> {
    const call: ApiCall = {
      method: 'PUT',
      path: this.#itemPath(id),
      body: { [this.#kind.memberKey]: body },
      operation: `update ${this.#kind.label} "${id}"`,
    };
    if (options.ifMatchRevision !== undefined) call.headers = { 'If-Match': `revision_number=${options.ifMatchRevision}` };
    return this.#parseItem(call, await this.#api.call(call));
  }

  async delete(id: string, options: DeleteOptions = {}): Promise<void> {
    const call: ApiCall = { method: 'DELETE', path: this.#itemPath(id), operation: `delete ${this.#kind.label} "${id}"` };
    try {
      await this.#api.call(call);
    } catch (error) {
      // Deleting is idempotent for callers: a retried DELETE whose first reply
      // was lost, or a cleanup re-run after a crash, finds the resource gone,
      // and the state the caller wants is reached.
      if (options.ignoreNotFound === true && isNeutronNotFound(error)) return;
      throw error;
    }
  }

  #itemPath(id: string): string {
    return `/${this.#kind.path}/${encodeURIComponent(id)}`;
  }

  async #parseItem(call: ApiCall, response: Awaited<ReturnType<NeutronApi['call']>>): Promise<T> {
    const { memberKey } = this.#kind;
    const schema = z.looseObject({ [memberKey]: this.#kind.object.loose() });
    const reply = await this.#api.parse(schema, response, call);
    return reply[memberKey] as T;
  }

  /** Builds the schema of one page. With `fields`, items are checked for those attributes only. */
  #pageSchema(fields: readonly string[] | undefined) {
    const { collectionKey, object } = this.#kind;
    const known = fields?.filter((field) => field in object.shape);
    const item = known === undefined ? object.loose() : object.pick(Object.fromEntries(known.map((field) => [field, true]))).loose();
    return z
      .looseObject({ [collectionKey]: z.array(item), [`${collectionKey}_links`]: linksSchema })
      .transform((reply) => ({ items: reply[collectionKey] as unknown[], nextQuery: nextQuery(reply[`${collectionKey}_links`]) }));
  }
}

/**
 * Returns the query of the `next` link, or undefined on the last page. Only
 * the query is kept: Neutron builds the link from its own idea of its host
 * name, which may not be the address this client was configured with.
 */
function nextQuery(links: unknown): string | undefined {
  const parsed = linksSchema.safeParse(links);
  const next = parsed.success ? parsed.data?.find((link) => link.rel === 'next') : undefined;
  if (next === undefined) return undefined;
  const query = new URL(next.href, 'http://neutron.invalid').search.replace(/^\?/, '');
  return query === '' ? undefined : query;
}

/**
 * Tells a missing resource from a wrong URL. For a missing resource, Neutron 21
 * returns a fault type named after it (PortNotFound, SubnetPoolNotFound,
 * TagNotFound). For an unknown path it returns the generic `HTTPNotFound`, and
 * a proxy in front of it returns no Neutron fault at all. Only the first kind
 * may pass as a successful delete.
 */
export function isNeutronNotFound(error: unknown): boolean {
  if (!isHttpStatus(error, 404)) return false;
  const faultType = (error as OpenStackHttpError).faultType;
  return faultType !== undefined && faultType !== 'HTTPNotFound' && faultType.endsWith('NotFound');
}
