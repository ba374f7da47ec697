/**
 * kuryr.conf: the INI file upstream Kuryr reads, with the same sections and
 * keys. Only the keys below are used so far; others are reported as unknown.
 */
import { z } from 'zod';
import { bindingSectionSchema } from './binding.js';

const bool = z
  .union([z.boolean(), z.string()])
  .transform((value, context) => {
    if (typeof value === 'boolean') return value;
    const lowered = value.trim().toLowerCase();
    if (['true', 'yes', '1', 'on'].includes(lowered)) return true;
    if (['false', 'no', '0', 'off'].includes(lowered)) return false;
    context.addIssue({ code: 'custom', message: `expected true or false, got "${value}"` });
    return z.NEVER;
  });

const seconds = z.coerce.number().min(0).max(3600);

/** A non-empty string that stays undefined when the key is absent. */
const optionalText = z.string().min(1).optional();

/** `host:port` of the metrics listener; empty or `0` turns it off. */
const listenAddress = z
  .string()
  .trim()
  .regex(/^(|0|(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5})$/, 'expected host:port such as 127.0.0.1:9797, or 0 to turn metrics off');

export const defaultSectionSchema = z.object({
  kuryr_uri: z.string().default('http://127.0.0.1:23750'),
  capability_scope: z.enum(['local', 'global']).default('local'),
  bindir: z.string().default('/usr/libexec/kuryr'),
  subnetpool_name_prefix: z.string().min(1).max(200).default('kuryrPool'),
  /** kuryr-ts: the libnetwork plugin socket. */
  socket_path: z.string().default('/run/docker/plugins/kuryr.sock'),
  /** kuryr-ts: also serve on kuryr_uri over TCP and write a spec file for it. */
  enable_tcp: bool.default(false),
  /** kuryr-ts: binding:host_id for ports; must match the L2 agent's `host`. Defaults to the system host name. */
  host: z.string().optional(),
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  /** oslo.log's switch: true sets log_level to debug. */
  debug: bool.default(false),
  /** oslo.log's log file; relative names are joined to log_dir. Without it the daemon logs to stdout. */
  log_file: optionalText,
  log_dir: optionalText,
  /** kuryr-ts: Prometheus metrics, /healthz and /readyz. */
  metrics_address: listenAddress.default('127.0.0.1:9797'),
  /** kuryr-ts: directory of the journal of port deletes still pending. */
  state_dir: z.string().trim().startsWith('/', 'expected an absolute path such as /var/lib/kuryr').default('/var/lib/kuryr'),
  /** kuryr-ts: delete released ports after replying to Docker. */
  delete_ports_in_background: bool.default(true),
});

export const neutronSectionSchema = z.object({
  // The credential keys are optional here because the environment and
  // clouds.yaml may supply them; resolveKeystoneSettings checks that the
  // chosen auth_type has what it needs.
  auth_url: z.string().url('expected a URL such as http://keystone:5000/v3').optional(),
  auth_type: z
    .enum(['password', 'v3password', 'v3applicationcredential', 'applicationcredential', 'token', 'v3token'])
    .optional(),
  username: optionalText,
  user_id: optionalText,
  password: optionalText,
  project_name: optionalText,
  project_id: optionalText,
  user_domain_name: z.string().default('Default'),
  user_domain_id: optionalText,
  project_domain_name: z.string().default('Default'),
  project_domain_id: optionalText,
  application_credential_id: optionalText,
  application_credential_name: optionalText,
  application_credential_secret: optionalText,
  token: optionalText,
  cafile: optionalText,
  certfile: optionalText,
  keyfile: optionalText,
  insecure: bool.default(false),
  region_name: z.string().optional(),
  endpoint_type: z.enum(['public', 'internal', 'admin']).default('public'),
  /** keystoneauth's adapter option: a fixed Neutron URL used in place of the catalog's endpoint. */
  endpoint_override: z.url({ protocol: /^https?$/, error: 'expected an http or https URL such as http://neutron:9696' }).optional(),
  default_subnetpool_v4: z.string().default('kuryr'),
  default_subnetpool_v6: z.string().default('kuryr6'),
  enable_dhcp: bool.default(false),
  vif_plugging_is_fatal: bool.default(true),
  vif_plugging_timeout: seconds.default(60),
  /** kuryr-ts: timeout of one Neutron or Keystone request, in seconds. */
  timeout: seconds.default(10),
});

export const configSchema = z.object({
  DEFAULT: defaultSectionSchema.default(defaultSectionSchema.parse({})),
  neutron: neutronSectionSchema.default(neutronSectionSchema.parse({})),
  binding: bindingSectionSchema.default(bindingSectionSchema.parse({})),
});

export type KuryrConfig = z.infer<typeof configSchema>;
