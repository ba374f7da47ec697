/** The OverQuota mapping: resource names from Neutron's message, then limit, usage and project from the quota API. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KuryrError, OpenStackHttpError } from '../errors.js';
import { FakeTransport, neutronFault } from '../neutron/test-support.js';
import { explainOverQuota, overQuotaResources } from './quota.js';
import { newTestContext } from './test-support.js';

function overQuota(message: string): OpenStackHttpError {
  return new OpenStackHttpError({
    status: 409,
    method: 'POST',
    url: 'http://127.0.0.1:9696/v2.0/floatingips',
    serverMessage: message,
    faultType: 'OverQuota',
    operation: 'create floating IP',
  });
}

describe('quota errors', () => {
  const messages: Array<{ message: string; expected: string[] }> = [
    { message: "Quota exceeded for resources: ['floatingip']", expected: ['floatingip'] },
    { message: "Quota exceeded for resources: ['port', 'security_group']", expected: ['port', 'security_group'] },
    { message: 'Quota exceeded', expected: [] },
  ];
  for (const { message, expected } of messages) {
    it(`reads resources from "${message}"`, () => {
      assert.deepEqual(overQuotaResources(message), expected);
    });
  }

  it('names resource, limit and project', async () => {
    const transport = new FakeTransport([
      { method: 'GET', path: '/v2.0/quotas/project', reply: { body: { project: { project_id: 'p-kuryr' } } } },
      { method: 'GET', path: '/v2.0/quotas/p-kuryr/details.json', reply: { body: { quota: { floatingip: { limit: 0, used: 0, reserved: 0 }, port: { limit: 500, used: 12, reserved: 0 } } } } },
    ]);
    const cause = overQuota("Quota exceeded for resources: ['floatingip']");
    const error = await explainOverQuota(newTestContext(transport), cause);
    transport.assertDone();
    assert.ok(error instanceof KuryrError);
    assert.equal(error.code, 'CONFLICT');
    assert.equal(
      error.message,
      'Neutron quota exceeded in project "p-kuryr": floatingip limit 0, 0 in use: delete unused resources, or raise the quota with openstack quota set --floating-ips <n> p-kuryr',
    );
    assert.equal(error.cause, cause);
  });

  it('still explains when the quota is unreadable', async () => {
    const transport = new FakeTransport([{ method: 'GET', path: '/v2.0/quotas/project', reply: neutronFault(403, 'HTTPForbidden', 'Access was denied to this resource') }]);
    const error = await explainOverQuota(newTestContext(transport), overQuota("Quota exceeded for resources: ['port']"));
    transport.assertDone();
    assert.ok(error instanceof KuryrError);
    assert.equal(
      error.message,
      "Neutron quota exceeded in kuryr's project: port limit unknown: delete unused resources, or raise the quota with openstack quota set --ports <n> <project>",
    );
  });

  it('passes other errors through', async () => {
    const transport = new FakeTransport();
    const other = new KuryrError('NOT_FOUND', 'port "p" not found');
    assert.equal(await explainOverQuota(newTestContext(transport), other), other);
    transport.assertDone();
  });
});
