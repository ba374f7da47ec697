// Host tier: the OVS binder's kernel side (veth pairs, the qbr Linux bridge, MTUs, bridge ports)
// with the real ExecFileRunner inside a network namespace that each test creates and deletes.
// Open vSwitch itself is not run here: ovs-vsctl calls are recorded and answered with success.
// The end-to-end tier runs the binder against the lab's real Open vSwitch. Needs root.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ExecFileRunner, IpLink } from '../host/index.js';
import type { CommandResult, CommandRunner, LinkInfo, RunOptions } from '../host/index.js';
import { hybridPlugNames, vethNames } from './names.js';
import { OvsBinder } from './ovs.js';
import type { PortBindingRequest } from './types.js';

const isRoot = process.getuid?.() === 0;
const forced = process.env['KURYR_HOST_TESTS'] === '1';
const skip = isRoot || forced ? false : 'host tier needs root; set KURYR_HOST_TESTS=1 to run it anyway and fail';

/** Runs every command for real except ovs-vsctl, whose argv it records. */
class OvsRecordingRunner implements CommandRunner {
  readonly ovsCalls: string[][] = [];
  readonly #inner: CommandRunner;

  constructor(inner: CommandRunner) {
    this.#inner = inner;
  }

  async run(argv: readonly string[], options?: RunOptions): Promise<CommandResult> {
    if (argv[0] === 'ovs-vsctl') {
      this.ovsCalls.push([...argv]);
      return { stdout: '', stderr: '', exitCode: 0 };
    }
    return this.#inner.run(argv, options);
  }
}

function request(vifDetails: Record<string, unknown>): PortBindingRequest {
  return {
    portId: randomUUID(),
    endpointId: randomBytes(32).toString('hex'),
    neutronNetworkId: randomUUID(),
    projectId: randomBytes(16).toString('hex'),
    macAddress: 'fa:16:3e:0a:0b:0c',
    mtu: 9000,
    vifType: 'ovs',
    vifDetails,
  };
}

describe('OvsBinder in a network namespace', { skip }, () => {
  const hostRunner = new ExecFileRunner();
  let netns = '';
  let ip: IpLink;
  let runner: OvsRecordingRunner;
  let binder: OvsBinder;

  beforeEach(async () => {
    netns = `kuryr-ht-${randomBytes(4).toString('hex')}`;
    await hostRunner.run(['ip', 'netns', 'add', netns]);
    const netnsRunner = new ExecFileRunner({ netns });
    ip = new IpLink(netnsRunner);
    runner = new OvsRecordingRunner(netnsRunner);
    binder = new OvsBinder({ runner });
  });

  afterEach(async () => {
    // Deleting the namespace destroys every link created in it.
    await hostRunner.run(['ip', 'netns', 'delete', netns]);
  });

  async function mustShow(ifName: string): Promise<LinkInfo> {
    const link = await ip.showLink(ifName);
    assert.ok(link, `link "${ifName}" should exist`);
    return link;
  }

  /** Returns the name of the bridge that `ifName` is a port of, from `ip -json link show master`. */
  async function masterOf(ifName: string): Promise<string | undefined> {
    const output = await hostRunner.run(['ip', '-n', netns, '-json', 'link', 'show', 'dev', ifName]);
    const [link] = JSON.parse(output.stdout) as { master?: string }[];
    return link?.master;
  }

  it('direct plug configures the pair and tags the tap', async () => {
    const portRequest = request({ bridge_name: 'br-int', ovs_hybrid_plug: false });
    const { hostIfName, containerIfName } = await binder.bind(portRequest);

    for (const ifName of [hostIfName, containerIfName]) {
      const link = await mustShow(ifName);
      assert.equal(link.mtu, 9000, `MTU of ${ifName}`);
      assert.equal(link.isUp, true, `${ifName} is up`);
    }
    assert.equal((await mustShow(containerIfName)).address, portRequest.macAddress);
    assert.equal(runner.ovsCalls.length, 1);
    assert.deepEqual(runner.ovsCalls[0]?.slice(0, 5), ['ovs-vsctl', '--may-exist', 'add-port', 'br-int', hostIfName]);
  });

  it('hybrid plug builds qbr with the tap and qvb in it', async () => {
    const portRequest = request({ ovs_hybrid_plug: true });
    const { hostIfName, containerIfName } = await binder.bind(portRequest);
    const hybrid = hybridPlugNames(portRequest.portId);

    assert.equal((await mustShow(hybrid.bridgeName)).kind, 'bridge');
    assert.equal((await mustShow(hybrid.bridgeIfName)).link, hybrid.ovsIfName);
    for (const ifName of [hostIfName, containerIfName, hybrid.bridgeName, hybrid.bridgeIfName, hybrid.ovsIfName]) {
      const link = await mustShow(ifName);
      assert.equal(link.mtu, 9000, `MTU of ${ifName}`);
      assert.equal(link.isUp, true, `${ifName} is up`);
    }
    assert.equal(await masterOf(hostIfName), hybrid.bridgeName);
    assert.equal(await masterOf(hybrid.bridgeIfName), hybrid.bridgeName);
    assert.equal(await masterOf(hybrid.ovsIfName), undefined);
    assert.deepEqual(runner.ovsCalls[0]?.slice(0, 5), ['ovs-vsctl', '--may-exist', 'add-port', 'br-int', hybrid.ovsIfName]);
  });

  it('hybrid bind twice keeps the devices', async () => {
    const portRequest = request({ ovs_hybrid_plug: true });
    const hybrid = hybridPlugNames(portRequest.portId);
    await binder.bind(portRequest);
    const bridgeIndex = (await mustShow(hybrid.bridgeName)).ifIndex;

    await binder.bind(portRequest);

    assert.equal((await mustShow(hybrid.bridgeName)).ifIndex, bridgeIndex);
    assert.equal(await masterOf(vethNames(portRequest.portId).hostIfName), hybrid.bridgeName);
  });

  it('hybrid unbind removes every device and tolerates a second call', async () => {
    const portRequest = request({ ovs_hybrid_plug: true });
    await binder.bind(portRequest);

    await binder.unbind(portRequest);
    await binder.unbind(portRequest);

    const names = vethNames(portRequest.portId);
    const hybrid = hybridPlugNames(portRequest.portId);
    for (const ifName of [names.hostIfName, names.containerIfName, hybrid.bridgeName, hybrid.bridgeIfName, hybrid.ovsIfName]) {
      assert.equal(await ip.linkExists(ifName), false, `${ifName} is gone`);
    }
    assert.deepEqual(runner.ovsCalls.slice(1), [
      ['ovs-vsctl', '--if-exists', 'del-port', hybrid.ovsIfName],
      ['ovs-vsctl', '--if-exists', 'del-port', hybrid.ovsIfName],
    ]);
  });
});
