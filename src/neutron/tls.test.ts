import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { KuryrError } from '../errors.js';
import { tlsAgentOptions } from './tls.js';
import { NodeHttpTransport } from './transport.js';

const run = promisify(execFile);

/** Writes a CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
async function makeCertificates(dir: string): Promise<void> {
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=kuryr-test-ca', '-keyout', 'ca.key', '-out', 'ca.pem');
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const name of ['server', 'client']) {
    await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=kuryr-test-${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    const extension = name === 'server' ? ['-extfile', 'server.ext'] : [];
    await openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', `${name}.pem`, ...extension);
  }
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`https://127.0.0.1:${(server.address() as AddressInfo).port}/v3`)));
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

const request = (url: string) => ({ method: 'GET' as const, url, headers: {}, timeoutMs: 5_000, service: 'Keystone' as const });

describe('TLS settings of NodeHttpTransport', () => {
  let dir = '';
  let server: Server;
  let clientCertServer: Server;
  let url = '';
  let clientCertUrl = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kuryr-tls-'));
    await makeCertificates(dir);
    const key = await readFile(join(dir, 'server.key'));
    const cert = await readFile(join(dir, 'server.pem'));
    server = createServer({ key, cert }, (_request, response) => response.end('{"version":{}}'));
    url = await listen(server);
    const ca = await readFile(join(dir, 'ca.pem'));
    clientCertServer = createServer({ key, cert, ca, requestCert: true, rejectUnauthorized: true }, (_request, response) => response.end('{}'));
    clientCertUrl = await listen(clientCertServer);
  });

  after(async () => {
    await close(server);
    await close(clientCertServer);
    await rm(dir, { recursive: true, force: true });
  });

  it('verifies the server certificate by default', async () => {
    await assert.rejects(new NodeHttpTransport().request(request(url)), (error: unknown) => {
      assert.ok(error instanceof KuryrError);
      assert.equal(error.code, 'KEYSTONE_UNREACHABLE');
      assert.match(error.message, /certificate/);
      return true;
    });
  });

  it('accepts a server signed by the CA bundle', async () => {
    const transport = new NodeHttpTransport({ tls: tlsAgentOptions({ caFile: join(dir, 'ca.pem') }) });

    const response = await transport.request(request(url));

    assert.equal(response.status, 200);
  });

  it('accepts any server when insecure', async () => {
    const transport = new NodeHttpTransport({ tls: tlsAgentOptions({ insecure: true }) });

    const response = await transport.request(request(url));

    assert.equal(response.status, 200);
  });

  it('sends the client certificate', async () => {
    const withCert = new NodeHttpTransport({
      tls: tlsAgentOptions({ caFile: join(dir, 'ca.pem'), certFile: join(dir, 'client.pem'), keyFile: join(dir, 'client.key') }),
    });
    const withoutCert = new NodeHttpTransport({ tls: tlsAgentOptions({ caFile: join(dir, 'ca.pem') }) });

    assert.equal((await withCert.request(request(clientCertUrl))).status, 200);
    await assert.rejects(withoutCert.request(request(clientCertUrl)), KuryrError);
  });

  it('names the key of a missing CA file', () => {
    assert.throws(() => tlsAgentOptions({ caFile: join(dir, 'missing.pem') }), /cannot read \[neutron\] cafile ".*missing\.pem"/);
  });

  it('rejects a certificate without its key', () => {
    assert.throws(() => tlsAgentOptions({ certFile: join(dir, 'client.pem') }), /set both \[neutron\] certfile and keyfile/);
  });
});
