/**
 * Allowed address pairs on the VM port. Neutron's port security drops frames from the VM port
 * whose source IP and MAC are not the port's own, so every nested container's IP (and the MAC it
 * sends from) must be added as a pair.
 */
import type { Logger } from 'pino';
import { KuryrError, OpenStackHttpError, isHttpStatus } from '../../errors.js';
import type { AddressPair, NeutronClient, Port } from '../../neutron/index.js';
import type { PerKeyQueue } from './serialize.js';

/**
 * Attempts of one read-modify-write. Each 412 means another writer changed the port in between,
 * and the next attempt starts from what that writer stored, so this bounds writers that race for
 * the same port at the same moment, not the total number of containers.
 */
export const MAX_PAIR_UPDATE_ATTEMPTS = 8;

export interface PairUpdateContext {
  neutron: Pick<NeutronClient, 'ports'>;
  queue: PerKeyQueue;
  logger: Logger;
}

/** Adds `pairs` to the port, keeping every other pair. Pairs already present are not duplicated. */
export function addAddressPairs(context: PairUpdateContext, vmPortId: string, pairs: readonly AddressPair[]): Promise<Port> {
  return updateAddressPairs(context, vmPortId, 'add', (current) => [...current, ...pairs.filter((pair) => !current.some((kept) => samePair(kept, pair)))]);
}

/** Removes `pairs` from the port, keeping every other pair. A pair that is already gone counts as removed. */
export function removeAddressPairs(context: PairUpdateContext, vmPortId: string, pairs: readonly AddressPair[]): Promise<Port> {
  return updateAddressPairs(context, vmPortId, 'remove', (current) => current.filter((kept) => !pairs.some((pair) => samePair(kept, pair))));
}

/**
 * Reads the port, applies `change` to its pairs and writes them back with
 * `If-Match: revision_number=N`. Neutron returns 412 when another writer updated the port after
 * the read; the update is then re-read and re-applied, so no writer's pairs are lost. Upstream
 * Kuryr writes without a revision check and can drop a concurrent bind's pair.
 */
async function updateAddressPairs(
  context: PairUpdateContext,
  vmPortId: string,
  action: 'add' | 'remove',
  change: (current: AddressPair[]) => AddressPair[],
): Promise<Port> {
  return context.queue.run(`port:${vmPortId}`, async () => {
    for (let attempt = 1; ; attempt += 1) {
      const port = await context.neutron.ports.get(vmPortId);
      const current = port.allowed_address_pairs.map((pair) => ({ ip_address: pair.ip_address, mac_address: pair.mac_address ?? port.mac_address }));
      const next = change(current);
      if (next.length === current.length && next.every((pair, index) => samePair(pair, current[index]))) return port;

      try {
        return await context.neutron.ports.update(vmPortId, { allowed_address_pairs: next }, { ifMatchRevision: port.revision_number });
      } catch (error) {
        if (error instanceof OpenStackHttpError && error.faultType === 'AllowedAddressPairExhausted') throw pairLimitReached(vmPortId, error);
        if (!isHttpStatus(error, 412)) throw error;
        if (attempt >= MAX_PAIR_UPDATE_ATTEMPTS) {
          throw new KuryrError(
            'CONFLICT',
            `cannot ${action} allowed address pairs on VM port "${vmPortId}": it changed during each of ${attempt} attempts`,
            { cause: error },
          );
        }
        context.logger.warn({ vmPortId, attempt, revision: port.revision_number }, 'VM port changed during an allowed address pair update; retrying');
      }
    }
  });
}

/** Neutron caps pairs per port with `max_allowed_address_pair` (10 by default in Neutron 21). */
function pairLimitReached(vmPortId: string, cause: OpenStackHttpError): KuryrError {
  return new KuryrError(
    'CONFLICT',
    `VM port "${vmPortId}" has no room for more allowed address pairs (${cause.message}): run fewer containers on this VM, ` +
      'or raise max_allowed_address_pair in neutron.conf',
    { cause },
  );
}

function samePair(left: AddressPair, right: AddressPair | undefined): boolean {
  return right !== undefined && left.ip_address === right.ip_address && (left.mac_address ?? '').toLowerCase() === (right.mac_address ?? '').toLowerCase();
}
