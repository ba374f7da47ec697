/**
 * Concurrency on the lab: ten networks created at once from the default
 * pool, and fifty `docker run --rm` at once on one network. Every operation
 * must succeed or fail with a clear message, with no duplicate subnets and
 * no leaked ports, subnets, pools or tap devices afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { command, docker, DOCKER_HOST, eventually, kuryrResources, labLinkNames } from '../support/lab.js';

const PREFIX = 'kuryr-e2e-conc';
const NETWORKS = Array.from({ length: 10 }, (_, index) => `${PREFIX}-${index}`);
const RUNS = 50;

async function removeNetworks(): Promise<void> {
  await Promise.all(NETWORKS.map((name) => docker('network', 'rm', name)));
}

describe('concurrency', () => {
  let resourcesBefore: Awaited<ReturnType<typeof kuryrResources>>;

  before(async () => {
    await removeNetworks();
    resourcesBefore = await kuryrResources();
  });
  after(removeNetworks);

  it('creates ten networks at once from one pool', async () => {
    const results = await Promise.all(NETWORKS.map((name) => docker('network', 'create', '--driver', 'kuryr', '--ipam-driver', 'kuryr', name)));
    for (const [index, result] of results.entries()) assert.equal(result.code, 0, `${NETWORKS[index]}: ${result.stderr}`);
    const subnets = await Promise.all(NETWORKS.map(async (name) => (await docker('network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', name)).stdout.trim()));
    assert.equal(new Set(subnets).size, NETWORKS.length, `duplicate subnets: ${subnets.join(' ')}`);
  });

  it(`runs ${RUNS} containers at once on one network`, async () => {
    const network = NETWORKS[0] as string;
    // Each run waits for the agent to wire its port, and the agent handles new
    // ports one polling cycle at a time, so a run may take minutes here.
    const results = await Promise.all(Array.from({ length: RUNS }, () => command(['docker', 'run', '--rm', '--net', network, 'busybox', 'true'], { DOCKER_HOST }, 900_000)));
    const failures = results.filter((result) => result.code !== 0);
    for (const failure of failures) assert.match(failure.stderr, /Error response from daemon: \S+/, 'a failure carries a message');
    assert.equal(failures.length, 0, `failed runs: ${failures.map((failure) => failure.stderr.trim()).join(' | ')}`);
  });

  it('leaks nothing', async () => {
    await removeNetworks();
    const after = await eventually('kuryr resources to return to the starting set', async () => {
      const now = await kuryrResources();
      return JSON.stringify(now) === JSON.stringify(resourcesBefore) ? now : undefined;
    }, 30_000);
    assert.deepEqual(after, resourcesBefore);
    const taps = (await labLinkNames()).filter((name) => name.startsWith('tap'));
    assert.deepEqual(taps, []);
  });
});
