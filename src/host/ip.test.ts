import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandError, KuryrError } from '../errors.js';
import { FakeRunner } from './fake-runner.js';
import {
  IpLink,
  addBridgeArgv,
  addVethPairArgv,
  deleteLinkArgv,
  listLinksArgv,
  setAddressArgv,
  setMasterArgv,
  setMtuArgv,
  setUpArgv,
  showLinkArgv,
} from './ip.js';

const VETH_HOST_JSON = JSON.stringify([
  {
    ifindex: 3,
    link: 't_cabc',
    ifname: 'tapabc',
    flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
    mtu: 1450,
    operstate: 'UP',
    address: 'FA:16:3E:00:00:01',
    linkinfo: { info_kind: 'veth' },
  },
]);

describe('ip argv builders', () => {
  it('build exact argv', () => {
    assert.deepEqual(addVethPairArgv('tapabc', 't_cabc'), ['ip', 'link', 'add', 'tapabc', 'type', 'veth', 'peer', 'name', 't_cabc']);
    assert.deepEqual(setMtuArgv('tapabc', 1450), ['ip', 'link', 'set', 'dev', 'tapabc', 'mtu', '1450']);
    assert.deepEqual(setAddressArgv('t_cabc', 'FA:16:3E:00:00:01'), ['ip', 'link', 'set', 'dev', 't_cabc', 'address', 'fa:16:3e:00:00:01']);
    assert.deepEqual(setUpArgv('tapabc'), ['ip', 'link', 'set', 'dev', 'tapabc', 'up']);
    assert.deepEqual(deleteLinkArgv('tapabc'), ['ip', 'link', 'delete', 'dev', 'tapabc']);
    assert.deepEqual(showLinkArgv('tapabc'), ['ip', '-json', 'link', 'show', 'dev', 'tapabc']);
    assert.deepEqual(showLinkArgv('tapabc', { details: true }), ['ip', '-json', '-details', 'link', 'show', 'dev', 'tapabc']);
    assert.deepEqual(listLinksArgv(), ['ip', '-json', 'link', 'show']);
    assert.deepEqual(addBridgeArgv('qbrabc'), ['ip', 'link', 'add', 'qbrabc', 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0']);
    assert.deepEqual(setMasterArgv('tapabc', 'qbrabc'), ['ip', 'link', 'set', 'dev', 'tapabc', 'master', 'qbrabc']);
  });

  const invalidCalls: [string, () => unknown, string][] = [
    ['add with a host name starting with "-"', () => addVethPairArgv('-tap', 't_c'), 'invalid interface name "-tap"'],
    ['add with a long peer name', () => addVethPairArgv('tap', 't_c1234567890123'), 'invalid interface name "t_c1234567890123"'],
    ['mtu below 68', () => setMtuArgv('tap0', 67), 'invalid MTU 67'],
    ['mtu on a bad name', () => setMtuArgv('tap 0', 1500), 'invalid interface name "tap 0"'],
    ['address with a bad MAC', () => setAddressArgv('tap0', 'fa:16:3e'), 'invalid MAC address "fa:16:3e"'],
    ['up with an empty name', () => setUpArgv(''), 'invalid interface name ""'],
    ['delete with a slash', () => deleteLinkArgv('a/b'), 'invalid interface name "a/b"'],
    ['show with a space', () => showLinkArgv('a b'), 'invalid interface name "a b"'],
  ];
  for (const [label, call, expectedText] of invalidCalls) {
    it(`reject ${label}`, () => {
      assert.throws(call, (error: unknown) => {
        assert.ok(error instanceof KuryrError);
        assert.equal(error.code, 'INVALID_REQUEST');
        assert.ok(error.message.includes(expectedText), error.message);
        return true;
      });
    });
  }
});

describe('IpLink', () => {
  it('linkExists returns true on exit 0', async () => {
    const runner = new FakeRunner().expect(['ip', '-json', 'link', 'show', 'dev', 'tapabc'], { stdout: VETH_HOST_JSON });
    assert.equal(await new IpLink(runner).linkExists('tapabc'), true);
    runner.assertDone();
  });

  it('linkExists returns false for a missing device', async () => {
    const runner = new FakeRunner().expect(['ip', '-json', 'link', 'show', 'dev', 'tapabc'], {
      exitCode: 1,
      stderr: 'Device "tapabc" does not exist.\n',
    });
    assert.equal(await new IpLink(runner).linkExists('tapabc'), false);
    runner.assertDone();
  });

  it('linkExists throws on other failures', async () => {
    const runner = new FakeRunner().expect(['ip', '-json', 'link', 'show', 'dev', 'tapabc'], {
      exitCode: 255,
      stderr: 'Cannot open netlink socket: Operation not permitted\n',
    });
    await assert.rejects(new IpLink(runner).linkExists('tapabc'), (error: unknown) => {
      assert.ok(error instanceof CommandError);
      assert.equal(error.exitCode, 255);
      assert.match(error.message, /Operation not permitted/);
      return true;
    });
    runner.assertDone();
  });

  it('showLink parses kind, peer and flags', async () => {
    const runner = new FakeRunner().expect(['ip', '-json', '-details', 'link', 'show', 'dev', 'tapabc'], {
      stdout: VETH_HOST_JSON,
    });
    const link = await new IpLink(runner).showLink('tapabc');
    assert.deepEqual(link, {
      ifName: 'tapabc',
      ifIndex: 3,
      mtu: 1450,
      address: 'fa:16:3e:00:00:01',
      flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
      isUp: true,
      operState: 'UP',
      link: 't_cabc',
      kind: 'veth',
    });
    runner.assertDone();
  });

  it('showLink returns undefined for a missing device', async () => {
    const runner = new FakeRunner().expect(['ip', '-json', '-details', 'link', 'show', 'dev', 'tapabc'], {
      exitCode: 1,
      stderr: 'Device "tapabc" does not exist.\n',
    });
    assert.equal(await new IpLink(runner).showLink('tapabc'), undefined);
    runner.assertDone();
  });

  it('showLink rejects output that is not link JSON', async () => {
    const runner = new FakeRunner().expect(['ip', '-json', '-details', 'link', 'show', 'dev', 'tapabc'], {
      stdout: '[{"ifname": 3}]',
    });
    await assert.rejects(new IpLink(runner).showLink('tapabc'), (error: unknown) => {
      assert.ok(error instanceof KuryrError);
      assert.equal(error.code, 'COMMAND_FAILED');
      assert.match(error.message, /cannot parse the JSON output of "ip -json -details link show dev tapabc"/);
      return true;
    });
  });

  it('listLinks filters by name prefix', async () => {
    const links = [
      { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP'], mtu: 65536, address: '00:00:00:00:00:00' },
      { ifindex: 2, ifname: 't_cabc', link: 'tapabc', flags: ['BROADCAST'], mtu: 1500 },
      { ifindex: 3, ifname: 'tapabc', link: 't_cabc', flags: ['BROADCAST'], mtu: 1500 },
      { ifindex: 4, ifname: 'tapdef', flags: ['BROADCAST', 'UP'], mtu: 1450 },
    ];
    const runner = new FakeRunner().expect(['ip', '-json', 'link', 'show'], { stdout: JSON.stringify(links) });
    const found = await new IpLink(runner).listLinks('tap');
    assert.deepEqual(
      found.map((link) => [link.ifName, link.link, link.isUp]),
      [
        ['tapabc', 't_cabc', false],
        ['tapdef', undefined, true],
      ],
    );
    runner.assertDone();
  });

  it('deleteLink returns false for a missing device', async () => {
    const runner = new FakeRunner().expect(['ip', 'link', 'delete', 'dev', 'tapabc'], {
      exitCode: 1,
      stderr: 'Cannot find device "tapabc"\n',
    });
    assert.equal(await new IpLink(runner).deleteLink('tapabc'), false);
    runner.assertDone();
  });

  it('rejects an invalid name before running anything', async () => {
    const runner = new FakeRunner();
    await assert.rejects(new IpLink(runner).setUp('-all'), /invalid interface name "-all"/);
    assert.equal(runner.calls.length, 0);
  });
});
