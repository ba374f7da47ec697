/**
 * clouds.yaml, the OpenStack client configuration file: the cloud named by
 * OS_CLOUD supplies `[neutron]` credential and endpoint keys. secure.yaml,
 * which may hold the same cloud's secrets, is merged over it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KuryrError } from '../errors.js';
import type { ConfigLayer } from './layers.js';

export interface CloudsSearch {
  /** OS_CLOUD: the cloud to use. Nothing is read without it. */
  cloud: string | undefined;
  /** OS_CLIENT_CONFIG_FILE: a clouds.yaml searched before the standard places. */
  configFile?: string | undefined;
  cwd: string;
  home: string;
}

/** Lists the places searched, first match wins: OS_CLIENT_CONFIG_FILE, the working directory, the user's, then the system's. */
export function cloudsSearchPath(search: Pick<CloudsSearch, 'configFile' | 'cwd' | 'home'>, fileName = 'clouds.yaml'): string[] {
  const standard = [join(search.cwd, fileName), join(search.home, '.config', 'openstack', fileName), join('/etc/openstack', fileName)];
  return fileName === 'clouds.yaml' && search.configFile !== undefined ? [search.configFile, ...standard] : standard;
}

/** Maps keys of a cloud's `auth` block to `[neutron]` keys; `tenant_*` are the Keystone v2 spellings. */
const AUTH_KEYS: Record<string, string> = {
  auth_url: 'auth_url',
  username: 'username',
  user_id: 'user_id',
  password: 'password',
  project_name: 'project_name',
  tenant_name: 'project_name',
  project_id: 'project_id',
  tenant_id: 'project_id',
  user_domain_name: 'user_domain_name',
  user_domain_id: 'user_domain_id',
  project_domain_name: 'project_domain_name',
  project_domain_id: 'project_domain_id',
  application_credential_id: 'application_credential_id',
  application_credential_name: 'application_credential_name',
  application_credential_secret: 'application_credential_secret',
  token: 'token',
};

/** Maps top-level keys of a cloud to `[neutron]` keys. */
const CLOUD_KEYS: Record<string, string> = {
  auth_type: 'auth_type',
  region_name: 'region_name',
  interface: 'endpoint_type',
  endpoint_type: 'endpoint_type',
  cacert: 'cafile',
  cert: 'certfile',
  key: 'keyfile',
};

/** Returns the layer of the cloud named by `search.cloud`, or undefined when OS_CLOUD is not set. */
export async function cloudsLayer(search: CloudsSearch): Promise<ConfigLayer | undefined> {
  if (search.cloud === undefined || search.cloud === '') return undefined;

  const searched = cloudsSearchPath(search);
  const found = await readFirst(searched);
  if (found === undefined) {
    throw new KuryrError('CONFIG_INVALID', `OS_CLOUD is "${search.cloud}" but no clouds.yaml was found: searched ${searched.join(', ')}`);
  }
  const clouds = cloudsOf(found.document, found.path);
  const cloud = clouds[search.cloud];
  if (!isRecord(cloud)) {
    const names = Object.keys(clouds).join(', ') || 'none';
    throw new KuryrError('CONFIG_INVALID', `cloud "${search.cloud}" (OS_CLOUD) not found in "${found.path}": it defines ${names}`);
  }

  const secure = await readFirst(cloudsSearchPath(search, 'secure.yaml'));
  const secret = secure === undefined ? undefined : cloudsOf(secure.document, secure.path)[search.cloud];
  const merged = isRecord(secret) ? mergeCloud(cloud, secret) : cloud;
  return { source: `clouds.yaml:${search.cloud}`, sections: { neutron: neutronKeys(merged) } };
}

function neutronKeys(cloud: Record<string, unknown>): Record<string, unknown> {
  const neutron: Record<string, unknown> = {};
  const auth = isRecord(cloud.auth) ? cloud.auth : {};
  for (const [from, to] of Object.entries(AUTH_KEYS)) {
    if (auth[from] !== undefined) neutron[to] = String(auth[from]);
  }
  for (const [from, to] of Object.entries(CLOUD_KEYS)) {
    if (cloud[from] !== undefined) neutron[to] = String(cloud[from]);
  }
  if (typeof neutron.endpoint_type === 'string') neutron.endpoint_type = neutron.endpoint_type.replace(/URL$/, '');
  // `verify: false` turns verification off; a string is a CA bundle, as openstacksdk reads it.
  if (cloud.verify === false) neutron.insecure = true;
  if (typeof cloud.verify === 'string') neutron.cafile = cloud.verify;
  return neutron;
}

function mergeCloud(cloud: Record<string, unknown>, secret: Record<string, unknown>): Record<string, unknown> {
  const auth = { ...(isRecord(cloud.auth) ? cloud.auth : {}), ...(isRecord(secret.auth) ? secret.auth : {}) };
  return { ...cloud, ...secret, auth };
}

function cloudsOf(document: unknown, path: string): Record<string, unknown> {
  if (!isRecord(document) || !isRecord(document.clouds)) {
    throw new KuryrError('CONFIG_INVALID', `invalid clouds file "${path}": expected a top-level "clouds" mapping`);
  }
  return document.clouds;
}

async function readFirst(paths: string[]): Promise<{ path: string; document: unknown } | undefined> {
  for (const path of paths) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new KuryrError('CONFIG_INVALID', `cannot read "${path}": ${(error as Error).message}`, { cause: error });
    }
    // The yaml package is loaded only when a clouds file exists: it costs about 7 MB of memory.
    const { parse } = await import('yaml');
    try {
      return { path, document: parse(text) };
    } catch (error) {
      throw new KuryrError('CONFIG_INVALID', `invalid YAML in "${path}": ${(error as Error).message}`, { cause: error });
    }
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
