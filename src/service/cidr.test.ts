import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allocationPools, defaultGateway, findFreeSubnet, formatCidr, formatIp, parseCidr, parseIp } from './cidr.js';

describe('parseCidr', () => {
  it('normalises IPv4 and IPv6 networks', () => {
    assert.equal(formatCidr(parseCidr('10.10.0.0/16')), '10.10.0.0/16');
    assert.equal(formatCidr(parseCidr('fd00:13:0::/64')), 'fd00:13::/64');
  });

  const invalid: Array<[string, RegExp]> = [
    ['10.10.0.0', /expected address\/prefix-length/],
    ['10.10.0.0/33', /0 to 32/],
    ['fd00::/129', /0 to 128/],
    ['10.10.0.1/16', /did you mean 10\.10\.0\.0\/16/],
    ['banana/8', /not an IPv4 or IPv6 address/],
  ];
  for (const [text, message] of invalid) {
    it(`rejects "${text}"`, () => assert.throws(() => parseCidr(text), message));
  }

  it('accepts IPv6 /109 and /119', () => {
    assert.equal(parseCidr('fd00::/109').prefixLength, 109);
    assert.equal(parseCidr('fd00::/119').prefixLength, 119);
  });
});

describe('formatIp', () => {
  it('round-trips IPv6 with compression', () => {
    for (const text of ['::', '::1', 'fd00:13::77', '2001:db8:a0b:12f0::1', 'fe80::1:0:0:1']) {
      const { version, value } = parseIp(text);
      assert.equal(formatIp(version, value), text);
    }
  });
});

describe('allocationPools', () => {
  it('keeps the ip-range minus network address and gateway', () => {
    const pools = allocationPools(parseCidr('10.10.0.0/16'), parseCidr('10.10.0.0/24'), ['10.10.0.1']);
    assert.deepEqual(pools, [{ start: '10.10.0.2', end: '10.10.0.255' }]);
  });

  it('cuts out aux addresses and the gateway', () => {
    const pools = allocationPools(parseCidr('10.1.0.0/24'), parseCidr('10.1.0.0/24'), ['10.1.0.254', '10.1.0.1', '10.1.0.10']);
    assert.deepEqual(pools, [
      { start: '10.1.0.2', end: '10.1.0.9' },
      { start: '10.1.0.11', end: '10.1.0.253' },
    ]);
  });

  it('splits around a gateway in the middle', () => {
    const pools = allocationPools(parseCidr('10.1.0.0/24'), parseCidr('10.1.0.0/24'), ['10.1.0.100']);
    assert.deepEqual(pools, [
      { start: '10.1.0.1', end: '10.1.0.99' },
      { start: '10.1.0.101', end: '10.1.0.254' },
    ]);
  });

  it('handles IPv6 without a broadcast address', () => {
    const pools = allocationPools(parseCidr('fd00::/120'), parseCidr('fd00::/120'), ['fd00::1']);
    assert.deepEqual(pools, [{ start: 'fd00::2', end: 'fd00::ff' }]);
  });
});

describe('findFreeSubnet', () => {
  it('skips used subnets', () => {
    const free = findFreeSubnet([parseCidr('10.10.0.0/16')], [parseCidr('10.10.0.0/24'), parseCidr('10.10.1.0/24')], 24);
    assert.equal(free && formatCidr(free), '10.10.2.0/24');
  });

  it('skips a larger used block in one step', () => {
    const free = findFreeSubnet([parseCidr('10.10.0.0/16')], [parseCidr('10.10.0.0/17')], 24);
    assert.equal(free && formatCidr(free), '10.10.128.0/24');
  });

  it('returns undefined when the pool is full', () => {
    assert.equal(findFreeSubnet([parseCidr('10.10.0.0/24')], [parseCidr('10.10.0.0/24')], 24), undefined);
  });

  it('gives the default gateway as the first host', () => {
    assert.equal(defaultGateway(parseCidr('10.10.3.0/24')), '10.10.3.1');
  });
});
