import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveKeystoneSettings } from './auth.js';
import { resolveConfig, type ResolveOptions } from './resolve.js';

const FILE = `
[DEFAULT]
bindir = /opt/kuryr/libexec
[neutron]
auth_url = http://127.0.0.1:5000/v3
username = kuryr
password = file-password
project_name = service
`;

describe('resolveConfig', () => {
  let dir = '';
  let options: (env: NodeJS.ProcessEnv, file?: string) => Promise<ResolveOptions>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kuryr-config-'));
    let counter = 0;
    options = async (env, file) => {
      counter += 1;
      const configFile = join(dir, `kuryr-${counter}.conf`);
      if (file !== undefined) await writeFile(configFile, file);
      return { configFile, configFileExplicit: file !== undefined, env, cwd: join(dir, 'cwd'), home: join(dir, 'home') };
    };
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the file and names it as the source', async () => {
    const resolved = await resolveConfig(await options({}, FILE));

    assert.equal(resolved.config.DEFAULT.bindir, '/opt/kuryr/libexec');
    assert.match(resolved.sources.get('DEFAULT.bindir') ?? '', /^file:.*kuryr-\d+\.conf$/);
    assert.equal(resolved.sources.get('DEFAULT.socket_path'), undefined);
  });

  it('runs from the image variables without a file', async () => {
    const env = {
      IDENTITY_URL: 'http://127.0.0.1:5000/v3',
      SERVICE_USER: 'kuryr',
      SERVICE_PASSWORD: 'image-password',
      SERVICE_PROJECT_NAME: 'service',
      USER_DOMAIN_NAME: 'users',
      SERVICE_DOMAIN_NAME: 'services',
      CAPABILITY_SCOPE: 'GLOBAL',
    };

    const resolved = await resolveConfig(await options(env));

    assert.equal(resolved.configFile, undefined);
    assert.equal(resolved.config.neutron.username, 'kuryr');
    assert.equal(resolved.config.neutron.user_domain_name, 'users');
    assert.equal(resolved.config.neutron.project_domain_name, 'services');
    assert.equal(resolved.config.DEFAULT.capability_scope, 'global');
    assert.equal(resolved.sources.get('neutron.password'), 'env:SERVICE_PASSWORD');
  });

  it('lets OS variables override image variables', async () => {
    const env = { SERVICE_USER: 'image-user', OS_USERNAME: 'os-user', OS_AUTH_URL: 'http://127.0.0.1:5000', OS_PASSWORD: 'p', OS_PROJECT_NAME: 'demo' };

    const resolved = await resolveConfig(await options(env));

    assert.equal(resolved.config.neutron.username, 'os-user');
    assert.equal(resolved.sources.get('neutron.username'), 'env:OS_USERNAME');
  });

  it('lets the file override the environment', async () => {
    const resolved = await resolveConfig(await options({ OS_PASSWORD: 'admin-password', OS_REGION_NAME: 'RegionTwo' }, FILE));

    assert.equal(resolved.config.neutron.password, 'file-password');
    assert.equal(resolved.config.neutron.region_name, 'RegionTwo');
    assert.equal(resolved.sources.get('neutron.region_name'), 'env:OS_REGION_NAME');
  });

  it('lets a command-line option override the file', async () => {
    const base = await options({}, FILE);
    const resolved = await resolveConfig({ ...base, overrides: [{ source: 'cli:--socket', sections: { DEFAULT: { socket_path: '/tmp/k.sock' } } }] });

    assert.equal(resolved.config.DEFAULT.socket_path, '/tmp/k.sock');
    assert.equal(resolved.sources.get('DEFAULT.socket_path'), 'cli:--socket');
  });

  it('reads the OS_CLOUD cloud and secure.yaml', async () => {
    await mkdir(join(dir, 'home', '.config', 'openstack'), { recursive: true });
    const clouds = [
      'clouds:',
      '  lab:',
      '    auth:',
      '      auth_url: http://127.0.0.1:5000/v3',
      '      username: kuryr',
      '      project_id: 0123abcd',
      '      user_domain_id: default',
      '    region_name: RegionOne',
      '    interface: internal',
      '    verify: false',
    ].join('\n');
    await writeFile(join(dir, 'home', '.config', 'openstack', 'clouds.yaml'), clouds);
    await writeFile(join(dir, 'home', '.config', 'openstack', 'secure.yaml'), 'clouds:\n  lab:\n    auth:\n      password: yaml-secret\n');

    const resolved = await resolveConfig(await options({ OS_CLOUD: 'lab' }));
    const settings = resolveKeystoneSettings(resolved.config.neutron);

    assert.equal(resolved.config.neutron.password, 'yaml-secret');
    assert.equal(resolved.config.neutron.endpoint_type, 'internal');
    assert.equal(resolved.config.neutron.insecure, true);
    assert.equal(resolved.sources.get('neutron.password'), 'clouds.yaml:lab');
    assert.deepEqual(settings.credentials, { user: { name: 'kuryr', domain: { id: 'default' } }, password: 'yaml-secret', project: { id: '0123abcd' } });
  });

  it('names the defined clouds when OS_CLOUD is unknown', async () => {
    await assert.rejects(resolveConfig(await options({ OS_CLOUD: 'nope' })), /cloud "nope" \(OS_CLOUD\) not found in ".*clouds\.yaml": it defines lab/);
  });

  it('names the key, source and fix of an invalid value', async () => {
    const env = { OS_INTERFACE: 'sideways' };

    await assert.rejects(resolveConfig(await options(env, FILE)), /neutron\.endpoint_type \(set by env:OS_INTERFACE\): .*"public"/);
  });

  it('reads OS_CLIENT_CONFIG_FILE first', async () => {
    const path = join(dir, 'elsewhere.yaml');
    await writeFile(path, 'clouds:\n  other:\n    auth:\n      auth_url: http://127.0.0.1:5000/v3\n      application_credential_id: ac\n      application_credential_secret: s\n');

    const resolved = await resolveConfig(await options({ OS_CLOUD: 'other', OS_CLIENT_CONFIG_FILE: path }));

    assert.equal(resolved.config.neutron.application_credential_id, 'ac');
    assert.equal(resolveKeystoneSettings(resolved.config.neutron).method, 'application_credential');
  });

  it('rejects an invalid metrics_address', async () => {
    await assert.rejects(resolveConfig(await options({}, `${FILE}\n[DEFAULT]\nmetrics_address = localhost\n`)), /DEFAULT\.metrics_address \(set by file:.*\): expected host:port such as 127\.0\.0\.1:9797, or 0 to turn metrics off/);
  });

  it('rejects a missing explicit file', async () => {
    await assert.rejects(resolveConfig({ configFile: join(dir, 'absent.conf'), configFileExplicit: true, env: {} }), /cannot read configuration file ".*absent\.conf"/);
  });

  it('warns about unknown and upstream keys', async () => {
    const resolved = await resolveConfig(await options({}, `${FILE}\nsurprise = 1\n[DEFAULT]\nenable_ssl = true\n`));

    assert.equal(resolved.warnings.length, 2);
    assert.match(resolved.warnings.join('\n'), /unknown key \[neutron\] surprise/);
    assert.match(resolved.warnings.join('\n'), /upstream key \[DEFAULT\] enable_ssl .* ignored: /);
  });
});

