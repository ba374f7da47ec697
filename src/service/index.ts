/**
 * The service layer: one DriverService whose verbs map libnetwork calls onto
 * Neutron resources and host devices.
 */
import type { DriverService } from '../protocol/index.js';
import type { ServiceContext } from './context.js';
import { createEndpoint, deleteEndpoint, endpointOperInfo, join } from './endpoints.js';
import { programExternalConnectivity, revokeExternalConnectivity } from './exposed-ports.js';
import { releaseAddress, requestAddress } from './ipam-addresses.js';
import { releasePool, requestPool } from './ipam-pools.js';
import { createNetwork, deleteNetwork } from './networks.js';
import { allocateNetwork, freeNetwork } from './swarm.js';
import { explainOverQuota } from './quota.js';

export { ServiceContext, systemClock, type Clock, type ServiceConfig } from './context.js';
export { FileJournal, MemoryJournal, PortReaper, type DeleteJournal, type PendingDelete } from './port-reaper.js';

export function createDriverService(ctx: ServiceContext): DriverService {
  // Every verb that creates Neutron resources can hit a quota, so the OverQuota mapping sits here once.
  const explained = <A, R>(verb: (ctx: ServiceContext, request: A) => Promise<R>) => async (request: A): Promise<R> => {
    try {
      return await verb(ctx, request);
    } catch (error) {
      throw await explainOverQuota(ctx, error);
    }
  };
  return {
    requestPool: explained(requestPool),
    releasePool: (request) => releasePool(ctx, request),
    requestAddress: explained(requestAddress),
    releaseAddress: (request) => releaseAddress(ctx, request),
    createNetwork: explained(createNetwork),
    deleteNetwork: (request) => deleteNetwork(ctx, request),
    allocateNetwork: (request) => allocateNetwork(ctx, request),
    freeNetwork: (request) => freeNetwork(ctx, request),
    createEndpoint: explained(createEndpoint),
    endpointOperInfo: (request) => endpointOperInfo(ctx, request),
    deleteEndpoint: (request) => deleteEndpoint(ctx, request),
    join: (request) => join(ctx, request),
    // The veth pair stays until DeleteEndpoint; Docker moves the container end back or destroys it with the sandbox.
    leave: async () => {},
    programExternalConnectivity: explained(programExternalConnectivity),
    revokeExternalConnectivity: (request) => revokeExternalConnectivity(ctx, request),
  };
}
