import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KuryrError } from '../errors.js';
import { addOvsPortArgv, deleteOvsPortArgv } from './ovs.js';

const IDS = {
  portId: '3f2b8c1e-9a47-4d2b-8e1f-6c5a4b3d2e10',
  macAddress: 'FA:16:3E:12:34:56',
  endpointId: 'e4d2c1b0a9f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a2918070605',
};

describe('ovs-vsctl argv builders', () => {
  it('add the port and its external_ids in one transaction', () => {
    assert.deepEqual(addOvsPortArgv('br-int', 'tap3f2b8c1e-9a', IDS), [
      'ovs-vsctl', '--may-exist', 'add-port', 'br-int', 'tap3f2b8c1e-9a',
      '--', 'set', 'Interface', 'tap3f2b8c1e-9a',
      'external_ids:iface-id=3f2b8c1e-9a47-4d2b-8e1f-6c5a4b3d2e10',
      'external_ids:iface-status=active',
      'external_ids:attached-mac=fa:16:3e:12:34:56',
      'external_ids:vm-uuid=e4d2c1b0a9f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a2918070605',
      'external_ids:owner=kuryr',
    ]);
  });

  it('delete a port from any bridge', () => {
    assert.deepEqual(deleteOvsPortArgv('qvo3f2b8c1e-9a'), ['ovs-vsctl', '--if-exists', 'del-port', 'qvo3f2b8c1e-9a']);
  });

  const invalid: [string, () => unknown, string][] = [
    ['a bridge name starting with "-"', () => addOvsPortArgv('--all', 'tap0', IDS), 'invalid interface name "--all"'],
    ['an endpoint id with "="', () => addOvsPortArgv('br-int', 'tap0', { ...IDS, endpointId: 'a=b' }), 'invalid endpoint id "a=b"'],
    ['a port id with a quote', () => addOvsPortArgv('br-int', 'tap0', { ...IDS, portId: 'x"y' }), 'invalid port id "x"y"'],
    ['a MAC without colons', () => addOvsPortArgv('br-int', 'tap0', { ...IDS, macAddress: 'fa163e123456' }), 'invalid MAC address'],
    ['a port name with a space', () => deleteOvsPortArgv('tap 0'), 'invalid interface name "tap 0"'],
  ];
  for (const [label, build, expectedText] of invalid) {
    it(`reject ${label}`, () => {
      assert.throws(build, (error: unknown) => {
        assert.ok(error instanceof KuryrError);
        assert.equal(error.code, 'INVALID_REQUEST');
        assert.ok(error.message.includes(expectedText), error.message);
        return true;
      });
    });
  }
});
