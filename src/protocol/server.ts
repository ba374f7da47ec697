/**
 * The libnetwork remote-driver HTTP server: `POST /<Interface>.<Method>`
 * with a JSON body, on a unix socket and optionally on loopback TCP.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { KuryrError } from '../errors.js';
import type { DriverService } from './messages.js';
import * as m from './messages.js';
import { errorReply, errorMessage, invalidRequest, type Reply } from './reply.js';

/** Bodies above this size are rejected; real requests are a few kilobytes. */
export const MAX_BODY_BYTES = 1024 * 1024;

const REPLY_CONTENT_TYPE = 'application/vnd.docker.plugins.v1+json';

export interface ProtocolOptions {
  service: DriverService;
  logger: Logger;
  scope: 'local' | 'global';
  /** Called after each request with the verb, the HTTP status and the duration in milliseconds. */
  onRequest?: (verb: string, status: number, ms: number) => void;
}

type Handler = (body: unknown, options: ProtocolOptions) => Promise<Record<string, unknown>>;

function withSchema<S extends z.ZodType>(
  verb: string,
  schema: S,
  run: (request: z.output<S>, service: DriverService) => Promise<Record<string, unknown> | void>,
): Handler {
  return async (body, options) => {
    // Seen with dockerd 20.10.24 (Debian 12's docker.io): after the
    // connection to the plugin fails, it sends the call again without its
    // body. Read as `{}`, a RequestPool would get defaults and carve a pool
    // the user never asked for.
    if (body === undefined) {
      throw new KuryrError('INVALID_REQUEST', `invalid ${verb} request: the body is empty, as dockerd sends it when it retries a call after the plugin connection failed: run the Docker command again`);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw invalidRequest(verb, parsed.error);
    return (await run(parsed.data, options.service)) ?? {};
  };
}

const constant =
  (reply: Record<string, unknown>): Handler =>
  async () =>
    reply;

export const routes: Record<string, Handler> = {
  'Plugin.Activate': constant({ Implements: ['NetworkDriver', 'IpamDriver'] }),
  'NetworkDriver.GetCapabilities': async (_body, options) => ({
    Scope: options.scope,
    ConnectivityScope: options.scope,
  }),
  'NetworkDriver.CreateNetwork': withSchema('NetworkDriver.CreateNetwork', m.createNetworkSchema, (r, s) => s.createNetwork(r)),
  'NetworkDriver.DeleteNetwork': withSchema('NetworkDriver.DeleteNetwork', m.deleteNetworkSchema, (r, s) => s.deleteNetwork(r)),
  'NetworkDriver.CreateEndpoint': withSchema('NetworkDriver.CreateEndpoint', m.createEndpointSchema, (r, s) =>
    s.createEndpoint(r),
  ),
  'NetworkDriver.EndpointOperInfo': withSchema('NetworkDriver.EndpointOperInfo', m.endpointSchema, (r, s) =>
    s.endpointOperInfo(r),
  ),
  'NetworkDriver.DeleteEndpoint': withSchema('NetworkDriver.DeleteEndpoint', m.endpointSchema, (r, s) => s.deleteEndpoint(r)),
  'NetworkDriver.Join': withSchema('NetworkDriver.Join', m.joinSchema, async (r, s) => ({ ...(await s.join(r)) })),
  'NetworkDriver.Leave': withSchema('NetworkDriver.Leave', m.endpointSchema, (r, s) => s.leave(r)),
  'NetworkDriver.DiscoverNew': withSchema('NetworkDriver.DiscoverNew', m.discoverSchema, async () => ({})),
  'NetworkDriver.DiscoverDelete': withSchema('NetworkDriver.DiscoverDelete', m.discoverSchema, async () => ({})),
  'NetworkDriver.ProgramExternalConnectivity': withSchema(
    'NetworkDriver.ProgramExternalConnectivity',
    m.externalConnectivitySchema,
    (r, s) => s.programExternalConnectivity(r),
  ),
  'NetworkDriver.RevokeExternalConnectivity': withSchema(
    'NetworkDriver.RevokeExternalConnectivity',
    m.endpointSchema,
    (r, s) => s.revokeExternalConnectivity(r),
  ),
  // A swarm manager calls these for networks of a global-scope driver.
  'NetworkDriver.AllocateNetwork': withSchema('NetworkDriver.AllocateNetwork', m.allocateNetworkSchema, (r, s) => s.allocateNetwork(r)),
  'NetworkDriver.FreeNetwork': withSchema('NetworkDriver.FreeNetwork', m.freeNetworkSchema, async (r, s) => {
    await s.freeNetwork(r);
    return {};
  }),
  'IpamDriver.GetCapabilities': constant({ RequiresMACAddress: true, RequiresRequestReplay: false }),
  'IpamDriver.GetDefaultAddressSpaces': constant({
    LocalDefaultAddressSpace: 'no_address_space',
    GlobalDefaultAddressSpace: 'no_address_space',
  }),
  'IpamDriver.RequestPool': withSchema('IpamDriver.RequestPool', m.requestPoolSchema, (r, s) => s.requestPool(r)),
  'IpamDriver.ReleasePool': withSchema('IpamDriver.ReleasePool', m.releasePoolSchema, (r, s) => s.releasePool(r)),
  'IpamDriver.RequestAddress': withSchema('IpamDriver.RequestAddress', m.requestAddressSchema, (r, s) =>
    s.requestAddress(r),
  ),
  'IpamDriver.ReleaseAddress': withSchema('IpamDriver.ReleaseAddress', m.releaseAddressSchema, (r, s) =>
    s.releaseAddress(r),
  ),
};

/** Handles one decoded request; exported so tests can drive verbs without a socket. */
export async function dispatch(verb: string, rawBody: string, options: ProtocolOptions): Promise<Reply> {
  const handler = routes[verb];
  if (handler === undefined) {
    return { status: 404, body: { Err: `unknown plugin method "${verb}": kuryr implements NetworkDriver and IpamDriver` } };
  }
  try {
    const body = parseBody(verb, rawBody);
    return { status: 200, body: await handler(body, options) };
  } catch (error) {
    return errorReply(error);
  }
}

/** Returns the parsed JSON body, or undefined for an empty one. */
function parseBody(verb: string, rawBody: string): unknown {
  if (rawBody.trim() === '') return undefined;
  try {
    return JSON.parse(rawBody);
  } catch (error) {
    throw new KuryrError('INVALID_REQUEST', `invalid ${verb} request: the body is not valid JSON: ${errorMessage(error)}`);
  }
}

let requestCounter = 0;

export function createProtocolServer(options: ProtocolOptions): Server {
  return createServer((request, response) => {
    void handleHttp(request, response, options);
  });
}

async function handleHttp(request: IncomingMessage, response: ServerResponse, options: ProtocolOptions): Promise<void> {
  const started = performance.now();
  const verb = (request.url ?? '/').replace(/^\//, '').split('?')[0] ?? '';
  requestCounter += 1;
  const log = options.logger.child({ requestId: `req-${requestCounter}`, verb });
  let reply: Reply;
  if (request.method !== 'POST') {
    reply = { status: 405, body: { Err: `method ${request.method ?? ''} not allowed: plugin calls use POST` } };
  } else {
    const body = await readBody(request);
    reply =
      body === undefined
        ? { status: 413, body: { Err: `request body too large: the limit is ${MAX_BODY_BYTES} bytes` } }
        : await dispatchLogged(verb, body, { ...options, logger: log });
  }
  const payload = JSON.stringify(reply.body);
  response.writeHead(reply.status, {
    'Content-Type': REPLY_CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(payload),
  });
  response.end(payload);
  const ms = performance.now() - started;
  options.onRequest?.(verb, reply.status, ms);
  const fields = { status: reply.status, ms: Math.round(ms * 10) / 10 };
  if (reply.status >= 400) log.warn({ ...fields, err: reply.body.Err }, 'request failed');
  else log.debug(fields, 'request done');
}

async function dispatchLogged(verb: string, body: string, options: ProtocolOptions): Promise<Reply> {
  options.logger.debug({ body: body.length > 4096 ? `${body.slice(0, 4096)}...` : body }, 'request');
  return dispatch(verb, body, options);
}

/** Reads the body whatever its Content-Type (dockerd sends none); undefined when it exceeds the limit. */
function readBody(request: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
