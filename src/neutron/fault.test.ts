import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFault } from './fault.js';
import type { ServerFault } from './fault.js';

describe('parseFault', () => {
  const cases: [string, string, ServerFault][] = [
    [
      'a NeutronError body',
      JSON.stringify({ NeutronError: { type: 'IpAddressAlreadyAllocated', message: 'IP address 10.0.0.5 already allocated in subnet s1.', detail: '' } }),
      { message: 'IP address 10.0.0.5 already allocated in subnet s1', faultType: 'IpAddressAlreadyAllocated' },
    ],
    [
      'a NeutronError without a type',
      JSON.stringify({ NeutronError: { message: 'Something failed' } }),
      { message: 'Something failed', faultType: undefined },
    ],
    [
      'a Keystone error body',
      JSON.stringify({ error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } }),
      { message: 'The request you have made requires authentication', faultType: undefined },
    ],
    ['a bare message', JSON.stringify({ message: 'Bad request' }), { message: 'Bad request', faultType: undefined }],
    [
      'an HTML page',
      '<html><body><h1>404 Not Found</h1>\n<p>The resource could not be found.</p></body></html>',
      { message: '404 Not Found The resource could not be found', faultType: undefined },
    ],
    ['an empty body', '', { message: 'the reply carries no error message', faultType: undefined }],
  ];
  for (const [name, body, expected] of cases) {
    it(`reads ${name}`, () => {
      assert.deepEqual(parseFault(body), expected);
    });
  }

  it('shortens a long text body', () => {
    const fault = parseFault('x'.repeat(1000));

    assert.equal(fault.message, `${'x'.repeat(300)}…`);
  });
});
