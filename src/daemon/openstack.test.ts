import assert from 'node:assert/strict';
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
