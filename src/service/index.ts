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

export { ServiceContext, systemClock, type Clock, type ServiceConfig } from './context.js';

export function createDriverService(ctx: ServiceContext): DriverService {
  return {
    requestPool: (request) => requestPool(ctx, request),
    releasePool: (request) => releasePool(ctx, request),
    requestAddress: (request) => requestAddress(ctx, request),
    releaseAddress: (request) => releaseAddress(ctx, request),
    createNetwork: (request) => createNetwork(ctx, request),
    deleteNetwork: (request) => deleteNetwork(ctx, request),
    createEndpoint: (request) => createEndpoint(ctx, request),
    endpointOperInfo: (request) => endpointOperInfo(ctx, request),
    deleteEndpoint: (request) => deleteEndpoint(ctx, request),
    join: (request) => join(ctx, request),
    // The veth pair stays until DeleteEndpoint; Docker moves the container end back or destroys it with the sandbox.
    leave: async () => {},
    programExternalConnectivity: (request) => programExternalConnectivity(ctx, request),
    revokeExternalConnectivity: (request) => revokeExternalConnectivity(ctx, request),
  };
}
