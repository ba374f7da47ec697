/**
 * The meaning of each configuration key, the secret keys, and the upstream
 * keys kuryr-ts accepts but ignores. docs/configuration.md is generated from
 * this table and the schema (`npm run docs:config`).
 */
import type { z } from 'zod';
import { bindingSectionSchema } from './binding.js';
import { IMAGE_VARIABLES, OPENSTACK_VARIABLES } from './env.js';
import type { RawSections } from './layers.js';
import { defaultSectionSchema, neutronSectionSchema } from './schema.js';

export const SECTIONS = ['DEFAULT', 'neutron', 'binding'] as const;
export type SectionName = (typeof SECTIONS)[number];

/** Keys whose values `kuryr config show` masks and no log line contains. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['neutron.password', 'neutron.application_credential_secret', 'neutron.token']);

const DESCRIPTIONS: Record<string, string> = {
  'DEFAULT.kuryr_uri': 'Loopback TCP address served when enable_tcp is true; written to /usr/lib/docker/plugins/kuryr/kuryr.spec.',
  'DEFAULT.capability_scope': '`local` or `global`: the scope Docker gives kuryr networks. `global` needs a cluster store on every dockerd (see docs/multihost.md).',
  'DEFAULT.bindir': 'Directory of the binding scripts named after a port\'s `binding:vif_type`.',
  'DEFAULT.subnetpool_name_prefix': 'Name prefix of the subnet pools kuryr creates per CIDR.',
  'DEFAULT.socket_path': 'kuryr-ts: the plugin unix socket dockerd discovers.',
  'DEFAULT.enable_tcp': 'kuryr-ts: also serve on kuryr_uri and write the spec file.',
  'DEFAULT.host': 'kuryr-ts: `binding:host_id` of ports; must equal the L2 agent\'s `host`. Default: the system host name.',
  'DEFAULT.log_level': 'Log level: fatal, error, warn, info, debug or trace.',
  'DEFAULT.debug': 'oslo.log switch: true sets log_level to debug.',
  'DEFAULT.log_file': 'Log file; a relative name is joined to log_dir. Default: standard output.',
  'DEFAULT.log_dir': 'Directory of a relative log_file.',
  'DEFAULT.state_dir': 'kuryr-ts: directory of the journal of port deletes still pending, replayed when the daemon starts, so a crash leaks no port.',
  'DEFAULT.delete_ports_in_background': 'kuryr-ts: reply to ReleaseAddress before Neutron deletes the port (saves about 0.2 s per container removal); a network delete waits for its ports.',
  'DEFAULT.metrics_address': 'kuryr-ts: `host:port` of the Prometheus endpoint `/metrics` and of `/healthz` and `/readyz`; empty or `0` turns it off.',
  'neutron.auth_url': 'Keystone URL, with or without `/v3`.',
  'neutron.auth_type': '`password` (or `v3password`), `v3applicationcredential` or `token` (or `v3token`). Default: chosen from the keys that are set.',
  'neutron.username': 'User name (password auth, or an application credential given by name).',
  'neutron.user_id': 'User id; wins over username.',
  'neutron.password': 'Password of the user.',
  'neutron.project_name': 'Project to scope the token to.',
  'neutron.project_id': 'Project id; wins over project_name.',
  'neutron.user_domain_name': 'Domain of the user name.',
  'neutron.user_domain_id': 'Domain id of the user name; wins over user_domain_name.',
  'neutron.project_domain_name': 'Domain of the project name.',
  'neutron.project_domain_id': 'Domain id of the project name; wins over project_domain_name.',
  'neutron.application_credential_id': 'Application credential id.',
  'neutron.application_credential_name': 'Application credential name; needs username or user_id.',
  'neutron.application_credential_secret': 'Application credential secret.',
  'neutron.token': 'An existing token, exchanged for one scoped to the project. The daemon fails once it expires.',
  'neutron.cafile': 'PEM CA bundle that verifies Keystone and Neutron; replaces the system CAs.',
  'neutron.certfile': 'PEM client certificate; needs keyfile.',
  'neutron.keyfile': 'PEM private key of certfile.',
  'neutron.insecure': 'Skip TLS certificate verification; logs a warning at start.',
  'neutron.region_name': 'Region of the Neutron endpoint in the catalog.',
  'neutron.endpoint_type': 'Catalog interface of the Neutron endpoint: public, internal or admin.',
  'neutron.endpoint_override': 'Neutron URL to use instead of the catalog\'s endpoint, for example when the catalog names an address this host cannot reach. Keystone still issues the token.',
  'neutron.default_subnetpool_v4': 'Subnet pool used when `docker network create` has no `--subnet`.',
  'neutron.default_subnetpool_v6': 'IPv6 subnet pool used when there is no `--subnet`.',
  'neutron.enable_dhcp': '`enable_dhcp` of the subnets kuryr creates.',
  'neutron.vif_plugging_is_fatal': 'Wait in CreateEndpoint until the port is ACTIVE, and fail if it does not become ACTIVE in time.',
  'neutron.vif_plugging_timeout': 'Seconds to wait for the port to become ACTIVE.',
  'neutron.timeout': 'kuryr-ts: timeout of one Keystone or Neutron request, in seconds.',
  'binding.driver': 'Binding driver (upstream\'s deprecated name for default_driver).',
  'binding.default_driver': 'Binding driver: veth, macvlan, ipvlan, vlan or sriov, or an upstream module path. Default: veth.',
  'binding.enabled_drivers': 'Comma-separated drivers that may be used; must contain the driver. Default: the driver alone.',
  'binding.link_iface': 'VM interface that carries the containers for the macvlan, ipvlan and vlan drivers.',
};

/** Upstream Kuryr keys that kuryr-ts reads without error but does not use, with the reason. */
export const IGNORED_UPSTREAM_KEYS: Record<string, string> = {
  'DEFAULT.local_default_address_space': 'the address space names are fixed to no_address_space',
  'DEFAULT.global_default_address_space': 'the address space names are fixed to no_address_space',
  'DEFAULT.process_external_connectivity': 'exposed ports always get a security group',
  'DEFAULT.default_port_driver': 'use [binding] driver',
  'DEFAULT.enabled_port_drivers': 'use [binding] enabled_drivers',
  'DEFAULT.port_driver': 'use [binding] driver',
  'DEFAULT.enable_ssl': 'the plugin API is served on a unix socket or loopback TCP without TLS',
  'DEFAULT.ssl_cert_file': 'the plugin API is served without TLS',
  'DEFAULT.ssl_key_file': 'the plugin API is served without TLS',
  'DEFAULT.pybasedir': 'Python only',
  'DEFAULT.deployment_type': 'unused upstream too',
  'DEFAULT.use_syslog': 'logs go to standard output or log_file',
  'DEFAULT.use_stderr': 'logs go to standard output or log_file',
  'neutron.auth_section': 'put the credentials in [neutron] itself',
  'neutron.collect_timing': 'request durations are in the debug log and the metrics',
  'neutron.split_loggers': 'Keystone and Neutron calls share the daemon log',
  'neutron.system_scope': 'kuryr needs a project-scoped token',
  'neutron.domain_id': 'kuryr needs a project-scoped token',
  'neutron.domain_name': 'kuryr needs a project-scoped token',
  'neutron.trust_id': 'trusts are not supported',
  'binding.veth_dst_prefix': 'the container interface prefix is fixed to eth',
};

