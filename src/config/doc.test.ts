import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { renderConfigurationDoc } from './doc.js';
import { keyReferences } from './reference.js';

describe('docs/configuration.md', () => {
  it('matches the schema', async () => {
    const onDisk = await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8');

    assert.equal(onDisk, renderConfigurationDoc(), 'docs/configuration.md is stale: run `npm run docs:config` and commit the result');
  });

  it('describes every key', () => {
    const undescribed = keyReferences().filter((reference) => reference.description === '').map((reference) => `${reference.section}.${reference.key}`);

    assert.deepEqual(undescribed, [], 'add a description to src/config/reference.ts');
  });
});
