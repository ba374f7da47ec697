/** Waiting for Neutron's L2 agent to report a wired port as ACTIVE. */
import { KuryrError } from '../errors.js';
import type { Port } from '../neutron/index.js';
import type { ServiceContext } from './context.js';

/**
 * Polls the port until it is ACTIVE. The linuxbridge agent scans for new tap
 * devices every `polling_interval` seconds (2 s by default), so a port usually
 * turns ACTIVE 2-3 s after its tap appears.
 */
export async function waitForPortActive(ctx: ServiceContext, port: Port): Promise<Port> {
  const deadline = ctx.clock.now() + ctx.config.portActiveTimeoutMs;
  let current = port;
  while (current.status !== 'ACTIVE') {
    if (ctx.clock.now() >= deadline) {
      throw new KuryrError(
        'TIMEOUT',
        `port "${port.id}" is still ${current.status} after ${ctx.config.portActiveTimeoutMs / 1000} s: ` +
          `check that a Neutron L2 agent is alive on host "${ctx.config.hostName}" (openstack network agent list --host ${ctx.config.hostName})`,
      );
    }
    await ctx.clock.sleep(ctx.config.portActivePollMs);
    current = await ctx.neutron.ports.get(port.id);
  }
  return current;
}
