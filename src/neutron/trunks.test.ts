import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpenStackHttpError } from '../errors.js';
import { neutronFault, requestBody, trunkFixture, setupClient } from './test-support.js';

describe('NeutronClient trunks', () => {
  it('lists trunks by parent port', async () => {
    const { client, transport } = setupClient([
      { method: 'GET', path: '/v2.0/trunks?port_id=vm-port', reply: { body: { trunks: [trunkFixture()] } } },
    ]);
    const trunks = await client.trunks.list({ port_id: 'vm-port' });
    assert.deepEqual(
      trunks.map((trunk) => trunk.id),
      ['trunk-1'],
    );
    transport.assertDone();
  });

  it('adds a VLAN subport and parses the bare trunk reply', async () => {
    const subport = { port_id: 'container-port', segmentation_type: 'vlan', segmentation_id: 101 };
    // add_subports and remove_subports return the trunk without a `trunk` key.
    const { client, transport } = setupClient([
      { method: 'PUT', path: '/v2.0/trunks/trunk-1/add_subports', reply: { body: trunkFixture({ sub_ports: [subport], revision_number: 2 }) } },
    ]);

    const trunk = await client.trunks.addSubports('trunk-1', [{ port_id: 'container-port', segmentation_id: 101 }]);

    assert.deepEqual(requestBody(transport.calls[1]), { sub_ports: [subport] });
    assert.deepEqual(trunk.sub_ports, [subport]);
    transport.assertDone();
  });

  it('removes a subport by port id', async () => {
    const { client, transport } = setupClient([
      { method: 'PUT', path: '/v2.0/trunks/trunk-1/remove_subports', reply: { body: trunkFixture() } },
    ]);

    const trunk = await client.trunks.removeSubports('trunk-1', ['container-port']);

    assert.deepEqual(requestBody(transport.calls[1]), { sub_ports: [{ port_id: 'container-port' }] });
    assert.deepEqual(trunk.sub_ports, []);
    transport.assertDone();
  });

  it('reports a subport that is not on the trunk as 404', async () => {
    const { client } = setupClient([
      {
        method: 'PUT',
        path: '/v2.0/trunks/trunk-1/remove_subports',
        reply: neutronFault(404, 'SubPortNotFound', 'SubPort container-port on trunk trunk-1 could not be found.'),
      },
    ]);

    await assert.rejects(client.trunks.removeSubports('trunk-1', ['container-port']), (error: unknown) => {
      assert.ok(error instanceof OpenStackHttpError);
      assert.equal(error.status, 404);
      assert.equal(error.faultType, 'SubPortNotFound');
      assert.match(error.message, /remove subports from trunk "trunk-1" failed/);
      return true;
    });
  });
});
