/** Runs the `kuryr` command as a child process, to check the wiring of options, configuration and output. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

const run = promisify(execFile);
const MAIN = new URL('./main.ts', import.meta.url).pathname;
// The repository root, where node resolves the tsx loader.
const ROOT = new URL('../..', import.meta.url).pathname;

/** Runs kuryr with only `env` and PATH; HOME is `home`, so no clouds.yaml of the user is read. */
function kuryr(args: string[], env: Record<string, string>, home: string) {
  return run(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: home, ...env } });
}

describe('kuryr command', () => {
  let dir = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kuryr-cli-'));
    await writeFile(join(dir, 'kuryr.conf'), '[DEFAULT]\nbindir = /opt/kuryr\nsurprise = 1\n[neutron]\nproject_name = service\n');
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('config show merges file and environment', async () => {
    const env = { OS_AUTH_URL: 'http://127.0.0.1:5000/v3', OS_USERNAME: 'kuryr', OS_PASSWORD: 'cli-secret', OS_PROJECT_NAME: 'admin' };

    const { stdout, stderr } = await kuryr(['config', 'show', '--config-file', join(dir, 'kuryr.conf')], env, dir);

    assert.match(stdout, /^bindir = \/opt\/kuryr {2}# file:.*kuryr\.conf$/m);
    assert.match(stdout, /^project_name = service {2}# file:/m);
    assert.match(stdout, /^password = \*{8} {2}# env:OS_PASSWORD$/m);
    assert.doesNotMatch(stdout, /cli-secret/);
    assert.match(stderr, /warning: unknown key \[DEFAULT\] surprise/);
  });

  it('rejects a missing explicit file with exit code 1', async () => {
    await assert.rejects(kuryr(['config', 'show', '--config-file', join(dir, 'absent.conf')], {}, dir), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr ?? '', /^kuryr: cannot read configuration file ".*absent\.conf"/);
      return true;
    });
  });

  it('names the missing credentials after the listing', async () => {
    await assert.rejects(kuryr(['config', 'show', '--config-file', join(dir, 'kuryr.conf')], {}, dir), (error: { code?: number; stdout?: string; stderr?: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stdout ?? '', /^project_name = service {2}# file:/m);
      assert.match(error.stderr ?? '', /missing Keystone password settings: set \[neutron\] auth_url, or OS_AUTH_URL or IDENTITY_URL/);
      return true;
    });
  });

  it('install-spec writes kuryr_uri', async () => {
    const specFile = join(dir, 'plugins', 'kuryr', 'kuryr.spec');
    await writeFile(join(dir, 'tcp.conf'), '[DEFAULT]\nenable_tcp = true\nkuryr_uri = http://127.0.0.1:23751\n');

    const { stdout } = await kuryr(['install-spec', '--spec-file', specFile, '--config-file', join(dir, 'tcp.conf')], {}, dir);

    assert.equal(await readFile(specFile, 'utf8'), 'http://127.0.0.1:23751\n');
    assert.match(stdout, /^wrote .*kuryr\.spec: http:\/\/127\.0\.0\.1:23751$/m);
  });

  it('documents every subcommand', async () => {
    const { stdout } = await kuryr(['--help'], {}, dir);

    for (const command of ['serve', 'config', 'doctor', 'status', 'gc', 'install-spec']) {
      assert.match(stdout, new RegExp(`^ {2}${command}\\b`, 'm'), `${command} is not in --help`);
    }
  });
});
