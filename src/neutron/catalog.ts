/**
 * The Keystone v3 service catalog and endpoint lookup.
 */
import { z } from 'zod';
import { KuryrError } from '../errors.js';

export type EndpointInterface = 'public' | 'internal' | 'admin';

export interface EndpointQuery {
  /** Catalog service type, `network` for Neutron. */
  serviceType: string;
  interface: EndpointInterface;
  /** Region id. It may be left out when the catalog lists the service in only one region. */
  region?: string;
}

const endpointSchema = z.looseObject({
  interface: z.string(),
  url: z.string(),
  region_id: z.string().nullish(),
  // `region` is the older, deprecated spelling of `region_id`. Keystone still sends both.
  region: z.string().nullish(),
});

export const catalogSchema = z.array(
  z.looseObject({
    type: z.string(),
    endpoints: z.array(endpointSchema),
  }),
);

export type ServiceCatalog = z.infer<typeof catalogSchema>;
type CatalogEndpoint = z.infer<typeof endpointSchema>;

/**
 * Returns the URL of the endpoint that matches the query, without trailing slashes.
 * Throws CONFIG_INVALID when no endpoint matches, or when several regions match
 * and the query names none. The message lists what the catalog offers.
 */
export function findEndpoint(catalog: ServiceCatalog, query: EndpointQuery): string {
  const ofType = catalog.filter((service) => service.type === query.serviceType).flatMap((service) => service.endpoints);
  const matching = ofType.filter(
    (endpoint) =>
      endpoint.interface === query.interface && (query.region === undefined || regionOf(endpoint) === query.region),
  );

  const wanted = describeQuery(query);
  const regions = new Set(matching.map(regionOf));
  if (regions.size > 1) {
    const listed = [...regions].map((region) => `"${region}"`).join(', ');
    throw new KuryrError('CONFIG_INVALID', `ambiguous ${wanted} in the Keystone catalog: regions ${listed} match, so set the region`);
  }

  const first = matching[0];
  if (first === undefined) {
    throw new KuryrError('CONFIG_INVALID', `no ${wanted} in the Keystone catalog: ${describeOffer(query.serviceType, ofType)}`);
  }
  return first.url.replace(/\/+$/, '');
}

function regionOf(endpoint: CatalogEndpoint): string {
  return endpoint.region_id ?? endpoint.region ?? '';
}

function describeQuery(query: EndpointQuery): string {
  const region = query.region === undefined ? '' : ` in region "${query.region}"`;
  return `"${query.serviceType}" endpoint with interface "${query.interface}"${region}`;
}

function describeOffer(serviceType: string, endpoints: CatalogEndpoint[]): string {
  if (endpoints.length === 0) return `the catalog has no "${serviceType}" service`;
  const offered = endpoints.map((endpoint) => `${endpoint.interface} in region "${regionOf(endpoint)}"`);
  return `the catalog has ${offered.join(', ')}`;
}