describe('resolveKeystoneSettings', () => {
  const base = { auth_url: 'http://127.0.0.1:5000/v3', user_domain_name: 'Default', project_domain_name: 'Default' };
  const neutron = (extra: Record<string, unknown>) => ({ ...base, ...extra }) as Parameters<typeof resolveKeystoneSettings>[0];

  it('picks application credentials by id', () => {
    const settings = resolveKeystoneSettings(neutron({ application_credential_id: 'ac', application_credential_secret: 's' }));

    assert.equal(settings.method, 'application_credential');
    assert.deepEqual(settings.credentials, { applicationCredential: { id: 'ac', secret: 's' } });
  });

  it('picks a token with a project id', () => {
    const settings = resolveKeystoneSettings(neutron({ token: 't', project_id: 'p' }));

    assert.equal(settings.method, 'token');
    assert.deepEqual(settings.credentials, { token: 't', project: { id: 'p' } });
  });

  it('names every missing password key', () => {
    assert.throws(
      () => resolveKeystoneSettings(neutron({ username: 'kuryr' })),
      /missing Keystone password settings: set \[neutron\] password, or OS_PASSWORD or SERVICE_PASSWORD; \[neutron\] project_name \(or project_id\)/,
    );
  });

  it('follows an explicit auth_type', () => {
    assert.throws(() => resolveKeystoneSettings(neutron({ auth_type: 'v3applicationcredential', username: 'u', password: 'p' })), /application_credential_id/);
  });
});
