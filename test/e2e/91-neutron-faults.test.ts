/**
 * Neutron faults injected by a loopback proxy between a second kuryr daemon
 * and the lab's Neutron: latency, timeouts, 5xx, connection resets, lost
 * replies to creates, token expiry and 409 conflicts. Every Docker command
 * must succeed, or fail with a message naming the cause, within a bound,
 * and leave no Neutron resource or device behind. The lab's own daemon is
 * not involved.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { KuryrInstance } from '../support/kuryr-instance.js';
import { countLeftovers, findLeftovers } from '../support/leaks.js';
import { docker, dockerOk, eventually, neutronGet } from '../support/lab.js';

const DRIVER = 'kuryr-rel';
const NETWORK = 'rel-fault';
const SUBNET = '10.71.0.0/24';
/** Upper bound for one Docker command under faults, in ms: retries back off for at most a few seconds. */
const COMMAND_BOUND_MS = 30_000;
const PORT_ITEM = /^\/v2\.0\/ports\/[0-9a-f-]{36}$/;
const PORT_TAGS = /^\/v2\.0\/ports\/[0-9a-f-]{36}\/tags$/;

const kuryr = new KuryrInstance({ name: DRIVER, config: { neutron: { timeout: '2', vif_plugging_timeout: '30' } } });
/** Faults injected per kind, for the record in docs/reliability.md. */
const injected = new Map<string, number>();

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  const result = await run();
  return { result, ms: Date.now() - started };
}

function runContainer(): Promise<{ result: Awaited<ReturnType<typeof docker>>; ms: number }> {
  return timed(() => docker('run', '--rm', '--net', NETWORK, 'busybox', 'true'));
}

function createNetwork(name: string, subnet: string): Promise<{ result: Awaited<ReturnType<typeof docker>>; ms: number }> {
  return timed(() => docker('network', 'create', '--driver', DRIVER, '--ipam-driver', DRIVER, '--subnet', subnet, name));
}

/** Adds up the faults the proxy applied since the last call, by action kind and status. */
function countInjected(): void {
  for (const request of kuryr.neutron.requests.splice(0)) {
    if (request.fault === undefined) continue;
    const kind = request.faultStatus === undefined ? request.fault : `HTTP ${request.faultStatus}`;
    injected.set(kind, (injected.get(kind) ?? 0) + 1);
  }
}

