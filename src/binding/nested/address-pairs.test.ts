import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { KuryrError } from '../../errors.js';
import { neutronFault, setupClient } from '../../neutron/test-support.js';
import { MAX_PAIR_UPDATE_ATTEMPTS, addAddressPairs, removeAddressPairs } from './address-pairs.js';
import { PerKeyQueue } from './serialize.js';
import { VM_PORT_ID, VmPortState, vmPortFixture } from './test-support.js';

const logger = pino({ enabled: false });
const pairA = { ip_address: '10.72.0.5', mac_address: 'fa:16:3e:00:00:05' };
const pairB = { ip_address: '10.72.0.6', mac_address: 'fa:16:3e:00:00:06' };

describe('allowed address pair updates', () => {
  it('serialise concurrent adds in one daemon', async () => {
    const vmPort = new VmPortState();
    const { client, transport } = setupClient([vmPort.get(), vmPort.put(), vmPort.get(), vmPort.put()]);
    const context = { neutron: client, queue: new PerKeyQueue(), logger };

    await Promise.all([addAddressPairs(context, VM_PORT_ID, [pairA]), addAddressPairs(context, VM_PORT_ID, [pairB])]);

    assert.deepEqual(vmPort.port.allowed_address_pairs, [pairA, pairB]);
    assert.deepEqual(
      vmPort.writes.map((write) => write.ifMatch),
      ['revision_number=7', 'revision_number=8'],
    );
    transport.assertDone();
  });

  it('re-read and re-apply after 412 across daemons', async () => {
    const vmPort = new VmPortState();
    // Two daemons: separate queues, so both read revision 7 before either writes.
    const { client, transport } = setupClient([vmPort.get(), vmPort.get(), vmPort.put(), vmPort.put(), vmPort.get(), vmPort.put()]);
    const first = { neutron: client, queue: new PerKeyQueue(), logger };
    const second = { neutron: client, queue: new PerKeyQueue(), logger };

    await Promise.all([addAddressPairs(first, VM_PORT_ID, [pairA]), addAddressPairs(second, VM_PORT_ID, [pairB])]);

    assert.deepEqual(vmPort.port.allowed_address_pairs, [pairA, pairB]);
    assert.deepEqual(
      vmPort.writes.map((write) => write.ifMatch),
      ['revision_number=7', 'revision_number=7', 'revision_number=8'],
    );
    transport.assertDone();
  });

  it('remove keeps pairs of others and fills a missing MAC', async () => {
    // The schema allows a pair without a MAC, which then counts as the port's own MAC, as Neutron stores it.
    const vmPort = new VmPortState(vmPortFixture({ allowed_address_pairs: [{ ip_address: '10.0.0.0/24' }, pairA] }));
    const { client, transport } = setupClient([vmPort.get(), vmPort.put()]);

    await removeAddressPairs({ neutron: client, queue: new PerKeyQueue(), logger }, VM_PORT_ID, [pairA]);

    assert.deepEqual(vmPort.writes[0]?.pairs, [{ ip_address: '10.0.0.0/24', mac_address: 'fa:16:3e:aa:00:01' }]);
    transport.assertDone();
  });

  it('explains the pair limit of Neutron', async () => {
    const vmPort = new VmPortState();
    const exhausted = neutronFault(400, 'AllowedAddressPairExhausted', 'The number of allowed address pair exceeds the maximum 10.');
    const { client, transport } = setupClient([vmPort.get(), { ...vmPort.put(), reply: exhausted }]);

    await assert.rejects(addAddressPairs({ neutron: client, queue: new PerKeyQueue(), logger }, VM_PORT_ID, [pairA]), (error: unknown) => {
      assert.ok(error instanceof KuryrError);
      assert.equal(error.code, 'CONFLICT');
      assert.match(error.message, /VM port "vm-port" has no room for more allowed address pairs/);
      assert.match(error.message, /exceeds the maximum 10/);
      assert.match(error.message, /max_allowed_address_pair/);
      return true;
    });
    transport.assertDone();
  });

  it('gives up after the attempt bound', async () => {
    const calls = [];
    for (let attempt = 0; attempt < MAX_PAIR_UPDATE_ATTEMPTS; attempt += 1) {
      calls.push(
        { method: 'GET' as const, path: `/v2.0/ports/${VM_PORT_ID}`, reply: { body: { port: vmPortFixture() } } },
        { method: 'PUT' as const, path: `/v2.0/ports/${VM_PORT_ID}`, reply: neutronFault(412, 'PreconditionFailed', 'Constraints not met.') },
      );
    }
    const { client, transport } = setupClient(calls);

    await assert.rejects(addAddressPairs({ neutron: client, queue: new PerKeyQueue(), logger }, VM_PORT_ID, [pairA]), (error: unknown) => {
      assert.ok(error instanceof KuryrError);
      assert.equal(error.code, 'CONFLICT');
      assert.match(error.message, /VM port "vm-port": it changed during each of 8 attempts/);
      return true;
    });
    transport.assertDone();
  });
});
