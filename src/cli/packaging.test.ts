/**
 * Checks the files under packaging/ without Docker or systemd: the managed
 * plugin's config.json against the shape `docker plugin create` reads, the
 * systemd unit's sections and keys, and the Dockerfile's variables against
 * the ones the configuration reads.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { IMAGE_VARIABLES } from '../config/env.js';

const read = (path: string): Promise<string> => readFile(new URL(`../../packaging/${path}`, import.meta.url), 'utf8');

// The fields of Docker's plugin config (moby api/types/plugin.go, PluginConfig) that this bundle sets.
const pluginConfigSchema = z.strictObject({
  description: z.string().min(1),
  documentation: z.string(),
  entrypoint: z.array(z.string()).min(1),
  workdir: z.string(),
  interface: z.strictObject({ types: z.array(z.string()), socket: z.string() }),
  network: z.strictObject({ type: z.string() }),
  linux: z.strictObject({ capabilities: z.array(z.string()) }),
  mounts: z.array(
    z.strictObject({ name: z.string(), description: z.string(), source: z.string(), destination: z.string(), type: z.literal('bind'), settable: z.array(z.literal('source')), options: z.array(z.string()) }),
  ),
  env: z.array(z.strictObject({ name: z.string(), description: z.string(), settable: z.array(z.literal('value')), value: z.string() })),
});

describe('managed plugin config.json', () => {
  it('has the shape docker plugin create reads', async () => {
    const parsed = pluginConfigSchema.safeParse(JSON.parse(await read('plugin/config.json')));

    assert.ok(parsed.success, parsed.success ? '' : parsed.error.message);
  });

  it('declares both drivers on kuryr.sock with host networking', async () => {
    const config = pluginConfigSchema.parse(JSON.parse(await read('plugin/config.json')));

    assert.deepEqual(config.interface.types.sort(), ['docker.ipamdriver/1.0', 'docker.networkdriver/1.0']);
    assert.equal(config.interface.socket, 'kuryr.sock');
    assert.equal(config.network.type, 'host');
    assert.deepEqual(config.linux.capabilities, ['CAP_NET_ADMIN']);
    assert.equal(config.entrypoint.at(-1), `/run/docker/plugins/${config.interface.socket}`);
    assert.equal(config.entrypoint[config.entrypoint.length - 2], '--socket');
  });

  it('offers only variables the configuration reads', async () => {
    const config = pluginConfigSchema.parse(JSON.parse(await read('plugin/config.json')));
    const known = new Set(IMAGE_VARIABLES.map((variable) => variable.name));

    assert.deepEqual(config.env.map((entry) => entry.name).filter((name) => !known.has(name)), []);
    for (const name of ['IDENTITY_URL', 'SERVICE_USER', 'SERVICE_PASSWORD', 'SERVICE_PROJECT_NAME', 'SERVICE_DOMAIN_NAME', 'USER_DOMAIN_NAME']) {
      assert.ok(config.env.some((entry) => entry.name === name), `${name} is missing`);
    }
  });
});

/** Parses a systemd unit: sections of `key=value` lines, where a key may repeat. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const [index, rawLine] of text.split('\n').entries()) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header !== null) {
      current = new Map();
      sections.set(header[1] ?? '', current);
      continue;
    }
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    assert.ok(match !== null && current !== undefined, `line ${index + 1} is neither a section header nor key=value: ${line}`);
    const [, key = '', value = ''] = match;
    current.set(key, [...(current.get(key) ?? []), value]);
  }
  return sections;
}

describe('systemd unit', () => {
  it('parses into Unit, Service and Install', async () => {
    const unit = parseUnit(await read('systemd/kuryr.service'));

    assert.deepEqual([...unit.keys()], ['Unit', 'Service', 'Install']);
    assert.deepEqual(unit.get('Install')?.get('WantedBy'), ['multi-user.target']);
    assert.deepEqual(unit.get('Unit')?.get('Before'), ['docker.service']);
  });

  it('starts kuryr serve by absolute path with NET_ADMIN', async () => {
    const service = parseUnit(await read('systemd/kuryr.service')).get('Service');
    const execStart = service?.get('ExecStart')?.[0] ?? '';

    assert.match(execStart, /^\/\S+\/kuryr serve --config-file \/etc\/kuryr\/kuryr\.conf$/);
    assert.match(service?.get('CapabilityBoundingSet')?.[0] ?? '', /\bCAP_NET_ADMIN\b/);
    assert.deepEqual(service?.get('Restart'), ['on-failure']);
  });
});

describe('Dockerfile', () => {
  it('sets only variables the configuration reads', async () => {
    const text = await read('Dockerfile');
    const envBlock = /^ENV ((?:.*\\\n)*.*)$/m.exec(text)?.[1] ?? '';
    const names = [...envBlock.matchAll(/([A-Z_]+)=/g)].map((match) => match[1]);
    const known = new Set(IMAGE_VARIABLES.map((variable) => variable.name));

    assert.ok(names.length >= 6, `expected the image variables, found ${names.join(', ')}`);
    assert.deepEqual(names.filter((name) => name === undefined || !known.has(name)), []);
    assert.ok(!names.includes('SERVICE_PASSWORD'), 'the image must not ship a default password');
  });

  it('runs kuryr serve with a log volume', async () => {
    const text = await read('Dockerfile');

    assert.match(text, /^VOLUME \/var\/log\/kuryr$/m);
    assert.match(text, /^ENTRYPOINT \["\/usr\/local\/bin\/kuryr"\]$/m);
    assert.match(text, /^CMD \["serve"/m);
    assert.match(text, /iproute2/);
  });
});