describe('Neutron faults', () => {
  before(async () => {
    await kuryr.setUp();
    await docker('network', 'rm', NETWORK);
    await dockerOk('network', 'create', '--driver', DRIVER, '--ipam-driver', DRIVER, '--subnet', SUBNET, NETWORK);
  });

  afterEach(() => {
    countInjected();
    kuryr.neutron.clearRules();
  });

  after(async () => {
    await docker('network', 'rm', NETWORK);
    await kuryr.tearDown();
    process.stdout.write(`faults injected: ${JSON.stringify(Object.fromEntries(injected))}\n`);
  });

  it('runs with 300 ms latency on every call', async () => {
    kuryr.neutron.addRule({ times: Infinity, action: { kind: 'delay', ms: 300 } });

    const { result, ms } = await runContainer();

    assert.equal(result.code, 0, result.stderr);
    assert.ok(ms < COMMAND_BOUND_MS, `docker run took ${ms} ms`);
  });

  it('retries a GET past the timeout', async () => {
    kuryr.neutron.addRule({ method: 'GET', path: PORT_ITEM, action: { kind: 'delay', ms: 3_000 } });

    const { result, ms } = await runContainer();

    assert.equal(result.code, 0, result.stderr);
    assert.ok(ms < COMMAND_BOUND_MS, `docker run took ${ms} ms`);
    assert.deepEqual(kuryr.neutron.appliedCounts(), [1]);
    const portGets = kuryr.neutron.matching('GET', PORT_ITEM);
    assert.ok(portGets.length >= 2, `expected the timed-out GET to be sent again, saw ${portGets.length}`);
  });

  it('retries 503 and resets on idempotent calls', async () => {
    kuryr.neutron.addRule({ method: 'PUT', path: PORT_TAGS, times: 2, action: { kind: 'status', status: 503 } });
    kuryr.neutron.addRule({ method: 'GET', path: PORT_ITEM, action: { kind: 'reset' } });

    const { result, ms } = await runContainer();

    assert.equal(result.code, 0, result.stderr);
    assert.ok(ms < COMMAND_BOUND_MS, `docker run took ${ms} ms`);
    assert.deepEqual(kuryr.neutron.appliedCounts(), [2, 1]);
    assert.equal(kuryr.neutron.matching('PUT', PORT_TAGS).length, 3);
  });

  it('resolves a lost port create by lookup', async () => {
    kuryr.neutron.addRule({ method: 'POST', path: /^\/v2\.0\/ports$/, action: { kind: 'lose-reply' } });
    const portsBefore = kuryr.neutron.created.get('ports')?.size ?? 0;

    const { result, ms } = await runContainer();

    assert.equal(result.code, 0, result.stderr);
    assert.ok(ms < COMMAND_BOUND_MS, `docker run took ${ms} ms`);
    assert.equal(kuryr.neutron.matching('POST', /^\/v2\.0\/ports$/).length, 1, 'the port create is sent once');
    assert.equal((kuryr.neutron.created.get('ports')?.size ?? 0) - portsBefore, 1, 'one port is created');
  });

  it('resolves lost network creates by lookup', async () => {
    const name = `${NETWORK}-lost`;
    for (const collection of ['subnetpools', 'networks', 'subnets']) {
      kuryr.neutron.addRule({ method: 'POST', path: new RegExp(`^/v2\\.0/${collection}$`), action: { kind: 'lose-reply' } });
    }
    try {
      const { result, ms } = await createNetwork(name, '10.72.0.0/24');

      assert.equal(result.code, 0, result.stderr);
      assert.ok(ms < COMMAND_BOUND_MS, `docker network create took ${ms} ms`);
      assert.deepEqual(kuryr.neutron.appliedCounts(), [1, 1, 1]);
      const networkId = await dockerOk('network', 'inspect', '-f', '{{.Id}}', name);
      const { networks } = await neutronGet<{ networks: Array<{ id: string }> }>(`/networks?tags=kuryr.net.uuid.lh:${networkId.slice(0, 32)}`);
      assert.equal(networks.length, 1, 'one tagged Neutron network');
      const { subnets } = await neutronGet<{ subnets: Array<{ id: string }> }>(`/subnets?network_id=${networks[0]?.id ?? ''}`);
      assert.equal(subnets.length, 1, 'one subnet');
    } finally {
      await docker('network', 'rm', name);
    }
  });

  it('re-authenticates once after a 401', async () => {
    kuryr.neutron.addRule({ method: 'PUT', path: PORT_TAGS, action: { kind: 'status', status: 401, faultType: 'Unauthorized', message: 'The request you have made requires authentication' } });

    const { result } = await runContainer();

    assert.equal(result.code, 0, result.stderr);
    const [rejected, resent] = kuryr.neutron.matching('PUT', PORT_TAGS);
    assert.ok(rejected !== undefined, 'the tag update is sent');
    assert.ok(resent !== undefined, 'the tag update is sent again');
    assert.equal(rejected.fault, 'status');
    assert.notEqual(resent.token, rejected.token, 'the re-sent request carries a new token');
  });

  it('fails clearly when every token is rejected', async () => {
    kuryr.neutron.addRule({ method: 'PUT', path: PORT_TAGS, times: Infinity, action: { kind: 'status', status: 401, faultType: 'Unauthorized', message: 'The request you have made requires authentication' } });

    const { result, ms } = await runContainer();

    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /NetworkDriver\.CreateEndpoint: .*returned HTTP 401/);
    assert.ok(ms < COMMAND_BOUND_MS, `docker run took ${ms} ms`);
    assert.equal(kuryr.neutron.matching('PUT', PORT_TAGS).length, 2, 'one re-authentication, then the error');
  });

  it('fails clearly on a 409 conflict', async () => {
    kuryr.neutron.addRule({ method: 'PUT', path: PORT_TAGS, action: { kind: 'status', status: 409, faultType: 'Conflict', message: 'injected conflict' } });

    const { result, ms } = await runContainer();

    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /NetworkDriver\.CreateEndpoint: .*returned HTTP 409: injected conflict/);
    assert.ok(ms < COMMAND_BOUND_MS, `docker run took ${ms} ms`);
    assert.equal(kuryr.neutron.matching('PUT', PORT_TAGS).length, 1, 'a 409 is not retried');
  });

  it('fails in bounded time when Neutron returns 503', async () => {
    kuryr.neutron.addRule({ times: Infinity, action: { kind: 'status', status: 503, faultType: 'ServiceUnavailable', message: 'injected outage' } });

    const { result, ms } = await createNetwork(`${NETWORK}-down`, '10.73.0.0/24');

    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /IpamDriver\.RequestPool: .*returned HTTP 503: injected outage/);
    assert.ok(ms < COMMAND_BOUND_MS, `docker network create took ${ms} ms`);
  });

  it('sends a failed POST once', async () => {
    kuryr.neutron.addRule({ method: 'POST', path: /^\/v2\.0\/networks$/, action: { kind: 'status', status: 500, faultType: 'InternalError', message: 'injected failure' } });
    const name = `${NETWORK}-post500`;

    const { result, ms } = await createNetwork(name, '10.74.0.0/24');

    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /NetworkDriver\.CreateNetwork: .*returned HTTP 500: injected failure/);
    assert.ok(ms < COMMAND_BOUND_MS, `docker network create took ${ms} ms`);
    assert.equal(kuryr.neutron.matching('POST', /^\/v2\.0\/networks$/).length, 1);
    await docker('network', 'rm', name);
  });

  it('leaves nothing behind', async () => {
    const removed = await docker('network', 'rm', NETWORK);
    assert.equal(removed.code, 0, removed.stderr);

    const leftovers = await eventually('created resources to be deleted', async () => {
      const found = await findLeftovers(kuryr.neutron.created);
      return countLeftovers(found) === 0 ? found : undefined;
    }, 30_000).catch(async () => findLeftovers(kuryr.neutron.created));
    assert.deepEqual(leftovers, { neutron: { ports: [], subnets: [], networks: [], subnetpools: [], 'security-groups': [] }, devices: [] });
  });
});
