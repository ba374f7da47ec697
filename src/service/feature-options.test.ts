/** Parsing and validation of the `neutron.*` feature options. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExistingOptions } from './existing-options.js';
import { hasFeatures, parseFeatureOptions, type OptionSource } from './feature-options.js';

const SG_ID = '0d9c3f4e-1111-4c2b-8e7f-2a3b4c5d6e7f';

describe('feature options', () => {
  it('parses every option', () => {
    const parsed = parseFeatureOptions(
      {
        'neutron.security_groups': `web, ${SG_ID.toUpperCase()}`,
        'neutron.security_groups.mode': 'replace',
        'neutron.port_security': 'True',
        'neutron.allowed_address_pairs': '10.66.0.50,10.66.0.64/28,fd00::7',
        'neutron.qos_policy': 'gold',
        'neutron.router': 'edge',
        'neutron.floatingip.network': 'public',
        'neutron.firewall_group': 'fw',
        'com.docker.network.endpoint.exposedports': [],
      },
      '-o',
    );
    assert.deepEqual(parsed, {
      securityGroups: [{ name: 'web' }, { id: SG_ID }],
      securityGroupMode: 'replace',
      portSecurity: true,
      allowedAddresses: ['10.66.0.50', '10.66.0.64/28', 'fd00::7'],
      qosPolicy: { name: 'gold' },
      router: { name: 'edge' },
      floatingIpNetwork: { name: 'public' },
      firewallGroup: { name: 'fw' },
    });
    assert.equal(hasFeatures(parsed), true);
  });

  it('returns no features without options', () => {
    const parsed = parseFeatureOptions({ 'com.docker.network.enable_ipv6': 'false' }, '--driver-opt');
    assert.equal(hasFeatures(parsed), false);
    assert.deepEqual(parsed.securityGroups, []);
  });

  const rejected: Array<{ name: string; source: OptionSource; options: Record<string, unknown>; message: string }> = [
    {
      name: 'non-boolean port security',
      source: '-o',
      options: { 'neutron.port_security': 'maybe' },
      message: 'invalid -o neutron.port_security "maybe": expected true or false',
    },
    {
      name: 'unknown mode',
      source: '-o',
      options: { 'neutron.security_groups': 'web', 'neutron.security_groups.mode': 'merge' },
      message: 'invalid -o neutron.security_groups.mode "merge": expected add or replace',
    },
    {
      name: 'mode without groups',
      source: '--driver-opt',
      options: { 'neutron.security_groups.mode': 'replace' },
      message: '--driver-opt neutron.security_groups.mode needs neutron.security_groups: name the groups to add or to use instead',
    },
    {
      name: 'empty list entry',
      source: '-o',
      options: { 'neutron.security_groups': 'web,,db' },
      message: 'invalid -o neutron.security_groups "web,,db": expected a comma-separated list without empty entries',
    },
    {
      name: 'duplicate group',
      source: '-o',
      options: { 'neutron.security_groups': 'web,web' },
      message: 'invalid -o neutron.security_groups: "web" is given twice',
    },
    {
      name: 'too many groups',
      source: '-o',
      options: { 'neutron.security_groups': Array.from({ length: 11 }, (_, index) => `g${index}`).join(',') },
      message: 'invalid -o neutron.security_groups: 11 entries given, at most 10 are allowed',
    },
    {
      name: 'CIDR with host bits',
      source: '--driver-opt',
      options: { 'neutron.allowed_address_pairs': '10.66.0.1/24' },
      message:
        'invalid --driver-opt neutron.allowed_address_pairs entry "10.66.0.1/24": expected an IP address or a CIDR with no host bits, such as 10.66.0.50 or 10.66.0.64/28',
    },
    {
      name: 'groups without port security',
      source: '-o',
      options: { 'neutron.port_security': 'false', 'neutron.security_groups': 'web' },
      message:
        '-o neutron.port_security=false conflicts with neutron.security_groups: a port without port security has no security groups, so drop one of them',
    },
    {
      name: 'pairs without port security',
      source: '--driver-opt',
      options: { 'neutron.port_security': 'false', 'neutron.allowed_address_pairs': '10.66.0.9' },
      message:
        '--driver-opt neutron.port_security=false conflicts with neutron.allowed_address_pairs: a port without port security accepts every source address already, so drop one of them',
    },
    {
      name: 'router per endpoint',
      source: '--driver-opt',
      options: { 'neutron.router': 'edge' },
      message: 'unknown option --driver-opt neutron.router: neutron.router applies to a whole network: pass it to docker network create -o',
    },
    {
      name: 'unknown endpoint key',
      source: '--driver-opt',
      options: { 'neutron.sg': 'web' },
      message:
        'unknown option --driver-opt neutron.sg: kuryr accepts neutron.security_groups, neutron.security_groups.mode, neutron.port_security, ' +
        'neutron.allowed_address_pairs, neutron.qos_policy, neutron.floatingip.network, neutron.firewall_group',
    },
    {
      name: 'overlong name',
      source: '-o',
      options: { 'neutron.qos_policy': 'q'.repeat(256) },
      message: 'invalid -o neutron.qos_policy: expected a Neutron name of 1 to 255 characters or a UUID',
    },
  ];
  for (const { name, source, options, message } of rejected) {
    it(`rejects ${name}`, () => {
      assert.throws(() => parseFeatureOptions(options, source), { code: 'INVALID_OPTION', message });
    });
  }

  it('lets -o take the feature keys', () => {
    assert.doesNotThrow(() => parseExistingOptions({ 'neutron.router': 'edge' }, '-o'));
  });

  it('keeps feature keys out of --ipam-opt', () => {
    assert.throws(() => parseExistingOptions({ 'neutron.router': 'edge' }, '--ipam-opt'), { code: 'INVALID_OPTION', message: /^unknown option --ipam-opt neutron\.router/ });
  });
});
