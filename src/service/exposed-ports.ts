/**
 * NetworkDriver.ProgramExternalConnectivity and RevokeExternalConnectivity.
 * The container ports of `--expose` and `-p` become one security group per
 * endpoint, `kuryr-exposed-<port id>`, with an ingress rule per protocol and
 * port range for both IPv4 and IPv6. The group sits beside the port's other
 * groups (usually the project default), so it only adds allowed traffic.
 */
import { formatIssues, isHttpStatus, KuryrError } from '../errors.js';
import type { Port, SecurityGroup, SecurityGroupRuleCreate } from '../neutron/index.js';
import { exposedPortsSchema, type EndpointRequest, type ExternalConnectivity } from '../protocol/index.js';
import type { ServiceContext } from './context.js';
import { findEndpoint } from './endpoints.js';
import { dockerIdTags } from './naming.js';

const EXPOSED_PORTS_OPTION = 'com.docker.network.endpoint.exposedports';
const PORT_MAP_OPTION = 'com.docker.network.portmap';
/** Tag on every exposed-ports security group, beside the endpoint's Docker id tags. */
export const EXPOSED_PORTS_TAG = 'kuryr.exposed';
const GROUP_NAME_PREFIX = 'kuryr-exposed-';
const ETHERTYPES = ['IPv4', 'IPv6'] as const;

/** IANA protocol numbers that Docker sends in `Proto`, and their Neutron names. */
const PROTOCOL_NAMES: ReadonlyMap<number, string> = new Map([
  [6, 'tcp'],
  [17, 'udp'],
  [132, 'sctp'],
]);

/** A run of consecutive ports of one protocol: one ingress rule per ethertype. */
export interface PortRange {
  protocol: string;
  min: number;
  max: number;
}

export function exposedGroupName(portId: string): string {
  return `${GROUP_NAME_PREFIX}${portId}`;
}

export async function programExternalConnectivity(ctx: ServiceContext, request: ExternalConnectivity): Promise<void> {
  // Parsed first, so an unsupported protocol is rejected before any Neutron change.
  const ranges = exposedPortRanges(request.Options);
  if (ranges.length === 0) {
    // Remembered, so Revoke and the port's deletion skip their group lookups.
    const cached = ctx.endpoints.get(request.EndpointID);
    if (cached !== undefined) ctx.exposedGroups.set(cached.port.id, []);
    return;
  }

  await ctx.locks.run(`endpoint:${request.EndpointID}`, async () => {
    const endpoint = await findEndpoint(ctx, request);
    if (endpoint === undefined) {
      throw new KuryrError('NOT_FOUND', `endpoint "${request.EndpointID}" has no Neutron port: recreate the container's endpoint`);
    }
    const port = await ctx.neutron.ports.get(endpoint.port.id);
    // Without port security Neutron filters nothing on the port, so every port is already reachable.
    if (port.port_security_enabled === false) {
      ctx.logger.info({ endpointId: request.EndpointID, portId: port.id }, 'port security is disabled, so exposed ports need no security group');
      return;
    }

    const { group, created } = await ensureGroup(ctx, port, request.EndpointID);
    ctx.exposedGroups.delete(port.id);
    try {
      await ensureRules(ctx, group, port.project_id, ranges);
      if (!port.security_groups.includes(group.id)) {
        endpoint.port = await updateSecurityGroups(ctx, port, (groups) => [...groups.filter((id) => id !== group.id), group.id]);
      }
    } catch (error) {
      if (created) await rollBackGroup(ctx, group.id, error);
      throw error;
    }
    ctx.logger.info({ endpointId: request.EndpointID, portId: port.id, securityGroupId: group.id, ranges }, 'exposed ports programmed');
  });
}

