/**
 * Helpers for the multi-host tests on the two Docker hosts of
 * lab/multihost.sh: their names, namespaces and Docker sockets.
 */
import assert from 'node:assert/strict';
import { command, type CommandOutput } from './lab.js';

export const HOSTS = {
  one: { name: 'kuryr-mh1', namespace: 'lab-os-mh1', dockerHost: 'unix:///run/kuryr-lab/mh/mh1/docker.sock' },
  two: { name: 'kuryr-mh2', namespace: 'lab-os-mh2', dockerHost: 'unix:///run/kuryr-lab/mh/mh2/docker.sock' },
} as const;

export type Host = (typeof HOSTS)[keyof typeof HOSTS];

export function hostDocker(host: Host, ...args: string[]): Promise<CommandOutput> {
  return command(['docker', ...args], { DOCKER_HOST: host.dockerHost }, 60_000);
}

/** Runs docker on the host and fails with its stderr when it exits non-zero. */
export async function hostDockerOk(host: Host, ...args: string[]): Promise<string> {
  const output = await hostDocker(host, ...args);
  if (output.code !== 0) throw new Error(`docker ${args.join(' ')} on ${host.name} exited ${output.code}: ${output.stderr.trim()}`);
  return output.stdout.trim();
}

/** Fails unless both hosts' dockerds reply to a ping. */
export async function assertHostsUp(): Promise<void> {
  for (const host of Object.values(HOSTS)) {
    const version = await hostDocker(host, 'version', '-f', '{{.Server.Version}}');
    assert.equal(version.code, 0, `the dockerd of ${host.name} does not answer: run lab/multihost.sh up (${version.stderr.trim()})`);
  }
}
