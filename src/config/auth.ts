/**
 * Turns the `[neutron]` credential keys into Keystone credentials, after the
 * file, the environment and clouds.yaml were merged. Each missing key is
 * named with the places that can set it.
 */
import { KuryrError } from '../errors.js';
import type { DomainRef, KeystoneCredentials, ProjectRef, UserRef } from '../neutron/index.js';
import type { KuryrConfig } from './schema.js';

type NeutronSection = KuryrConfig['neutron'];

export type AuthMethod = 'password' | 'application_credential' | 'token';

export interface KeystoneSettings {
  authUrl: string;
  method: AuthMethod;
  credentials: KeystoneCredentials;
}

/** Key names that can replace a missing key, for error messages. */
const ID_FORMS: Record<string, string> = {
  username: ' (or user_id)',
  project_name: ' (or project_id)',
  application_credential_id: ' (or application_credential_name)',
};

/** Environment variables that set each credential key, for error messages. */
const ALTERNATIVES: Record<string, string> = {
  auth_url: 'OS_AUTH_URL or IDENTITY_URL',
  username: 'OS_USERNAME or SERVICE_USER',
  password: 'OS_PASSWORD or SERVICE_PASSWORD',
  project_name: 'OS_PROJECT_NAME or SERVICE_PROJECT_NAME',
  application_credential_secret: 'OS_APPLICATION_CREDENTIAL_SECRET',
  application_credential_id: 'OS_APPLICATION_CREDENTIAL_ID',
  token: 'OS_TOKEN',
};

/**
 * Picks the auth method: `auth_type` when set, otherwise application credential
 * when its id or name is set, token when a token is set, and password otherwise.
 */
export function authMethodOf(neutron: NeutronSection): AuthMethod {
  switch (neutron.auth_type) {
    case 'password':
    case 'v3password':
      return 'password';
    case 'v3applicationcredential':
    case 'applicationcredential':
      return 'application_credential';
    case 'token':
    case 'v3token':
      return 'token';
    case undefined:
      break;
  }
  if (neutron.application_credential_id !== undefined || neutron.application_credential_name !== undefined) return 'application_credential';
  if (neutron.token !== undefined) return 'token';
  return 'password';
}

/** Builds the Keystone settings, or throws CONFIG_INVALID naming each missing key. */
export function resolveKeystoneSettings(neutron: NeutronSection): KeystoneSettings {
  const method = authMethodOf(neutron);
  const missing: string[] = [];
  const need = (key: keyof NeutronSection & string, present: boolean): void => {
    if (!present) missing.push(key);
  };
  need('auth_url', neutron.auth_url !== undefined);

  let credentials: KeystoneCredentials | undefined;
  switch (method) {
    case 'password': {
      need('username', neutron.username !== undefined || neutron.user_id !== undefined);
      need('password', neutron.password !== undefined);
      need('project_name', neutron.project_name !== undefined || neutron.project_id !== undefined);
      if (missing.length === 0) {
        credentials = { user: userRef(neutron), password: neutron.password ?? '', project: projectRef(neutron) };
      }
      break;
    }
    case 'application_credential': {
      need('application_credential_id', neutron.application_credential_id !== undefined || neutron.application_credential_name !== undefined);
      need('application_credential_secret', neutron.application_credential_secret !== undefined);
      const byName = neutron.application_credential_id === undefined && neutron.application_credential_name !== undefined;
      if (byName) need('username', neutron.username !== undefined || neutron.user_id !== undefined);
      if (missing.length === 0) {
        const secret = neutron.application_credential_secret ?? '';
        credentials = byName
          ? { applicationCredential: { name: neutron.application_credential_name ?? '', user: userRef(neutron), secret } }
          : { applicationCredential: { id: neutron.application_credential_id ?? '', secret } };
      }
      break;
    }
    case 'token': {
      need('token', neutron.token !== undefined);
      need('project_name', neutron.project_name !== undefined || neutron.project_id !== undefined);
      if (missing.length === 0) credentials = { token: neutron.token ?? '', project: projectRef(neutron) };
      break;
    }
  }

  if (credentials === undefined || neutron.auth_url === undefined) {
    throw new KuryrError('CONFIG_INVALID', describeMissing(method, missing));
  }
  return { authUrl: neutron.auth_url, method, credentials };
}

function describeMissing(method: AuthMethod, missing: string[]): string {
  const keys = missing.map((key) => {
    const alternative = ALTERNATIVES[key];
    const idForm = ID_FORMS[key] ?? '';
    return `[neutron] ${key}${idForm}${alternative === undefined ? '' : `, or ${alternative}`}`;
  });
  return `missing Keystone ${method.replace('_', ' ')} settings: set ${keys.join('; ')} (in kuryr.conf, the environment or a clouds.yaml cloud selected by OS_CLOUD)`;
}

function userRef(neutron: NeutronSection): UserRef {
  if (neutron.user_id !== undefined) return { id: neutron.user_id };
  return { name: neutron.username ?? '', domain: domainRef(neutron.user_domain_id, neutron.user_domain_name) };
}

function projectRef(neutron: NeutronSection): ProjectRef {
  if (neutron.project_id !== undefined) return { id: neutron.project_id };
  return { name: neutron.project_name ?? '', domain: domainRef(neutron.project_domain_id, neutron.project_domain_name) };
}

/** Prefers the domain id over the name, because the name has a default (`Default`) and the id never does. */
function domainRef(id: string | undefined, name: string): DomainRef {
  return id === undefined ? { name } : { id };
}
