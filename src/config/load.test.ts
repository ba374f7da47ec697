import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from './load.js';

const minimal = `
[neutron]
auth_url = http://127.0.0.1:5000/v3
username = kuryr
password = secret
project_name = service
`;

describe('parseConfig', () => {
  it('applies upstream defaults', () => {
    const { config } = parseConfig(minimal, 'kuryr.conf');
    assert.equal(config.DEFAULT.subnetpool_name_prefix, 'kuryrPool');
    assert.equal(config.DEFAULT.capability_scope, 'local');
    assert.equal(config.neutron.default_subnetpool_v4, 'kuryr');
    assert.equal(config.neutron.enable_dhcp, false);
  });

  it('reports unknown keys', () => {
    const { unknownKeys } = parseConfig(`${minimal}\nsurprise = 1\n[binding]\nveth_dst_prefix = eth\n`, 'kuryr.conf');
    assert.deepEqual(unknownKeys.sort(), ['binding.veth_dst_prefix', 'neutron.surprise']);
  });

  it('rejects an invalid boolean naming the key', () => {
    assert.throws(() => parseConfig(`${minimal}enable_dhcp = maybe\n`, 'kuryr.conf'), /neutron\.enable_dhcp \(set by file:kuryr\.conf\): expected true or false, got "maybe"/);
  });

  it('rejects a missing auth_url', () => {
    assert.throws(() => parseConfig('[neutron]\nusername = x\n', 'kuryr.conf'), /\[neutron\] auth_url, or OS_AUTH_URL or IDENTITY_URL/);
  });
});
