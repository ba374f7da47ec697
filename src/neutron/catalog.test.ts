import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KuryrError } from '../errors.js';
import { findEndpoint } from './catalog.js';
import type { EndpointQuery, ServiceCatalog } from './catalog.js';

const catalog: ServiceCatalog = [
  {
    type: 'network',
    endpoints: [
      { interface: 'public', region_id: 'RegionOne', region: 'RegionOne', url: 'http://127.0.0.1:9696/' },
      { interface: 'internal', region_id: 'RegionOne', region: 'RegionOne', url: 'http://127.0.0.2:9696' },
      { interface: 'public', region_id: 'RegionTwo', region: 'RegionTwo', url: 'http://127.0.0.3:9696//' },
      // Older catalogs carry only the deprecated `region` attribute.
      { interface: 'admin', region: 'RegionOne', url: 'http://127.0.0.4:9696/' },
    ],
  },
  { type: 'identity', endpoints: [{ interface: 'public', region_id: 'RegionOne', url: 'http://127.0.0.1:5000/v3' }] },
];

describe('findEndpoint', () => {
  const found: [string, EndpointQuery, string][] = [
    ['public in RegionOne', { serviceType: 'network', interface: 'public', region: 'RegionOne' }, 'http://127.0.0.1:9696'],
    ['public in RegionTwo', { serviceType: 'network', interface: 'public', region: 'RegionTwo' }, 'http://127.0.0.3:9696'],
    ['internal in its only region', { serviceType: 'network', interface: 'internal' }, 'http://127.0.0.2:9696'],
    ['admin by legacy region', { serviceType: 'network', interface: 'admin', region: 'RegionOne' }, 'http://127.0.0.4:9696'],
  ];
  for (const [name, query, url] of found) {
    it(`finds ${name}`, () => {
      assert.equal(findEndpoint(catalog, query), url);
    });
  }

  const missing: [string, EndpointQuery, string][] = [
    [
      'an interface absent from the region',
      { serviceType: 'network', interface: 'internal', region: 'RegionTwo' },
      'no "network" endpoint with interface "internal" in region "RegionTwo" in the Keystone catalog: the catalog has ' +
        'public in region "RegionOne", internal in region "RegionOne", public in region "RegionTwo", admin in region "RegionOne"',
    ],
    [
      'an unknown service type',
      { serviceType: 'compute', interface: 'public' },
      'no "compute" endpoint with interface "public" in the Keystone catalog: the catalog has no "compute" service',
    ],
    [
      'a query that several regions match',
      { serviceType: 'network', interface: 'public' },
      'ambiguous "network" endpoint with interface "public" in the Keystone catalog: regions "RegionOne", "RegionTwo" match, so set the region',
    ],
  ];
  for (const [name, query, message] of missing) {
    it(`rejects ${name}`, () => {
      assert.throws(
        () => findEndpoint(catalog, query),
        (error: unknown) => error instanceof KuryrError && error.code === 'CONFIG_INVALID' && error.message === message,
      );
    });
  }
});
