import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { activeWaitTimes, neutronRequests } from './lab-probe.js';

describe('neutronRequests', () => {
  it('counts and times user REST lines', () => {
    const log = [
      '2026-12-04 21:14:45.634 18991 INFO neutron.wsgi [None req-1 user-a project-1 - - - -] 127.0.0.1 "DELETE /v2.0/ports/p1 HTTP/1.1" status: 204  len: 173 time: 0.25',
      '2026-12-04 21:14:45.658 18991 INFO neutron.wsgi [None req-2 user-b project-1 - - - -] 127.0.0.1 "GET /v2.0/ports HTTP/1.1" status: 200  len: 173 time: 0.02',
      '2026-12-04 21:14:45.700 18991 INFO neutron.plugins.ml2 [None req-3 user-a project-1 - - - -] Port p1 updated',
      '2026-12-04 21:14:45.757 18991 INFO neutron.wsgi [None req-4 user-a project-1 - - - -] 127.0.0.1 "POST /v2.0/ports HTTP/1.1" status: 201  len: 900 time: 0.33',
    ].join('\n');
    const requests = neutronRequests(log, 'user-a');

    assert.equal(requests.count, 2);
    assert.ok(Math.abs(requests.seconds - 0.58) < 1e-9, String(requests.seconds));
  });
});

describe('activeWaitTimes', () => {
  it('reads the wait of each created endpoint', () => {
    const log = [
      '{"level":30,"msg":"address reserved"}',
      '{"level":30,"activeWaitMs":2104,"msg":"endpoint created"}',
      '{"level":30,"activeWaitMs":1500,"msg":"endpoint created"}',
    ].join('\n');
    assert.deepEqual(activeWaitTimes(log), [2104, 1500]);
  });
});
