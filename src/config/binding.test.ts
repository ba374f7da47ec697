import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KuryrError } from '../errors.js';
import { parseBindingDriver } from './binding.js';
import { parseConfig } from './load.js';

const minimal = `
[neutron]
auth_url = http://127.0.0.1:5000/v3
username = kuryr
password = secret
project_name = service
`;

function parseBinding(lines: string): ReturnType<typeof parseConfig>['config']['binding'] {
  return parseConfig(`${minimal}\n[binding]\n${lines}\n`, 'kuryr.conf').config.binding;
}

function assertConfigInvalid(lines: string, ...expectedTexts: string[]): void {
  assert.throws(
    () => parseBinding(lines),
    (error: unknown) => {
      assert.ok(error instanceof KuryrError);
      assert.equal(error.code, 'CONFIG_INVALID');
      for (const text of expectedTexts) assert.ok(error.message.includes(text), `"${error.message}" should contain "${text}"`);
      return true;
    },
  );
}

describe('[binding] section', () => {
  it('defaults to veth without a section', () => {
    const { config } = parseConfig(minimal, 'kuryr.conf');
    assert.deepEqual(config.binding, { driver: 'veth', enabledDrivers: ['veth'], linkIface: '' });
  });

  it('reads a nested macvlan setup', () => {
    assert.deepEqual(parseBinding('driver = macvlan\nlink_iface = eth0'), {
      driver: 'macvlan',
      enabledDrivers: ['macvlan'],
      linkIface: 'eth0',
    });
  });

  it('reads upstream default_driver and enabled_drivers', () => {
    const binding = parseBinding(
      'default_driver = kuryr.lib.binding.drivers.vlan\n' +
        'enabled_drivers = kuryr.lib.binding.drivers.veth, kuryr.lib.binding.drivers.vlan, kuryr.lib.binding.drivers.hw_veb\n' +
        'link_iface = ens3',
    );
    assert.deepEqual(binding, { driver: 'vlan', enabledDrivers: ['veth', 'vlan', 'sriov'], linkIface: 'ens3' });
  });

  it('does not report its keys as unknown', () => {
    const { unknownKeys } = parseConfig(`${minimal}\n[binding]\ndriver = veth\nenabled_drivers = veth\nlink_iface = eth0\n`, 'kuryr.conf');
    assert.deepEqual(unknownKeys, []);
  });

  it('rejects an unknown driver naming key and values', () => {
    assertConfigInvalid('driver = ovs', 'binding.driver', 'unknown binding driver "ovs"', 'veth, macvlan, ipvlan, vlan, sriov');
  });

  it('rejects an unknown enabled driver', () => {
    assertConfigInvalid('enabled_drivers = veth,kuryr.lib.binding.drivers.nested', 'binding.enabled_drivers', '"kuryr.lib.binding.drivers.nested"');
  });

  it('rejects a driver missing from enabled_drivers', () => {
    assertConfigInvalid('driver = macvlan\nlink_iface = eth0\nenabled_drivers = veth', 'binding.enabled_drivers', '"macvlan" is not enabled', 'add macvlan');
  });

  for (const driver of ['macvlan', 'ipvlan', 'vlan']) {
    it(`rejects ${driver} without link_iface`, () => {
      assertConfigInvalid(`driver = ${driver}`, 'binding.link_iface', `binding driver "${driver}" needs link_iface`);
    });
  }

  it('rejects a link_iface longer than 15 characters', () => {
    assertConfigInvalid('driver = macvlan\nlink_iface = a-very-long-interface', 'binding.link_iface', '1 to 15 characters');
  });
});

describe('parseBindingDriver', () => {
  const cases: [string, string | undefined][] = [
    ['veth', 'veth'],
    ['sriov', 'sriov'],
    ['kuryr.lib.binding.drivers.macvlan', 'macvlan'],
    ['kuryr.lib.binding.drivers.ipvlan', 'ipvlan'],
    ['kuryr.lib.binding.drivers.hw_veb', 'sriov'],
    ['kuryr_libnetwork.port_driver.drivers.nested', 'macvlan'],
    ['kuryr_libnetwork.port_driver.drivers.vlan', 'vlan'],
    ['kuryr_libnetwork.port_driver.drivers.sriov', 'sriov'],
    ['kuryr_libnetwork.port_driver.drivers.veth', 'veth'],
    [' macvlan ', 'macvlan'],
    ['MACVLAN', undefined],
    ['ovs', undefined],
  ];
  for (const [name, expected] of cases) {
    it(`maps ${JSON.stringify(name)}`, () => {
      assert.equal(parseBindingDriver(name), expected);
    });
  }
});
