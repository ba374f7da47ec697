import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { KuryrError } from '../errors.js';
import type { AllocateNetwork, DriverService } from './messages.js';
import { createProtocolServer, dispatch, MAX_BODY_BYTES, type ProtocolOptions } from './server.js';

const TRACES = join(import.meta.dirname, '../../../shared/fixtures/libnetwork-traces');

interface TraceLine {
  path: string;
  request: unknown;
}

function recordedCalls(): Array<{ file: string; verb: string; body: string }> {
  const calls = [];
  for (const file of readdirSync(TRACES).filter((name) => name.endsWith('.jsonl')).sort()) {
    for (const line of readFileSync(join(TRACES, file), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const entry = JSON.parse(line) as TraceLine;
      if (!entry.path.startsWith('/')) continue;
      const body = entry.request === null || entry.request === undefined ? '' : `${JSON.stringify(entry.request)}\n`;
      calls.push({ file, verb: entry.path.slice(1), body });
    }
  }
  return calls;
}

/** A DriverService that records the verbs it receives and returns minimal valid replies. */
class RecordingService implements DriverService {
  readonly calls: string[] = [];
  failWith: Error | undefined;

  #record(verb: string): void {
    this.calls.push(verb);
    if (this.failWith !== undefined) throw this.failWith;
  }
  async requestPool() {
    this.#record('requestPool');
    return { PoolID: '3f1e2c3a-0000-4000-8000-000000000001', Pool: '10.10.0.0/16', Data: {} };
  }
  async releasePool() {
    this.#record('releasePool');
  }
  async requestAddress() {
    this.#record('requestAddress');
    return { Address: '10.10.0.2/16', Data: {} };
  }
  async releaseAddress() {
    this.#record('releaseAddress');
  }
  async createNetwork() {
    this.#record('createNetwork');
  }
  async deleteNetwork() {
    this.#record('deleteNetwork');
  }
  async allocateNetwork(request: AllocateNetwork) {
    this.#record('allocateNetwork');
    return { Options: request.Options };
  }
  async freeNetwork() {
    this.#record('freeNetwork');
  }
  async createEndpoint() {
    this.#record('createEndpoint');
    return { Interface: {} };
  }
  async endpointOperInfo() {
    this.#record('endpointOperInfo');
    return { Value: {} };
  }
  async deleteEndpoint() {
    this.#record('deleteEndpoint');
  }
  async join() {
    this.#record('join');
    return { InterfaceName: { SrcName: 't_c0123456789', DstPrefix: 'eth' }, Gateway: '10.10.0.1', DisableGatewayService: true };
  }
  async leave() {
    this.#record('leave');
  }
  async programExternalConnectivity() {
    this.#record('programExternalConnectivity');
  }
  async revokeExternalConnectivity() {
    this.#record('revokeExternalConnectivity');
  }
}

function options(service: DriverService): ProtocolOptions {
  return { service, logger: pino({ level: 'silent' }), scope: 'local' };
}

describe('recorded dockerd requests', () => {
  const calls = recordedCalls();

  it('found the fixtures', () => {
    assert.ok(calls.length > 100, `expected many recorded calls, found ${calls.length}`);
  });

  for (const call of calls) {
    it(`${call.file} ${call.verb} is accepted`, async () => {
      const service = new RecordingService();
      const reply = await dispatch(call.verb, call.body, options(service));
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      assert.equal(reply.body.Err, undefined);
    });
  }
});

describe('handshake replies', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['Plugin.Activate', { Implements: ['NetworkDriver', 'IpamDriver'] }],
    ['NetworkDriver.GetCapabilities', { Scope: 'local', ConnectivityScope: 'local' }],
    ['IpamDriver.GetCapabilities', { RequiresMACAddress: true, RequiresRequestReplay: false }],
    ['IpamDriver.GetDefaultAddressSpaces', { LocalDefaultAddressSpace: 'no_address_space', GlobalDefaultAddressSpace: 'no_address_space' }],
    ['NetworkDriver.DiscoverNew', {}],
  ];
  for (const [verb, expected] of cases) {
    it(`${verb} replies exactly`, async () => {
      const body = verb === 'NetworkDriver.DiscoverNew' ? '{"DiscoveryType":1,"DiscoveryData":null}' : '';
      const reply = await dispatch(verb, body, options(new RecordingService()));
      assert.deepEqual(reply, { status: 200, body: expected });
    });
  }

  it('AllocateNetwork echoes the options', async () => {
    const body = JSON.stringify({ NetworkID: 'a'.repeat(64), Options: { x: 'y' } });
    const reply = await dispatch('NetworkDriver.AllocateNetwork', body, options(new RecordingService()));
    assert.deepEqual(reply.body, { Options: { x: 'y' } });
  });

  it('FreeNetwork replies with an empty object', async () => {
    const reply = await dispatch('NetworkDriver.FreeNetwork', JSON.stringify({ NetworkID: 'a'.repeat(64) }), options(new RecordingService()));
    assert.deepEqual(reply, { status: 200, body: {} });
  });

  it('GetCapabilities reports global scope', async () => {
    const reply = await dispatch('NetworkDriver.GetCapabilities', '', { ...options(new RecordingService()), scope: 'global' });
    assert.deepEqual(reply.body, { Scope: 'global', ConnectivityScope: 'global' });
  });
});

