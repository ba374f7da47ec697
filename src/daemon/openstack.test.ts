import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { validateLayers } from '../config/index.js';
import { createLogger } from '../observability/index.js';
import { createOpenStackClients } from './openstack.js';

function capturedLogger(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', format: 'json', destination }) };
}

const neutron = { auth_url: 'https://127.0.0.1:5000/v3', username: 'kuryr', password: 'p', project_name: 'service' };

describe('createOpenStackClients', () => {
  it('warns when TLS verification is off', () => {
    const { lines, logger } = capturedLogger();
    const { config } = validateLayers([{ source: 'test', sections: { neutron: { ...neutron, insecure: 'true' } } }]);

    createOpenStackClients(config, logger);

    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0] ?? '{}') as { level: number; msg: string };
    assert.equal(line.level, 40);
    assert.match(line.msg, /TLS certificate verification .* is off \(\[neutron\] insecure\)/);
  });

  it('stays quiet with verification on', () => {
    const { lines, logger } = capturedLogger();
    const { config } = validateLayers([{ source: 'test', sections: { neutron } }]);

    createOpenStackClients(config, logger);

    assert.deepEqual(lines, []);
  });

  it('names a missing CA file', () => {
    const { logger } = capturedLogger();
    const { config } = validateLayers([{ source: 'test', sections: { neutron: { ...neutron, cafile: '/nonexistent/ca.pem' } } }]);

    assert.throws(() => createOpenStackClients(config, logger), /cannot read \[neutron\] cafile "\/nonexistent\/ca\.pem"/);
  });
});

describe('createOpenStackClients endpoint_override', () => {
  it('sends Neutron calls to the override, not the catalog', async () => {
    const paths: string[] = [];
    // One loopback server is both Keystone and Neutron. The catalog names a
    // Neutron endpoint that nothing serves, so only the override can reply.
    const server = createServer((request, response) => {
      paths.push(`${request.method ?? ''} ${request.url ?? ''}`);
      if (request.url === '/v3/auth/tokens') {
        const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
        const catalog = [{ type: 'network', endpoints: [{ interface: 'public', region_id: 'RegionOne', url: 'http://127.0.0.1:1' }] }];
        response.writeHead(201, { 'Content-Type': 'application/json', 'X-Subject-Token': 'token-1' });
        response.end(JSON.stringify({ token: { expires_at: expiresAt, project: { id: 'project-1' }, catalog } }));
        return;
      }
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ networks: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const { logger } = capturedLogger();
      const sections = { neutron: { ...neutron, auth_url: `http://127.0.0.1:${port}/v3`, endpoint_override: `http://127.0.0.1:${port}/neutron` } };
      const { config } = validateLayers([{ source: 'test', sections }]);

      const { neutron: client } = createOpenStackClients(config, logger);
      const networks = await client.networks.list();

      assert.deepEqual(networks, []);
      assert.deepEqual(paths, ['POST /v3/auth/tokens', 'GET /neutron/v2.0/networks']);
    } finally {
      server.close();
    }
  });

  for (const value of ['neutron:9696', '127.0.0.1:9696', 'ftp://neutron']) {
    it(`rejects the override "${value}"`, () => {
      assert.throws(
        () => validateLayers([{ source: 'test', sections: { neutron: { ...neutron, endpoint_override: value } } }]),
        /endpoint_override.*expected an http or https URL such as http:\/\/neutron:9696/s,
      );
    });
  }
});
