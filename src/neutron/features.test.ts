/** The feature resources of the Neutron client: router interfaces, floating IPs, firewall groups, QoS policies and quotas. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { neutronFault, requestBody, setupClient } from './test-support.js';

describe('NeutronClient features', () => {
  it('adds router interface by subnet', async () => {
    const { client, transport } = setupClient([
      { method: 'PUT', path: '/v2.0/routers/r-1/add_router_interface', reply: { body: { id: 'r-1', subnet_id: 's-1', port_id: 'p-1', tenant_id: 'project-1' } } },
    ]);
    const added = await client.routers.addInterface('r-1', 's-1');
    assert.deepEqual(requestBody(transport.calls[1]), { subnet_id: 's-1' });
    assert.equal(added.port_id, 'p-1');
    transport.assertDone();
  });

  for (const faultType of ['RouterInterfaceNotFoundForSubnet', 'RouterNotFound']) {
    it(`counts ${faultType} as removed`, async () => {
      const { client, transport } = setupClient([
        { method: 'PUT', path: '/v2.0/routers/r-1/remove_router_interface', reply: neutronFault(404, faultType, 'gone') },
      ]);
      await client.routers.removeInterface('r-1', 's-1', { ignoreNotFound: true });
      transport.assertDone();
    });
  }

  it('rethrows a 404 without router fault', async () => {
    const { client, transport } = setupClient([
      { method: 'PUT', path: '/v2.0/routers/r-1/remove_router_interface', reply: neutronFault(404, 'HTTPNotFound', 'The resource could not be found') },
    ]);
    await assert.rejects(client.routers.removeInterface('r-1', 's-1', { ignoreNotFound: true }), { code: 'NOT_FOUND' });
    transport.assertDone();
  });

  it('uses the FWaaS and QoS paths', async () => {
    const { client, transport } = setupClient([
      { method: 'GET', path: '/v2.0/fwaas/firewall_groups?name=dmz', reply: { body: { firewall_groups: [{ id: 'fwg-1', name: 'dmz', project_id: 'project-1', ports: [] }] } } },
      { method: 'GET', path: '/v2.0/qos/policies?name=gold', reply: { body: { policies: [{ id: 'q-1', name: 'gold', project_id: 'project-1', shared: false }] } } },
    ]);
    assert.deepEqual((await client.firewallGroups.list({ name: 'dmz' })).map((group) => group.id), ['fwg-1']);
    assert.deepEqual((await client.qosPolicies.list({ name: 'gold' })).map((policy) => policy.id), ['q-1']);
    transport.assertDone();
  });

  it('reads caller project and quota details', async () => {
    const { client, transport } = setupClient([
      { method: 'GET', path: '/v2.0/quotas/project', reply: { body: { project: { project_id: 'p-1' } } } },
      { method: 'GET', path: '/v2.0/quotas/p-1/details.json', reply: { body: { quota: { port: { limit: 50, used: 3, reserved: 0 } } } } },
    ]);
    assert.equal(await client.quotas.callerProjectId(), 'p-1');
    assert.deepEqual(await client.quotas.details('p-1'), { port: { limit: 50, used: 3, reserved: 0 } });
    transport.assertDone();
  });
});
