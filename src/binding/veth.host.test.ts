// Host tier: runs the real ExecFileRunner and iproute2 inside a network namespace that each test
// creates and always deletes, so the host's own interfaces are never touched. Needs root.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ExecFileRunner, IpLink } from '../host/index.js';
import type { LinkInfo } from '../host/index.js';
import type { PortBindingRequest } from './types.js';
import { VethBinder } from './veth.js';

const isRoot = process.getuid?.() === 0;
const forced = process.env['KURYR_HOST_TESTS'] === '1';
const skip = isRoot || forced ? false : 'host tier needs root; set KURYR_HOST_TESTS=1 to run it anyway and fail';

function request(overrides: Partial<PortBindingRequest> = {}): PortBindingRequest {
  return {
    portId: randomUUID(),
    endpointId: randomBytes(32).toString('hex'),
    neutronNetworkId: randomUUID(),
    projectId: randomBytes(16).toString('hex'),
    macAddress: 'FA:16:3E:0A:0B:0C',
    mtu: 1450,
    vifType: 'bridge',
    vifDetails: { port_filter: true },
    ...overrides,
  };
}

describe('VethBinder in a network namespace', { skip }, () => {
  const hostRunner = new ExecFileRunner();
  let netns = '';
  let ip: IpLink;
  let binder: VethBinder;
  let bindir = '';

  beforeEach(async () => {
    netns = `kuryr-ht-${randomBytes(4).toString('hex')}`;
    await hostRunner.run(['ip', 'netns', 'add', netns]);
    const runner = new ExecFileRunner({ netns });
    ip = new IpLink(runner);
    bindir = await mkdtemp(join(tmpdir(), 'kuryr-ht-bindir-'));
    binder = new VethBinder({ runner, bindir });
  });

  afterEach(async () => {
    // Deleting the namespace destroys every link created in it.
    await hostRunner.run(['ip', 'netns', 'delete', netns]);
    await rm(bindir, { recursive: true, force: true });
  });

  async function mustShow(ifName: string): Promise<LinkInfo> {
    const link = await ip.showLink(ifName);
    assert.ok(link, `link "${ifName}" should exist`);
    return link;
  }

  async function assertConfigured(portRequest: PortBindingRequest, hostIfName: string, containerIfName: string): Promise<void> {
    const host = await mustShow(hostIfName);
    const container = await mustShow(containerIfName);
    assert.equal(host.kind, 'veth');
    assert.equal(host.link, containerIfName);
    assert.equal(host.mtu, portRequest.mtu);
    assert.equal(container.mtu, portRequest.mtu);
    assert.equal(container.address, portRequest.macAddress.toLowerCase());
    assert.equal(host.isUp, true);
    assert.equal(container.isUp, true);
  }

  it('bind creates a configured pair', async () => {
    const portRequest = request();
    const { hostIfName, containerIfName } = await binder.bind(portRequest);
    assert.equal(hostIfName, `tap${portRequest.portId.slice(0, 11)}`);
    await assertConfigured(portRequest, hostIfName, containerIfName);
  });

  it('bind twice reuses and reconfigures the pair', async () => {
    const portRequest = request();
    const { hostIfName, containerIfName } = await binder.bind(portRequest);
    const firstIndex = (await mustShow(hostIfName)).ifIndex;

    const changed = { ...portRequest, mtu: 9000, macAddress: 'fa:16:3e:aa:bb:cc' };
    await binder.bind(changed);

    await assertConfigured(changed, hostIfName, containerIfName);
    assert.equal((await mustShow(hostIfName)).ifIndex, firstIndex);
  });

  it('bind replaces a host end with the wrong peer', async () => {
    const portRequest = request();
    const hostIfName = `tap${portRequest.portId.slice(0, 11)}`;
    await ip.addVethPair(hostIfName, 'stray0');

    const bound = await binder.bind(portRequest);

    await assertConfigured(portRequest, bound.hostIfName, bound.containerIfName);
    assert.equal(await ip.linkExists('stray0'), false);
  });

  it('unbind removes the pair and tolerates a second call', async () => {
    const portRequest = request();
    const { hostIfName, containerIfName } = await binder.bind(portRequest);

    await binder.unbind(portRequest);
    assert.equal(await ip.linkExists(hostIfName), false);
    assert.equal(await ip.linkExists(containerIfName), false);

    await binder.unbind(portRequest);
  });

  it('passes the script contract to a real script', async () => {
    const argsFile = join(bindir, 'args.json');
    const script = join(bindir, 'bridge');
    await writeFile(script, `#!/usr/bin/env node\nrequire('fs').appendFileSync(${JSON.stringify(argsFile)}, JSON.stringify(process.argv.slice(2)) + '\\n');\n`);
    await chmod(script, 0o755);
    const portRequest = request({ vifDetails: { port_filter: true, note: "a 'quoted' value" } });

    const { hostIfName } = await binder.bind(portRequest);
    await binder.unbind(portRequest);

    const calls = (await readFile(argsFile, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as string[]);
    const shared = [portRequest.portId, hostIfName, portRequest.endpointId, 'fa:16:3e:0a:0b:0c'];
    // vif_details as kuryr-lib passes it: a Python repr inside literal double quotes.
    const vifDetails = `"{'port_filter': True, 'note': "a 'quoted' value"}"`;
    assert.deepEqual(calls, [
      ['bind', ...shared, portRequest.neutronNetworkId, portRequest.projectId, vifDetails],
      ['unbind', ...shared, vifDetails, portRequest.neutronNetworkId],
    ]);
  });

  it('a failing script leaves no veth behind', async () => {
    const script = join(bindir, 'bridge');
    await writeFile(script, '#!/bin/sh\necho "cannot plug $3" >&2\nexit 1\n');
    await chmod(script, 0o755);

    await assert.rejects(binder.bind(request()), /cannot plug tap/);

    assert.deepEqual(await ip.listLinks('tap'), []);
    assert.deepEqual(await ip.listLinks('t_c'), []);
  });

  it('a failing unbind script still removes the pair', async () => {
    const portRequest = request();
    const { hostIfName } = await binder.bind(portRequest);
    const script = join(bindir, 'bridge');
    await writeFile(script, '#!/bin/sh\nexit 3\n');
    await chmod(script, 0o755);

    await binder.unbind(portRequest);

    assert.equal(await ip.linkExists(hostIfName), false);
  });
});
