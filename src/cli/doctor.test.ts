import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateLayers } from '../config/index.js';
import { KuryrError } from '../errors.js';
import { FakeRunner } from '../host/fake-runner.js';
import { setupClient } from '../neutron/test-support.js';
import { DockerClient, dockerSocketPath } from './docker.js';
import { formatResults, runDoctor, type DoctorDependencies } from './doctor.js';

const agent = (overrides: Record<string, unknown>) => ({
  id: 'agent-1',
  agent_type: 'Linux bridge agent',
  binary: 'neutron-linuxbridge-agent',
  host: 'docker-host-1',
  alive: true,
  admin_state_up: true,
  ...overrides,
});

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve) => server.listen(path, () => resolve()));
}

describe('runDoctor', () => {
  let dir = '';
  let socketServer: Server;
  let base: Omit<DoctorDependencies, 'neutron' | 'session'>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kuryr-doctor-'));
    await mkdir(join(dir, 'bin'));
    await writeFile(join(dir, 'bin', 'ovs'), '#!/bin/sh\n');
    await mkdir(join(dir, 'veth'));
    socketServer = createHttpServer((_request, response) => response.end('{"Implements":["NetworkDriver","IpamDriver"]}'));
    await listen(socketServer, join(dir, 'kuryr.sock'));
    const { config } = validateLayers([
      {
        source: 'test',
        sections: {
          DEFAULT: { bindir: join(dir, 'bin'), socket_path: join(dir, 'kuryr.sock') },
          neutron: { auth_url: 'http://127.0.0.1:5000/v3', username: 'kuryr', password: 'p', project_name: 'service' },
        },
      },
    ]);
    base = {
      config,
      hostName: 'docker-host-1',
      runner: new FakeRunner(),
      specFile: join(dir, 'kuryr.spec'),
      kernel: { vethModuleDir: join(dir, 'veth') },
    };
  });

  after(async () => {
    socketServer.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('passes every check on a healthy host', async () => {
    const { client, tokens, transport } = setupClient([
      { method: 'GET', path: '/v2.0/extensions', reply: { body: { extensions: [{ alias: 'standard-attr-tag', name: 't' }, { alias: 'subnet_allocation', name: 's' }] } } },
      { method: 'GET', path: '/v2.0/agents?host=docker-host-1', reply: { body: { agents: [agent({})] } } },
    ]);
    const runner = new FakeRunner().expect(['ip', '-V'], { stdout: 'ip utility, iproute2-6.1.0\n' });

    const results = await runDoctor({ ...base, runner, neutron: client, session: tokens });

    assert.deepEqual(
      results.map((result) => `${result.status} ${result.name}`),
      [
        'PASS keystone',
        'PASS neutron extension standard-attr-tag',
        'PASS neutron extension subnet_allocation',
        'PASS L2 agent',
        'PASS ip binary',
        'PASS veth support',
        'PASS bindir',
        'PASS plugin socket',
        'PASS spec file',
      ],
    );
    assert.match(formatResults(results), /all checks passed\n$/);
    transport.assertDone();
  });

  it('fails a missing extension and a dead agent with fixes', async () => {
    const { client, tokens } = setupClient([
      { method: 'GET', path: '/v2.0/extensions', reply: { body: { extensions: [{ alias: 'subnet_allocation', name: 's' }] } } },
      { method: 'GET', path: '/v2.0/agents?host=docker-host-1', reply: { body: { agents: [agent({ alive: false })] } } },
    ]);
    const runner = new FakeRunner().expect(['ip', '-V'], { stdout: 'ip utility\n' });

    const text = formatResults(await runDoctor({ ...base, runner, neutron: client, session: tokens }));

    assert.match(text, /^FAIL {2}neutron extension standard-attr-tag: missing\n {6}fix: enable the standard-attr-tag extension/m);
    assert.match(text, /^FAIL {2}L2 agent: the L2 agent on host "docker-host-1" is down or disabled\n {6}fix: start the L2 agent/m);
    assert.match(text, /2 check\(s\) failed\n$/);
  });

  it('skips Neutron checks when Keystone fails', async () => {
    const session = {
      getToken: () => Promise.reject(new KuryrError('KEYSTONE_UNREACHABLE', 'cannot reach Keystone at "http://127.0.0.1:5000/v3/auth/tokens": ECONNREFUSED')),
      getProjectId: () => Promise.resolve(undefined),
    };
    const runner = new FakeRunner().expect(['ip', '-V'], { exitCode: 127, stderr: 'not found' });
    const { client } = setupClient([]);

    const results = await runDoctor({ ...base, runner, neutron: client, session, kernel: { vethModuleDir: join(dir, 'none'), modulesFile: join(dir, 'none'), configGz: join(dir, 'none'), modulesDir: dir } });
    const byName = new Map(results.map((result) => [result.name, result]));

    assert.equal(byName.get('keystone')?.status, 'FAIL');
    assert.match(byName.get('keystone')?.detail ?? '', /ECONNREFUSED/);
    assert.equal(byName.get('L2 agent')?.status, 'FAIL');
    assert.match(byName.get('L2 agent')?.detail ?? '', /not checked because Keystone authentication failed/);
    assert.equal(byName.get('ip binary')?.status, 'FAIL');
    assert.equal(byName.get('veth support')?.status, 'FAIL');
  });
});

describe('DockerClient', () => {
  let dir = '';
  let server: Server;
  const requests: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kuryr-docker-'));
    server = createHttpServer((request, response) => {
      requests.push(`${request.method ?? ''} ${request.url ?? ''}`);
      if (request.url === '/networks') {
        response.end(JSON.stringify([{ Id: 'n1', Name: 'web', Driver: 'kuryr' }, { Id: 'n2', Name: 'bridge', Driver: 'bridge' }]));
        return;
      }
      response.end(
        JSON.stringify({
          Id: 'n1',
          Name: 'web',
          Driver: 'kuryr',
          IPAM: { Driver: 'kuryr', Config: [{ Subnet: '10.10.0.0/16' }] },
          Containers: { c1: { Name: 'nginx', EndpointID: 'e1', MacAddress: '02:42:0a:0a:00:02', IPv4Address: '10.10.0.2/16', IPv6Address: '' } },
        }),
      );
    });
    await listen(server, join(dir, 'docker.sock'));
  });

  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists kuryr networks with endpoints', async () => {
    const networks = await new DockerClient(join(dir, 'docker.sock')).listNetworks('kuryr');

    assert.deepEqual(networks, [
      {
        networkId: 'n1',
        name: 'web',
        driver: 'kuryr',
        subnets: ['10.10.0.0/16'],
        endpoints: [{ endpointId: 'e1', containerId: 'c1', containerName: 'nginx', macAddress: '02:42:0a:0a:00:02', addresses: ['10.10.0.2'] }],
      },
    ]);
    assert.deepEqual(requests, ['GET /networks', 'GET /networks/n1']);
  });

  it('reads DOCKER_HOST', () => {
    assert.equal(dockerSocketPath(undefined), '/var/run/docker.sock');
    assert.equal(dockerSocketPath('unix:///run/kuryr-lab/docker.sock'), '/run/kuryr-lab/docker.sock');
    assert.throws(() => dockerSocketPath('tcp://127.0.0.1:2375'), /unsupported DOCKER_HOST "tcp:\/\/127\.0\.0\.1:2375"/);
  });
});
