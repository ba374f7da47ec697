import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatEffectiveConfig } from './show.js';

describe('formatEffectiveConfig', () => {
  const text = formatEffectiveConfig(
    {
      configFile: '/etc/kuryr/kuryr.conf',
      raw: { DEFAULT: { bindir: '/opt/libexec' }, neutron: { password: 'hunter2', token: 'gAAAA', username: 'kuryr', auth_url: 'http://127.0.0.1:5000/v3' } },
      sources: new Map([
        ['DEFAULT.bindir', 'file:/etc/kuryr/kuryr.conf'],
        ['neutron.password', 'env:OS_PASSWORD'],
        ['neutron.token', 'env:OS_TOKEN'],
        ['neutron.username', 'clouds.yaml:lab'],
        ['neutron.auth_url', 'env:IDENTITY_URL'],
      ]),
    },
    'docker-host-1',
  );

  it('names each source', () => {
    assert.match(text, /^bindir = \/opt\/libexec {2}# file:\/etc\/kuryr\/kuryr\.conf$/m);
    assert.match(text, /^username = kuryr {2}# clouds\.yaml:lab$/m);
    assert.match(text, /^socket_path = \/run\/docker\/plugins\/kuryr\.sock {2}# default$/m);
    assert.match(text, /^host = docker-host-1 {2}# default$/m);
  });

  it('masks secrets', () => {
    assert.match(text, /^password = \*{8} {2}# env:OS_PASSWORD$/m);
    assert.match(text, /^token = \*{8} {2}# env:OS_TOKEN$/m);
    assert.doesNotMatch(text, /hunter2|gAAAA/);
  });

  it('leaves out unset keys', () => {
    assert.doesNotMatch(text, /^region_name/m);
  });
});
