/**
 * Environment variables that set configuration keys: the variables of
 * upstream Kuryr's container image (SERVICE_USER, IDENTITY_URL, ...) and the
 * OS_* variables of the OpenStack command-line clients.
 */
import type { ConfigLayer } from './layers.js';

export interface EnvBinding {
  name: string;
  section: 'DEFAULT' | 'neutron';
  key: string;
  /** Converts the variable's text to the key's value; the identity by default. */
  convert?: (value: string) => string;
}

/** `publicURL` (the old OS_ENDPOINT_TYPE form) becomes `public`. */
const interfaceName = (value: string): string => value.trim().replace(/URL$/, '');
const lowercase = (value: string): string => value.trim().toLowerCase();

/**
 * The container image's variables, as upstream's image documents them.
 * USER_DOMAIN_NAME is the user's domain and SERVICE_DOMAIN_NAME the service
 * project's domain. NOTE: upstream's entry script writes them the other way
 * round; with both at `Default`, as in most clouds, the two readings agree.
 */
export const IMAGE_VARIABLES: readonly EnvBinding[] = [
  { name: 'IDENTITY_URL', section: 'neutron', key: 'auth_url' },
  { name: 'SERVICE_USER', section: 'neutron', key: 'username' },
  { name: 'SERVICE_PASSWORD', section: 'neutron', key: 'password' },
  { name: 'SERVICE_PROJECT_NAME', section: 'neutron', key: 'project_name' },
  { name: 'USER_DOMAIN_NAME', section: 'neutron', key: 'user_domain_name' },
  { name: 'SERVICE_DOMAIN_NAME', section: 'neutron', key: 'project_domain_name' },
  { name: 'CAPABILITY_SCOPE', section: 'DEFAULT', key: 'capability_scope', convert: lowercase },
  { name: 'LOG_LEVEL', section: 'DEFAULT', key: 'log_level', convert: lowercase },
  { name: 'OS_KURYR_URI', section: 'DEFAULT', key: 'kuryr_uri' },
  // kuryr-ts's image addition: upstream's entry script hard-codes log_dir instead.
  { name: 'LOG_DIR', section: 'DEFAULT', key: 'log_dir' },
];

/**
 * The OpenStack client variables. When two variables set one key, the later
 * one in this list wins (OS_PROJECT_NAME over the older OS_TENANT_NAME).
 */
export const OPENSTACK_VARIABLES: readonly EnvBinding[] = [
  { name: 'OS_AUTH_URL', section: 'neutron', key: 'auth_url' },
  { name: 'OS_AUTH_TYPE', section: 'neutron', key: 'auth_type', convert: lowercase },
  { name: 'OS_USERNAME', section: 'neutron', key: 'username' },
  { name: 'OS_USER_ID', section: 'neutron', key: 'user_id' },
  { name: 'OS_PASSWORD', section: 'neutron', key: 'password' },
  { name: 'OS_TENANT_NAME', section: 'neutron', key: 'project_name' },
  { name: 'OS_PROJECT_NAME', section: 'neutron', key: 'project_name' },
  { name: 'OS_TENANT_ID', section: 'neutron', key: 'project_id' },
  { name: 'OS_PROJECT_ID', section: 'neutron', key: 'project_id' },
  { name: 'OS_USER_DOMAIN_NAME', section: 'neutron', key: 'user_domain_name' },
  { name: 'OS_USER_DOMAIN_ID', section: 'neutron', key: 'user_domain_id' },
  { name: 'OS_PROJECT_DOMAIN_NAME', section: 'neutron', key: 'project_domain_name' },
  { name: 'OS_PROJECT_DOMAIN_ID', section: 'neutron', key: 'project_domain_id' },
  { name: 'OS_APPLICATION_CREDENTIAL_ID', section: 'neutron', key: 'application_credential_id' },
  { name: 'OS_APPLICATION_CREDENTIAL_NAME', section: 'neutron', key: 'application_credential_name' },
  { name: 'OS_APPLICATION_CREDENTIAL_SECRET', section: 'neutron', key: 'application_credential_secret' },
  { name: 'OS_TOKEN', section: 'neutron', key: 'token' },
  { name: 'OS_REGION_NAME', section: 'neutron', key: 'region_name' },
  { name: 'OS_ENDPOINT_TYPE', section: 'neutron', key: 'endpoint_type', convert: interfaceName },
  { name: 'OS_INTERFACE', section: 'neutron', key: 'endpoint_type', convert: interfaceName },
  { name: 'OS_CACERT', section: 'neutron', key: 'cafile' },
  { name: 'OS_CERT', section: 'neutron', key: 'certfile' },
  { name: 'OS_KEY', section: 'neutron', key: 'keyfile' },
  { name: 'OS_INSECURE', section: 'neutron', key: 'insecure' },
];

/** Builds one layer per variable that is set and not empty, in `bindings` order. */
export function envLayers(env: NodeJS.ProcessEnv, bindings: readonly EnvBinding[]): ConfigLayer[] {
  const layers: ConfigLayer[] = [];
  for (const binding of bindings) {
    const value = env[binding.name];
    if (value === undefined || value === '') continue;
    const converted = binding.convert === undefined ? value : binding.convert(value);
    layers.push({ source: `env:${binding.name}`, sections: { [binding.section]: { [binding.key]: converted } } });
  }
  return layers;
}