describe('error replies', () => {
  it('rejects malformed JSON with 400', async () => {
    const reply = await dispatch('IpamDriver.RequestPool', '{"Pool": ', options(new RecordingService()));
    assert.equal(reply.status, 400);
    assert.match(String(reply.body.Err), /^invalid IpamDriver\.RequestPool request: the body is not valid JSON/);
  });

  it('names the invalid field', async () => {
    const body = JSON.stringify({ NetworkID: 'not-an-id', IPv4Data: [], IPv6Data: [] });
    const reply = await dispatch('NetworkDriver.CreateNetwork', body, options(new RecordingService()));
    assert.equal(reply.status, 400);
    assert.match(String(reply.body.Err), /NetworkID: expected a 64-character hex Docker id/);
  });

  it('rejects an invalid CIDR in RequestPool', async () => {
    const body = JSON.stringify({ AddressSpace: '', Pool: '10.10.0.0/99', SubPool: '', V6: false });
    const reply = await dispatch('IpamDriver.RequestPool', body, options(new RecordingService()));
    assert.equal(reply.status, 400);
    assert.match(String(reply.body.Err), /Pool: expected a CIDR/);
  });

  it('sends IPAM errors with a non-200 status so dockerd shows them', async () => {
    const service = new RecordingService();
    service.failWith = new KuryrError('NEUTRON_UNREACHABLE', 'cannot reach Neutron at http://127.0.0.1:9696');
    const body = JSON.stringify({ AddressSpace: '', Pool: '10.10.0.0/16', SubPool: '', V6: false });
    const reply = await dispatch('IpamDriver.RequestPool', body, options(service));
    assert.equal(reply.status, 500);
    assert.deepEqual(reply.body, { Err: 'cannot reach Neutron at http://127.0.0.1:9696' });
  });

  for (const verb of ['IpamDriver.RequestPool', 'NetworkDriver.CreateNetwork', 'NetworkDriver.DeleteNetwork']) {
    it(`rejects an empty ${verb} body`, async () => {
      const service = new RecordingService();

      const reply = await dispatch(verb, '', options(service));

      assert.equal(reply.status, 400);
      assert.match(String(reply.body.Err), new RegExp(`^invalid ${verb.replace('.', '\\.')} request: the body is empty`));
      assert.deepEqual(service.calls, []);
    });
  }

  it('answers an unknown verb with 404', async () => {
    const reply = await dispatch('NetworkDriver.Nope', '', options(new RecordingService()));
    assert.equal(reply.status, 404);
  });
});

describe('HTTP server', () => {
  const service = new RecordingService();
  const server = createProtocolServer(options(service));
  let port = 0;

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  function post(path: string, body: string, method = 'POST'): Promise<{ status: number; type: string; body: string }> {
    return new Promise((resolve, reject) => {
      // Like dockerd: no Content-Type, an empty Host header and a trailing newline.
      const req = request({ host: '127.0.0.1', port, path, method, headers: { Host: '', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('parses a body without Content-Type', async () => {
    const reply = await post('/IpamDriver.RequestAddress', '{"PoolID":"3f1e2c3a-0000-4000-8000-000000000001","Address":"","Options":null}\n');
    assert.equal(reply.status, 200);
    assert.equal(reply.type, 'application/vnd.docker.plugins.v1+json');
    assert.deepEqual(JSON.parse(reply.body), { Address: '10.10.0.2/16', Data: {} });
  });

  it('rejects GET with 405', async () => {
    const reply = await post('/Plugin.Activate', '', 'GET');
    assert.equal(reply.status, 405);
  });

  it('rejects an oversized body with 413 and keeps serving', async () => {
    const reply = await post('/IpamDriver.RequestPool', 'x'.repeat(MAX_BODY_BYTES + 1));
    assert.equal(reply.status, 413);
    const next = await post('/Plugin.Activate', '');
    assert.equal(next.status, 200);
  });
});