export async function revokeExternalConnectivity(ctx: ServiceContext, request: EndpointRequest): Promise<void> {
  await ctx.locks.run(`endpoint:${request.EndpointID}`, async () => {
    const cached = ctx.endpoints.get(request.EndpointID);
    if (cached !== undefined && ctx.exposedGroups.get(cached.port.id)?.length === 0) return;
    const groups = await ctx.neutron.securityGroups.list({ tags: [EXPOSED_PORTS_TAG, ...dockerIdTags(request.EndpointID)], fields: ['id'] });
    if (groups.length === 0) return;
    const groupIds = groups.map((group) => group.id);

    const endpoint = await findEndpoint(ctx, request);
    if (endpoint !== undefined) {
      const port = await detachGroups(ctx, endpoint.port.id, groupIds);
      if (port !== undefined) endpoint.port = port;
    }

    // Already gone counts as success: a repeated Revoke, or a port deletion that already cleaned up.
    for (const id of groupIds) await ctx.neutron.securityGroups.delete(id, { ignoreNotFound: true });
    if (endpoint !== undefined) ctx.exposedGroups.set(endpoint.port.id, []);
    ctx.logger.info({ endpointId: request.EndpointID, securityGroupIds: groupIds }, 'exposed ports revoked');
  });
}

/**
 * Deletes the exposed-ports security group of a port that is already deleted.
 * Neutron drops the port's group associations with the port, so the group is
 * free. Docker may delete the port without a Revoke (a failed container
 * start), and this keeps the group from leaking.
 */
export async function deleteExposedPortsGroup(ctx: ServiceContext, portId: string): Promise<void> {
  const known = ctx.exposedGroups.get(portId);
  ctx.exposedGroups.delete(portId);
  if (known?.length === 0) return;
  // By name alone: a crash between the group's create and its tag update leaves it untagged.
  const groups = await ctx.neutron.securityGroups.list({ name: exposedGroupName(portId), fields: ['id'] });
  for (const group of groups) {
    await ctx.neutron.securityGroups.delete(group.id, { ignoreNotFound: true });
    ctx.logger.info({ portId, securityGroupId: group.id }, 'exposed-ports security group of a deleted port deleted');
  }
}

/**
 * Collects the container ports of `--expose` and `-p` from the Options and
 * merges consecutive ports of one protocol into ranges, sorted by protocol
 * and port. Throws INVALID_REQUEST for a malformed list, port 0 or a protocol
 * other than tcp, udp and sctp.
 */
export function exposedPortRanges(options: Record<string, unknown>): PortRange[] {
  const ports = new Map<string, Set<number>>();
  for (const key of [EXPOSED_PORTS_OPTION, PORT_MAP_OPTION]) {
    const parsed = exposedPortsSchema.safeParse(options[key]);
    if (!parsed.success) throw new KuryrError('INVALID_REQUEST', `invalid option "${key}": ${formatIssues(parsed.error.issues)}`);
    for (const { Proto, Port } of parsed.data) {
      const protocol = PROTOCOL_NAMES.get(Proto);
      if (protocol === undefined) {
        throw new KuryrError('INVALID_REQUEST', `port ${Port} in option "${key}" has unsupported protocol number ${Proto}: use tcp (6), udp (17) or sctp (132)`);
      }
      if (Port === 0) throw new KuryrError('INVALID_REQUEST', `port 0/${protocol} in option "${key}" is invalid: expected a port from 1 to 65535`);
      ports.set(protocol, (ports.get(protocol) ?? new Set()).add(Port));
    }
  }

  const ranges: PortRange[] = [];
  for (const protocol of [...ports.keys()].sort()) {
    const sorted = [...(ports.get(protocol) ?? [])].sort((a, b) => a - b);
    for (const port of sorted) {
      const last = ranges.at(-1);
      if (last !== undefined && last.protocol === protocol && last.max + 1 === port) last.max = port;
      else ranges.push({ protocol, min: port, max: port });
    }
  }
  return ranges;
}

/** Finds the port's group from an earlier Program (a re-sent request), or creates and tags it. */
async function ensureGroup(ctx: ServiceContext, port: Port, endpointId: string): Promise<{ group: SecurityGroup; created: boolean }> {
  // By name alone, so a group left untagged by a crash after its create is found and its tags completed.
  const found = (await ctx.neutron.securityGroups.list({ name: exposedGroupName(port.id) }))[0];
  if (found !== undefined) {
    if (!(found.tags ?? []).includes(EXPOSED_PORTS_TAG)) {
      found.tags = await ctx.neutron.replaceTags('security-groups', found.id, [EXPOSED_PORTS_TAG, ...dockerIdTags(endpointId)]);
    }
    return { group: found, created: false };
  }

  let group: SecurityGroup;
  try {
    group = await ctx.neutron.securityGroups.create({
      name: exposedGroupName(port.id),
      description: `kuryr-ts exposed and published ports of Docker endpoint ${endpointId}`,
      project_id: port.project_id,
    });
  } catch (error) {
    // The POST may have succeeded with a lost or unreadable reply, so the group is looked up by name.
    await deleteGroupsNamed(ctx, exposedGroupName(port.id), error);
    throw error;
  }
  // Neutron rejects tags in a POST, so they take a second call.
  try {
    group.tags = await ctx.neutron.replaceTags('security-groups', group.id, [EXPOSED_PORTS_TAG, ...dockerIdTags(endpointId)]);
  } catch (error) {
    await rollBackGroup(ctx, group.id, error);
    throw error;
  }
  return { group, created: true };
}

