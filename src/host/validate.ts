import { KuryrError } from '../errors.js';

/** The kernel limits interface names to IFNAMSIZ - 1 = 15 bytes. */
const IF_NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,14}$/;
const MAC_ADDRESS = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/;
const MIN_MTU = 68;
const MAX_MTU = 65535;

/**
 * Throws `INVALID_REQUEST` unless `name` is a safe interface name. The rule is stricter than the
 * kernel's, which accepts any byte except "/", ":" and whitespace, so that `ip` can never read a
 * name as an option.
 */
export function validateIfName(name: string): void {
  if (!IF_NAME.test(name) || name === '.' || name === '..') {
    throw new KuryrError(
      'INVALID_REQUEST',
      `invalid interface name "${name}": must be 1-15 characters from A-Z, a-z, 0-9, "_", "." and "-", ` +
        'must not start with "-", and must not be "." or ".."',
    );
  }
}

/** Returns the MAC address in lowercase, or throws `INVALID_REQUEST` unless it is six colon-separated hex pairs. */
export function normalizeMac(mac: string): string {
  if (!MAC_ADDRESS.test(mac)) {
    throw new KuryrError(
      'INVALID_REQUEST',
      `invalid MAC address "${mac}": must be six hex pairs separated by ":", for example "fa:16:3e:12:34:56"`,
    );
  }
  return mac.toLowerCase();
}

/** Throws `INVALID_REQUEST` unless `mtu` is an integer from 68 (the IPv4 minimum) to 65535. */
export function validateMtu(mtu: number): void {
  if (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > MAX_MTU) {
    throw new KuryrError('INVALID_REQUEST', `invalid MTU ${mtu}: must be an integer from ${MIN_MTU} to ${MAX_MTU}`);
  }
}
