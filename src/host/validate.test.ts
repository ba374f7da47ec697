import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KuryrError } from '../errors.js';
import { normalizeMac, validateIfName, validateMtu } from './validate.js';

function assertInvalid(action: () => unknown, expectedText: string): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof KuryrError);
    assert.equal(error.code, 'INVALID_REQUEST');
    assert.ok(error.message.includes(expectedText), `"${error.message}" should contain "${expectedText}"`);
    return true;
  });
}

describe('validateIfName', () => {
  for (const name of ['eth0', 'tap3f2b8c1e-9a', 't_c3f2b8c1e-9a', 'a', 'br.100', '_x', '123456789012345']) {
    it(`accepts "${name}"`, () => {
      assert.doesNotThrow(() => validateIfName(name));
    });
  }

  for (const name of ['', '1234567890123456', '-eth0', 'eth 0', 'eth/0', 'eth:0', 'eth0\n', '.', '..', 'tàp0']) {
    it(`rejects ${JSON.stringify(name)}`, () => {
      assertInvalid(() => validateIfName(name), `invalid interface name "${name}"`);
    });
  }

  it('names the rule in the message', () => {
    assertInvalid(() => validateIfName('-x'), 'must not start with "-"');
  });
});

describe('normalizeMac', () => {
  it('lowercases a valid MAC', () => {
    assert.equal(normalizeMac('FA:16:3E:AB:cd:01'), 'fa:16:3e:ab:cd:01');
  });

  for (const mac of ['', 'fa:16:3e:ab:cd', 'fa:16:3e:ab:cd:01:02', 'fa-16-3e-ab-cd-01', 'fa:16:3e:ab:cd:0g', 'fa163eabcd01']) {
    it(`rejects ${JSON.stringify(mac)}`, () => {
      assertInvalid(() => normalizeMac(mac), `invalid MAC address "${mac}": must be six hex pairs`);
    });
  }
});

describe('validateMtu', () => {
  for (const mtu of [68, 1450, 1500, 9000, 65535]) {
    it(`accepts ${mtu}`, () => {
      assert.doesNotThrow(() => validateMtu(mtu));
    });
  }

  for (const mtu of [67, 0, -1, 65536, 1450.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    it(`rejects ${mtu}`, () => {
      assertInvalid(() => validateMtu(mtu), `invalid MTU ${mtu}: must be an integer from 68 to 65535`);
    });
  }
});