/** Creates the ingress rules the group lacks, so a re-sent Program completes a group a crash left half done. */
async function ensureRules(ctx: ServiceContext, group: SecurityGroup, projectId: string, ranges: PortRange[]): Promise<void> {
  const existing = new Set(
    group.security_group_rules
      .filter((rule) => rule.direction === 'ingress' && rule.remote_ip_prefix === null && rule.remote_group_id === null)
      .map((rule) => ruleKey(rule.ethertype, rule.protocol, rule.port_range_min, rule.port_range_max)),
  );
  for (const range of ranges) {
    for (const ethertype of ETHERTYPES) {
      if (existing.has(ruleKey(ethertype, range.protocol, range.min, range.max))) continue;
      const rule: SecurityGroupRuleCreate = {
        security_group_id: group.id,
        direction: 'ingress',
        ethertype,
        protocol: range.protocol,
        port_range_min: range.min,
        port_range_max: range.max,
        project_id: projectId,
      };
      await ctx.neutron.securityGroupRules.create(rule);
    }
  }
}

function ruleKey(ethertype: string, protocol: string | null, min: number | null, max: number | null): string {
  return `${ethertype} ${protocol ?? 'any'} ${min ?? 'any'}-${max ?? 'any'}`;
}

/** Removes the groups from the port; returns undefined when the port is already gone. */
async function detachGroups(ctx: ServiceContext, portId: string, groupIds: string[]): Promise<Port | undefined> {
  let port: Port;
  try {
    port = await ctx.neutron.ports.get(portId);
  } catch (error) {
    // A deleted port has no group associations left to remove.
    if (isHttpStatus(error, 404)) return undefined;
    throw error;
  }
  if (!port.security_groups.some((id) => groupIds.includes(id))) return port;
  return updateSecurityGroups(ctx, port, (groups) => groups.filter((id) => !groupIds.includes(id)));
}

/**
 * Sets the port's security groups to `change(current groups)`, guarded by the
 * port's revision so a concurrent change to the list (another group, an
 * operator's edit) is not lost. On 412 the port is read again and the update
 * is tried once more.
 */
async function updateSecurityGroups(ctx: ServiceContext, port: Port, change: (groups: string[]) => string[]): Promise<Port> {
  try {
    return await ctx.neutron.ports.update(port.id, { security_groups: change(port.security_groups) }, { ifMatchRevision: port.revision_number });
  } catch (error) {
    if (!isHttpStatus(error, 412)) throw error;
    ctx.logger.warn({ portId: port.id, revision: port.revision_number }, 'port changed while its security groups were updated; reading it again');
  }
  const current = await ctx.neutron.ports.get(port.id);
  return ctx.neutron.ports.update(port.id, { security_groups: change(current.security_groups) }, { ifMatchRevision: current.revision_number });
}

async function deleteGroupsNamed(ctx: ServiceContext, name: string, cause: unknown): Promise<void> {
  try {
    const groups = await ctx.neutron.securityGroups.list({ name, fields: ['id'] });
    for (const group of groups) await ctx.neutron.securityGroups.delete(group.id, { ignoreNotFound: true });
  } catch (error) {
    ctx.logger.error({ securityGroupName: name, err: error, cause }, 'rollback failed: the exposed-ports security group may be left in Neutron');
  }
}

async function rollBackGroup(ctx: ServiceContext, groupId: string, cause: unknown): Promise<void> {
  try {
    await ctx.neutron.securityGroups.delete(groupId, { ignoreNotFound: true });
  } catch (error) {
    ctx.logger.error({ securityGroupId: groupId, err: error, cause }, 'rollback failed: the exposed-ports security group is left in Neutron');
  }
}
