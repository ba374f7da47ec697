/**
 * Request schemas for every libnetwork remote-driver verb, as dockerd 20.10
 * sends them. Bodies are parsed here once; handlers receive typed values.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

/** Docker network and endpoint ids: 64 lowercase hex characters, or 25 characters for swarm ids. */
const dockerId = z.string().regex(/^([0-9a-f]{64}|[0-9a-z]{25})$/, 'expected a 64-character hex Docker id');

const cidrOrEmpty = z
  .string()
  .max(64)
  .refine((value) => value === '' || isCidrLike(value), 'expected a CIDR such as 10.10.0.0/16, or an empty string');

const ipOrEmpty = z
  .string()
  .max(64)
  .refine((value) => value === '' || isIP(value) !== 0, 'expected a bare IP address or an empty string');

const macOrEmpty = z
  .string()
  .regex(/^(|[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5})$/, 'expected a MAC address such as 02:42:0a:0a:00:02');

function isCidrLike(value: string): boolean {
  const [address = '', length, extra] = value.split('/');
  const version = isIP(address);
  if (extra !== undefined || length === undefined || !/^\d{1,3}$/.test(length) || version === 0) return false;
  return Number(length) <= (version === 4 ? 32 : 128);
}

const stringMap = z.record(z.string(), z.unknown());
const optionsMap = stringMap.nullish().transform((value) => value ?? {});

const exposedPort = z.object({ Proto: z.number().int(), Port: z.number().int().min(0).max(65535) });

const ipamDatum = z.object({
  AddressSpace: z.string().max(255).optional().default(''),
  Pool: cidrOrEmpty,
  Gateway: cidrOrEmpty.optional().default(''),
  AuxAddresses: z.record(z.string(), z.string()).nullish().transform((value) => value ?? {}),
});

export const requestPoolSchema = z.object({
  AddressSpace: z.string().max(255).default(''),
  Pool: cidrOrEmpty.default(''),
  SubPool: cidrOrEmpty.default(''),
  Options: z.record(z.string(), z.string()).nullish().transform((value) => value ?? {}),
  V6: z.boolean().default(false),
});

/**
 * PoolIDs are opaque to Docker: ours are Neutron subnet pool UUIDs, with a
 * ":<cidr>" suffix for shared pools. The service layer resolves them; the
 * schema only keeps out empty, oversized and control-character values.
 */
const poolId = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x21-\x7e]+$/, 'expected a PoolID returned by RequestPool (printable ASCII, no spaces)');

export const releasePoolSchema = z.object({ PoolID: poolId });

export const requestAddressSchema = z.object({
  PoolID: poolId,
  Address: ipOrEmpty.default(''),
  Options: z.record(z.string(), z.string()).nullish().transform((value) => value ?? {}),
});

export const releaseAddressSchema = z.object({ PoolID: poolId, Address: ipOrEmpty });

export const createNetworkSchema = z.object({
  NetworkID: dockerId,
  Options: optionsMap,
  IPv4Data: z.array(ipamDatum).max(16).nullish().transform((value) => value ?? []),
  IPv6Data: z.array(ipamDatum).max(16).nullish().transform((value) => value ?? []),
});

export const deleteNetworkSchema = z.object({ NetworkID: dockerId });

export const createEndpointSchema = z.object({
  NetworkID: dockerId,
  EndpointID: dockerId,
  Interface: z
    .object({
      Address: cidrOrEmpty.optional().default(''),
      AddressIPv6: cidrOrEmpty.optional().default(''),
      MacAddress: macOrEmpty.optional().default(''),
    })
    .nullish()
    .transform((value) => value ?? { Address: '', AddressIPv6: '', MacAddress: '' }),
  Options: optionsMap,
});

export const endpointSchema = z.object({ NetworkID: dockerId, EndpointID: dockerId });

export const joinSchema = z.object({
  NetworkID: dockerId,
  EndpointID: dockerId,
  SandboxKey: z.string().min(1).max(4096),
  Options: optionsMap,
});

export const externalConnectivitySchema = z.object({
  NetworkID: dockerId,
  EndpointID: dockerId,
  Options: optionsMap,
});

export const allocateNetworkSchema = z.object({
  NetworkID: dockerId,
  Options: optionsMap,
  IPv4Data: z.array(ipamDatum).nullish(),
  IPv6Data: z.array(ipamDatum).nullish(),
});

export const freeNetworkSchema = z.object({ NetworkID: dockerId });

export const discoverSchema = z.object({ DiscoveryType: z.number().int(), DiscoveryData: z.unknown() });

export type RequestPool = z.infer<typeof requestPoolSchema>;
export type ReleasePool = z.infer<typeof releasePoolSchema>;
export type RequestAddress = z.infer<typeof requestAddressSchema>;
export type ReleaseAddress = z.infer<typeof releaseAddressSchema>;
export type CreateNetwork = z.infer<typeof createNetworkSchema>;
export type IpamDatum = z.infer<typeof ipamDatum>;
export type DeleteNetwork = z.infer<typeof deleteNetworkSchema>;
export type AllocateNetwork = z.infer<typeof allocateNetworkSchema>;
export type FreeNetwork = z.infer<typeof freeNetworkSchema>;
export type CreateEndpoint = z.infer<typeof createEndpointSchema>;
export type EndpointRequest = z.infer<typeof endpointSchema>;
export type Join = z.infer<typeof joinSchema>;
export type ExternalConnectivity = z.infer<typeof externalConnectivitySchema>;
export type ExposedPort = z.infer<typeof exposedPort>;

export const exposedPortsSchema = z.array(exposedPort).nullish().transform((value) => value ?? []);

/** The generic `-o key=value` options of `docker network create`. */
export const genericOptionsSchema = z.record(z.string(), z.string()).nullish().transform((value) => value ?? {});

export interface StaticRoute {
  Destination: string;
  RouteType: number;
  NextHop?: string;
}

export interface JoinReply {
  InterfaceName: { SrcName: string; DstPrefix: string };
  Gateway?: string;
  GatewayIPv6?: string;
  StaticRoutes?: StaticRoute[];
  DisableGatewayService: boolean;
}

/** The operations the protocol layer needs from the service layer, one per verb that does work. */
export interface DriverService {
  requestPool(request: RequestPool): Promise<{ PoolID: string; Pool: string; Data: Record<string, string> }>;
  releasePool(request: ReleasePool): Promise<void>;
  requestAddress(request: RequestAddress): Promise<{ Address: string; Data: Record<string, string> }>;
  releaseAddress(request: ReleaseAddress): Promise<void>;
  createNetwork(request: CreateNetwork): Promise<void>;
  deleteNetwork(request: DeleteNetwork): Promise<void>;
  allocateNetwork(request: AllocateNetwork): Promise<{ Options: Record<string, unknown> }>;
  freeNetwork(request: FreeNetwork): Promise<void>;
  createEndpoint(request: CreateEndpoint): Promise<{ Interface: { MacAddress?: string } }>;
  endpointOperInfo(request: EndpointRequest): Promise<{ Value: Record<string, unknown> }>;
  deleteEndpoint(request: EndpointRequest): Promise<void>;
  join(request: Join): Promise<JoinReply>;
  leave(request: EndpointRequest): Promise<void>;
  programExternalConnectivity(request: ExternalConnectivity): Promise<void>;
  revokeExternalConnectivity(request: EndpointRequest): Promise<void>;
}
