// Host tier: real iproute2 in a throwaway network namespace. Needs root.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ExecFileRunner, IpLink } from '../host/index.js';
import { listVethTaps } from './taps.js';

const isRoot = process.getuid?.() === 0;
const forced = process.env['KURYR_HOST_TESTS'] === '1';
const skip = isRoot || forced ? false : 'host tier needs root; set KURYR_HOST_TESTS=1 to run it anyway and fail';

describe('listVethTaps in a network namespace', { skip }, () => {
  const hostRunner = new ExecFileRunner();
  let netns = '';
  let runner: ExecFileRunner;

  beforeEach(async () => {
    netns = `kuryr-ht-${randomBytes(4).toString('hex')}`;
    await hostRunner.run(['ip', 'netns', 'add', netns]);
    runner = new ExecFileRunner({ netns });
  });

  afterEach(async () => {
    // Deleting the namespace destroys every link created in it.
    await hostRunner.run(['ip', 'netns', 'delete', netns]);
  });

  it('lists kuryr veth taps and nothing else', async () => {
    await runner.run(['ip', 'link', 'add', 'tap1234abcd-ef', 'type', 'veth', 'peer', 'name', 't_c1234abcd-ef']);
    await runner.run(['ip', 'link', 'add', 'tap9999', 'type', 'veth', 'peer', 'name', 'short-peer']);
    await runner.run(['ip', 'link', 'add', 'tapabcdef12-34', 'type', 'bridge']);

    const taps = await listVethTaps(new IpLink(runner));

    assert.deepEqual(taps, [{ ifName: 'tap1234abcd-ef' }]);
  });
});
