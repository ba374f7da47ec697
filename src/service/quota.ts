/**
 * Turns Neutron's OverQuota reply (HTTP 409) into an error that names the
 * resource, its limit and usage, and the project, so `docker` shows what to
 * raise or clean up. Neutron 21 names only the resources ("Quota exceeded for
 * resources: ['port']"), so the limit is read from the quota details.
 */
import { KuryrError, OpenStackHttpError } from '../errors.js';
import type { QuotaDetail } from '../neutron/index.js';
import type { ServiceContext } from './context.js';

/** The `openstack quota set` flag of each Neutron quota resource. */
const QUOTA_FLAGS: Readonly<Record<string, string>> = {
  network: '--networks',
  subnet: '--subnets',
  subnetpool: '--subnetpools',
  port: '--ports',
  router: '--routers',
  floatingip: '--floating-ips',
  security_group: '--secgroups',
  security_group_rule: '--secgroup-rules',
  rbac_policy: '--rbac-policies',
};

export function isOverQuota(error: unknown): error is OpenStackHttpError {
  return error instanceof OpenStackHttpError && error.faultType === 'OverQuota';
}

/** Extracts the resource names from Neutron's message, for example `['port', 'floatingip']`. */
export function overQuotaResources(message: string): string[] {
  const list = /resources?:\s*\[([^\]]*)\]/.exec(message)?.[1];
  if (list === undefined) return [];
  return list
    .split(',')
    .map((item) => item.trim().replace(/^['"]|['"]$/g, ''))
    .filter((item) => item !== '');
}

/**
 * Returns the error to show for a failed verb. An OverQuota reply becomes a
 * CONFLICT naming resource, limit and project. Any other error is returned as it is.
 */
export async function explainOverQuota(ctx: ServiceContext, error: unknown): Promise<unknown> {
  if (!isOverQuota(error)) return error;
  const resources = overQuotaResources(error.message);

  // NOTE: kuryr creates its resources in the project its token is scoped to, so that is the project whose quota ran out.
  let projectId: string | undefined;
  let details: Record<string, QuotaDetail> | undefined;
  try {
    projectId = await ctx.neutron.quotas.callerProjectId();
    details = await ctx.neutron.quotas.details(projectId);
  } catch (lookupError) {
    ctx.logger.warn({ err: lookupError }, 'cannot read the Neutron quota for an OverQuota error');
  }
  const project = projectId === undefined ? "kuryr's project" : `project "${projectId}"`;
  const names = resources.length === 0 ? ['unknown resource'] : resources;
  const limits = names.map((name) => describeLimit(name, details?.[name])).join(', ');
  const flags = names.map((name) => `${QUOTA_FLAGS[name] ?? `--${name}`} <n>`).join(' ');
  return new KuryrError(
    'CONFLICT',
    `Neutron quota exceeded in ${project}: ${limits}: delete unused resources, or raise the quota with openstack quota set ${flags} ${projectId ?? '<project>'}`,
    { cause: error },
  );
}

function describeLimit(name: string, detail: QuotaDetail | undefined): string {
  if (detail === undefined) return `${name} limit unknown`;
  return `${name} limit ${detail.limit}, ${detail.used} in use`;
}
