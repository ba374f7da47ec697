// Host tier: the nested binders with the real ExecFileRunner and iproute2 inside a network
// namespace that each test creates and always deletes. Neutron is a fake. Needs root.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ExecFileRunner, IpLink } from '../../host/index.js';
import { setupClient, trunkFixture } from '../../neutron/test-support.js';
import { MacvlanBinder } from './macvlan.js';
import { CHILD, CONTAINER_MAC, LINK, LINK_MAC, VmPortState, expectVmPortLookup, request } from './test-support.js';
import { VlanBinder } from './vlan.js';

const isRoot = process.getuid?.() === 0;
const forced = process.env['KURYR_HOST_TESTS'] === '1';
const skip = isRoot || forced ? false : 'host tier needs root; set KURYR_HOST_TESTS=1 to run it anyway and fail';

/**
 * Returns true when `bind` succeeds. A failure must name the missing kernel module, because
 * kernels differ: the lab's has macvlan but neither ipvlan nor 8021q.
 */
async function bindsOrNamesModule(bind: Promise<unknown>, module: string): Promise<boolean> {
  try {
    await bind;
    return true;
  } catch (error) {
    assert.match(error instanceof Error ? error.message : String(error), new RegExp(`module ${module}\\); load it with "modprobe ${module}"`));
    return false;
  }
}

describe('nested binders in a network namespace', { skip }, () => {
  const hostRunner = new ExecFileRunner();
  let netns = '';
  let runner: ExecFileRunner;
  let ip: IpLink;

  beforeEach(async () => {
    netns = `kuryr-ht-${randomBytes(4).toString('hex')}`;
    await hostRunner.run(['ip', 'netns', 'add', netns]);
    runner = new ExecFileRunner({ netns });
    ip = new IpLink(runner);
    // link_iface: one end of a veth (this kernel may lack dummy devices), with the VM port's MAC.
    await runner.run(['ip', 'link', 'add', LINK, 'type', 'veth', 'peer', 'name', 'vmpeer0']);
    await runner.run(['ip', 'link', 'set', 'dev', LINK, 'address', LINK_MAC, 'mtu', '1450', 'up']);
  });

  afterEach(async () => {
    // Deleting the namespace destroys every link created in it.
    await hostRunner.run(['ip', 'netns', 'delete', netns]);
  });

  it('macvlan bind creates a configured child', async () => {
    const vmPort = new VmPortState();
    const { client } = setupClient([expectVmPortLookup(), vmPort.get(), vmPort.put(), vmPort.get(), vmPort.put()]);
    const binder = new MacvlanBinder({ mode: 'macvlan', runner, neutron: client, linkIface: LINK });

    await binder.bind(request());

    const child = await ip.showLink(CHILD);
    assert.equal(child?.kind, 'macvlan');
    assert.equal(child?.link, LINK);
    assert.equal(child?.address, CONTAINER_MAC);
    assert.equal(child?.mtu, 1450);
    assert.equal(child?.isUp, true);

    await binder.unbind(request());
    assert.equal(await ip.linkExists(CHILD), false);
    assert.deepEqual(vmPort.port.allowed_address_pairs, []);
  });

  it('ipvlan bind works or names the module', async () => {
    const vmPort = new VmPortState();
    const { client } = setupClient([expectVmPortLookup(), vmPort.get(), vmPort.put()]);
    const binder = new MacvlanBinder({ mode: 'ipvlan', runner, neutron: client, linkIface: LINK });

    const supported = await bindsOrNamesModule(binder.bind(request()), 'ipvlan');

    assert.equal(await ip.linkExists(CHILD), supported);
    assert.equal(vmPort.writes.length, supported ? 1 : 0);
  });

  it('vlan bind works or names 8021q', async () => {
    const subportsAdded: unknown[] = [];
    const { client } = setupClient([
      expectVmPortLookup(),
      { method: 'GET', path: '/v2.0/trunks?port_id=vm-port', reply: { body: { trunks: [trunkFixture()] } } },
      { method: 'GET', path: '/v2.0/trunks/trunk-1', reply: { body: { trunk: trunkFixture() } } },
      {
        method: 'PUT',
        path: '/v2.0/trunks/trunk-1/add_subports',
        reply: (httpRequest) => {
          subportsAdded.push(JSON.parse(httpRequest.body ?? '{}'));
          return { body: trunkFixture() };
        },
      },
      // Called only when the kernel lacks 8021q and the bind is undone.
      { method: 'PUT', path: '/v2.0/trunks/trunk-1/remove_subports', reply: { body: trunkFixture() } },
    ]);
    const binder = new VlanBinder({ runner, neutron: client, linkIface: LINK });

    const supported = await bindsOrNamesModule(binder.bind(request()), '8021q');

    assert.equal(subportsAdded.length, 1);
    assert.equal(await ip.linkExists(CHILD), supported);
    if (supported) assert.equal((await ip.showLink(CHILD))?.kind, 'vlan');
  });
});