export interface KeyReference {
  section: SectionName;
  key: string;
  /** The default as text, or undefined when the key has none. */
  defaultValue: string | undefined;
  description: string;
  secret: boolean;
  /** Environment variables that set the key, lowest precedence first. */
  env: string[];
}

function sectionShape(section: SectionName): Record<string, z.ZodType> {
  switch (section) {
    case 'DEFAULT':
      return defaultSectionSchema.shape;
    case 'neutron':
      return neutronSectionSchema.shape;
    case 'binding':
      // The binding section validates its keys together in a transform; its input object has the per-key schemas.
      return (bindingSectionSchema.in as z.ZodObject).shape;
  }
}

/** Lists every key the schema defines, in schema order, with its default, description and variables. */
export function keyReferences(): KeyReference[] {
  const references: KeyReference[] = [];
  for (const section of SECTIONS) {
    for (const [key, schema] of Object.entries(sectionShape(section))) {
      const name = `${section}.${key}`;
      const parsed = schema.safeParse(undefined);
      const value: unknown = parsed.success ? parsed.data : undefined;
      references.push({
        section,
        key,
        defaultValue: value === undefined ? undefined : Array.isArray(value) ? value.join(',') : String(value),
        description: DESCRIPTIONS[name] ?? '',
        secret: SECRET_KEYS.has(name),
        env: [...IMAGE_VARIABLES, ...OPENSTACK_VARIABLES].filter((v) => `${v.section}.${v.key}` === name).map((v) => v.name),
      });
    }
  }
  return references;
}

/** Returns one warning per file key that kuryr-ts does not use: ignored upstream keys and unknown ones. */
export function classifyFileKeys(sections: RawSections, path: string): string[] {
  const known = new Set(keyReferences().map((reference) => `${reference.section}.${reference.key}`));
  const warnings: string[] = [];
  for (const [section, values] of Object.entries(sections)) {
    for (const key of Object.keys(values)) {
      const name = `${section}.${key}`;
      if (known.has(name)) continue;
      const reason = IGNORED_UPSTREAM_KEYS[name];
      warnings.push(
        reason === undefined
          ? `unknown key [${section}] ${key} in "${path}" ignored: check its spelling and section against docs/configuration.md`
          : `upstream key [${section}] ${key} in "${path}" ignored: ${reason}`,
      );
    }
  }
  return warnings;
}
