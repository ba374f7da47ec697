import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KuryrError } from '../errors.js';
import { encodeQuery } from './filters.js';
import type { NetworkFilters, PortFilters } from './filters.js';

describe('encodeQuery', () => {
  const cases: [string, PortFilters & NetworkFilters, string][] = [
    ['a scalar', { network_id: 'net-1' }, 'network_id=net-1'],
    ['a list as repeated parameters', { id: ['a', 'b'] }, 'id=a&id=b'],
    ['booleans and numbers', { shared: true, mtu: 1450 }, 'shared=true&mtu=1450'],
    [
      'fixed IP conditions',
      { fixed_ips: [{ ip_address: '10.0.0.5' }, { subnet_id: 'subnet-1' }] },
      'fixed_ips=ip_address%3D10.0.0.5&fixed_ips=subnet_id%3Dsubnet-1',
    ],
    [
      'a fixed IP condition with two attributes',
      { fixed_ips: [{ subnet_id: 'subnet-1', ip_address: 'fd00::5' }] },
      'fixed_ips=subnet_id%3Dsubnet-1&fixed_ips=ip_address%3Dfd00%3A%3A5',
    ],
    ['tags joined by commas', { tags: ['a', 'b'], 'not-tags-any': ['c'] }, 'tags=a,b&not-tags-any=c'],
    ['tags with reserved characters', { 'tags-any': ['kuryr.net:abc/1', 'x y'] }, 'tags-any=kuryr.net%3Aabc%2F1,x%20y'],
    ['an attribute name with a colon', { 'binding:host_id': 'node-1' }, 'binding%3Ahost_id=node-1'],
    ['undefined filters left out', { network_id: undefined, name: 'n' }, 'name=n'],
    ['no filters', {}, ''],
  ];
  for (const [name, filters, expected] of cases) {
    it(`encodes ${name}`, () => {
      assert.equal(encodeQuery(filters), expected);
    });
  }

  it('appends fields and limit after the filters', () => {
    assert.equal(encodeQuery({ network_id: 'net-1' }, ['id', 'name'], 50), 'network_id=net-1&fields=id&fields=name&limit=50');
  });

  const invalid: [string, PortFilters, RegExp][] = [
    ['an empty list', { id: [] }, /^invalid filter "id": an empty list would match every resource/],
    ['an empty tag list', { tags: [] }, /^invalid filter "tags": an empty list/],
    ['a tag with a comma', { tags: ['a,b'] }, /^invalid filter "tags": tag "a,b" contains a comma/],
    ['an empty fixed IP condition', { fixed_ips: [{}] }, /^invalid filter "fixed_ips": a condition without attributes/],
  ];
  for (const [name, filters, message] of invalid) {
    it(`rejects ${name}`, () => {
      assert.throws(
        () => encodeQuery(filters),
        (error: unknown) => error instanceof KuryrError && error.code === 'INVALID_REQUEST' && message.test(error.message),
      );
    });
  }
});
