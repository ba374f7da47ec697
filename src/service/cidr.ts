/**
 * IPv4 and IPv6 address arithmetic on bigints, for the few calculations the
 * mapping needs: gateways, allocation pools and free-subnet search.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { KuryrError } from '../errors.js';

export type IpVersion = 4 | 6;

export interface Cidr {
  version: IpVersion;
  /** The network address (host bits cleared). */
  network: bigint;
  prefixLength: number;
}

const BITS: Record<IpVersion, number> = { 4: 32, 6: 128 };

export function ipVersionOf(address: string): IpVersion | undefined {
  if (isIPv4(address)) return 4;
  if (isIPv6(address)) return 6;
  return undefined;
}

export function parseIp(address: string): { version: IpVersion; value: bigint } {
  const version = ipVersionOf(address);
  if (version === 4) {
    const value = address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
    return { version, value };
  }
  if (version === 6) return { version, value: parseIpv6(address) };
  throw new KuryrError('INVALID_REQUEST', `invalid IP address "${address}": expected an IPv4 or IPv6 address`);
}

function parseIpv6(address: string): bigint {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two 16-bit groups.
  if (tail.includes('.')) {
    const v4 = parseIp(tail).value;
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const missing = 8 - headGroups.length - restGroups.length;
  const groups = rest === undefined ? headGroups : [...headGroups, ...Array<string>(missing).fill('0'), ...restGroups];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

export function formatIp(version: IpVersion, value: bigint): string {
  if (version === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => ((value >> shift) & 0xffn).toString()).join('.');
  }
  const groups = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  return compressIpv6(groups);
}

function compressIpv6(groups: number[]): string {
  // Find the longest run of zero groups (of length two or more) and replace it with "::".
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j += 1;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestLength < 2) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLength).join(':');
  return `${head}::${tail}`;
}

/** Parses "a.b.c.d/len" or "x::/len"; host bits must be zero unless `allowHostBits` is set. */
export function parseCidr(text: string, options: { allowHostBits?: boolean } = {}): Cidr {
  const slash = text.indexOf('/');
  const invalid = (why: string): KuryrError =>
    new KuryrError('INVALID_REQUEST', `invalid CIDR "${text}": ${why}`);
  if (slash < 0) throw invalid('expected address/prefix-length, for example 10.10.0.0/16');
  const addressText = text.slice(0, slash);
  const lengthText = text.slice(slash + 1);
  const version = ipVersionOf(addressText);
  if (version === undefined) throw invalid(`"${addressText}" is not an IPv4 or IPv6 address`);
  if (!/^\d{1,3}$/.test(lengthText) || Number(lengthText) > BITS[version]) {
    throw invalid(`the prefix length must be 0 to ${BITS[version]} for IPv${version}`);
  }
  const prefixLength = Number(lengthText);
  const value = parseIp(addressText).value;
  const network = value & netmask(version, prefixLength);
  if (network !== value && !options.allowHostBits) {
    throw invalid(`host bits are set; did you mean ${formatIp(version, network)}/${prefixLength}?`);
  }
  return { version, network, prefixLength };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.version, cidr.network)}/${cidr.prefixLength}`;
}

function netmask(version: IpVersion, prefixLength: number): bigint {
  const bits = BigInt(BITS[version]);
  const all = (1n << bits) - 1n;
  return all ^ ((1n << (bits - BigInt(prefixLength))) - 1n);
}

export function lastAddress(cidr: Cidr): bigint {
  const hostBits = BigInt(BITS[cidr.version] - cidr.prefixLength);
  return cidr.network + (1n << hostBits) - 1n;
}

export function contains(cidr: Cidr, version: IpVersion, value: bigint): boolean {
  return cidr.version === version && value >= cidr.network && value <= lastAddress(cidr);
}

export function containsCidr(outer: Cidr, inner: Cidr): boolean {
  return (
    outer.version === inner.version &&
    inner.prefixLength >= outer.prefixLength &&
    contains(outer, inner.version, inner.network)
  );
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return containsCidr(a, b) || containsCidr(b, a);
}

/** Returns the address Neutron picks as gateway when none is given, the first address after the network address. */
export function defaultGateway(cidr: Cidr): string {
  return formatIp(cidr.version, cidr.network + 1n);
}

export interface AllocationPool {
  start: string;
  end: string;
}

/**
 * Computes Neutron allocation pools for the addresses of `range` (Docker's
 * --ip-range) that are usable in `subnet`: without the subnet's network
 * address, its IPv4 broadcast address and the `excluded` addresses (the
 * gateway and any --aux-address).
 */
export function allocationPools(subnet: Cidr, range: Cidr, excluded: readonly string[]): AllocationPool[] {
  let first = range.network > subnet.network ? range.network : subnet.network + 1n;
  let last = lastAddress(range) < lastAddress(subnet) ? lastAddress(range) : lastAddress(subnet);
  if (subnet.version === 4 && last === lastAddress(subnet)) last -= 1n;
  const holes = [...new Set(excluded.map((address) => parseIp(address).value))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const pools: Array<[bigint, bigint]> = [];
  for (const hole of holes) {
    if (hole < first || hole > last) continue;
    if (hole > first) pools.push([first, hole - 1n]);
    first = hole + 1n;
  }
  if (first <= last) pools.push([first, last]);
  return pools.map(([start, end]) => ({
    start: formatIp(subnet.version, start),
    end: formatIp(subnet.version, end),
  }));
}

/** Finds the first subnet of `prefixLength` inside one of `prefixes` that overlaps none of `used`. */
export function findFreeSubnet(prefixes: Cidr[], used: Cidr[], prefixLength: number): Cidr | undefined {
  for (const prefix of prefixes) {
    if (prefixLength < prefix.prefixLength) continue;
    const step = 1n << BigInt(BITS[prefix.version] - prefixLength);
    for (let network = prefix.network; network <= lastAddress(prefix); network += step) {
      const candidate: Cidr = { version: prefix.version, network, prefixLength };
      const clash = used.find((taken) => overlaps(taken, candidate));
      // Skip past the whole clashing subnet when it is larger than the step.
      if (clash === undefined) return candidate;
      const clashEnd = lastAddress(clash);
      if (clashEnd > network) network = clashEnd + 1n - step;
    }
  }
  return undefined;
}
