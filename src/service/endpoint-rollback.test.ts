/**
 * CreateEndpoint after a successful bind: when the port never turns ACTIVE, everything the binder
 * did is undone, on the host and in Neutron. The nested binders are used here because they change
 * Neutron (allowed address pairs, trunk subports), which a veth binder does not.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { MacvlanBinder, VlanBinder, type PortBinder } from '../binding/index.js';
import { CHILD, CONTAINER_MAC, LINK, NETWORK_ID, PORT_ID, VmPortState, expectLinkShow, expectVmPortLookup } from '../binding/nested/test-support.js';
import { FakeRunner } from '../host/fake-runner.js';
import { NeutronClient } from '../neutron/index.js';
import type { TokenSource } from '../neutron/index.js';
import { portObject } from '../neutron/resources.js';
import { FakeTransport, NEUTRON_URL, neutronFault, portFixture, trunkFixture } from '../neutron/test-support.js';
import type { ExpectedCall } from '../neutron/test-support.js';
import { addressKey, ServiceContext, type Clock } from './context.js';
import { createEndpoint } from './endpoints.js';

const DOCKER_NETWORK_ID = '62c112064cbf927c954e5bc8fe09c168e3d3a8c09586e1aaa480bd95199eb536';
const ENDPOINT_ID = '4bb8fa2d5679855fa7d9fb0204679102ec29d7bdc0393a23aaa427c932b600e4';
const IP = '10.72.0.5';

const tokens: TokenSource = { getToken: async () => 'token', invalidate: () => {}, getEndpoint: async () => NEUTRON_URL };

/** A clock whose sleeps move time, so the ACTIVE wait times out without real waiting. */
function steppingClock(): Clock {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
  };
}

const containerPort = portFixture({
  id: PORT_ID,
  network_id: NETWORK_ID,
  mac_address: CONTAINER_MAC,
  fixed_ips: [{ subnet_id: 'subnet-1', ip_address: IP }],
  'binding:host_id': '',
  'binding:vif_type': 'unbound',
  status: 'DOWN',
});

/** The calls before the bind: tagging the port found in the RequestAddress cache. */
const tagPort: ExpectedCall = { method: 'PUT', path: `/v2.0/ports/${PORT_ID}/tags`, reply: { body: { tags: [] } } };

/** Two polls that find the port DOWN: one at the start, one when the 1 s timeout has passed. */
const pollsUntilTimeout: ExpectedCall[] = [
  { method: 'GET', path: `/v2.0/ports/${PORT_ID}`, reply: { body: { port: containerPort } } },
  { method: 'GET', path: `/v2.0/ports/${PORT_ID}`, reply: { body: { port: containerPort } } },
];

function context(transport: FakeTransport, makeBinder: (neutron: NeutronClient) => PortBinder): ServiceContext {
  const neutron = new NeutronClient({ tokens, transport, sleep: async () => {} });
  const ctx = new ServiceContext(
    neutron,
    makeBinder(neutron),
    {
      hostName: '',
      subnetPoolPrefix: 'kuryrPool',
      defaultSubnetPoolV4: 'kuryr',
      defaultSubnetPoolV6: 'kuryr6',
      enableDhcp: false,
      // Nested daemons run without the wait; it is on here to make a failure after the bind.
      portActiveTimeoutMs: 1_000,
      portActivePollMs: 500,
    },
    pino({ level: 'silent' }),
    steppingClock(),
  );
  ctx.networks.set(DOCKER_NETWORK_ID, {
    networkId: DOCKER_NETWORK_ID,
    neutronNetworkId: NETWORK_ID,
    projectId: 'project-1',
    mtu: 1450,
    subnets: [],
    adopted: false,
    internal: false,
  });
  ctx.addressPorts.set(addressKey(NETWORK_ID, IP), portObject.parse(containerPort));
  return ctx;
}

const request = {
  NetworkID: DOCKER_NETWORK_ID,
  EndpointID: ENDPOINT_ID,
  Interface: { Address: `${IP}/24`, AddressIPv6: '', MacAddress: CONTAINER_MAC },
  Options: {},
};

describe('CreateEndpoint rollback after bind', () => {
  it('removes the macvlan and its address pair on timeout', async () => {
    const vmPort = new VmPortState();
    const transport = new FakeTransport([tagPort, expectVmPortLookup(), vmPort.get(), vmPort.put(), ...pollsUntilTimeout, vmPort.get(), vmPort.put()]);
    const runner = expectLinkShow(new FakeRunner())
      .expect(['ip', 'link', 'delete', 'dev', CHILD], { exitCode: 1, stderr: `Cannot find device "${CHILD}"\n` })
      .expect(['ip', 'link', 'add', CHILD, 'link', LINK, 'type', 'macvlan', 'mode', 'bridge'])
      .expect(['ip', 'link', 'set', 'dev', CHILD, 'mtu', '1450'])
      .expect(['ip', 'link', 'set', 'dev', CHILD, 'address', CONTAINER_MAC])
      .expect(['ip', 'link', 'set', 'dev', CHILD, 'up'])
      .expect(['ip', 'link', 'delete', 'dev', CHILD]);
    const ctx = context(transport, (neutron) => new MacvlanBinder({ mode: 'macvlan', runner, neutron, linkIface: LINK }));

    await assert.rejects(createEndpoint(ctx, request), (error: unknown) => error instanceof Error && /is still DOWN after 1 s/.test(error.message));

    assert.deepEqual(
      vmPort.writes.map((write) => write.pairs),
      [[{ ip_address: IP, mac_address: CONTAINER_MAC }], []],
    );
    assert.equal(ctx.endpoints.size, 0);
    runner.assertDone();
    transport.assertDone();
  });

  it('reports the timeout when the rollback fails too', async () => {
    const vmPort = new VmPortState();
    const rejected: ExpectedCall = { method: 'PUT', path: '/v2.0/ports/vm-port', reply: neutronFault(400, 'BadRequest', 'rollback rejected') };
    const transport = new FakeTransport([tagPort, expectVmPortLookup(), vmPort.get(), vmPort.put(), ...pollsUntilTimeout, vmPort.get(), rejected]);
    const runner = expectLinkShow(new FakeRunner())
      .expect(['ip', 'link', 'delete', 'dev', CHILD], { exitCode: 1, stderr: `Cannot find device "${CHILD}"\n` })
      .expect(['ip', 'link', 'add', CHILD, 'link', LINK, 'type', 'macvlan', 'mode', 'bridge'])
      .expect(['ip', 'link', 'set', 'dev', CHILD, 'mtu', '1450'])
      .expect(['ip', 'link', 'set', 'dev', CHILD, 'address', CONTAINER_MAC])
      .expect(['ip', 'link', 'set', 'dev', CHILD, 'up'])
      .expect(['ip', 'link', 'delete', 'dev', CHILD]);
    const ctx = context(transport, (neutron) => new MacvlanBinder({ mode: 'macvlan', runner, neutron, linkIface: LINK }));

    await assert.rejects(createEndpoint(ctx, request), /is still DOWN after 1 s/);
    runner.assertDone();
    transport.assertDone();
  });

  it('removes the VLAN device and subport on timeout', async () => {
    const trunkCalls: ExpectedCall[] = [
      { method: 'GET', path: '/v2.0/trunks?port_id=vm-port', reply: { body: { trunks: [trunkFixture()] } } },
      { method: 'GET', path: '/v2.0/trunks/trunk-1', reply: { body: { trunk: trunkFixture() } } },
      { method: 'PUT', path: '/v2.0/trunks/trunk-1/add_subports', reply: { body: trunkFixture() } },
    ];
    const unbindCalls: ExpectedCall[] = [
      { method: 'GET', path: '/v2.0/trunks?port_id=vm-port', reply: { body: { trunks: [trunkFixture()] } } },
      { method: 'PUT', path: '/v2.0/trunks/trunk-1/remove_subports', reply: { body: trunkFixture() } },
    ];
    const transport = new FakeTransport([tagPort, expectVmPortLookup(), ...trunkCalls, ...pollsUntilTimeout, ...unbindCalls]);
    const runner = expectLinkShow(new FakeRunner())
      .expect(['ip', 'link', 'delete', 'dev', CHILD], { exitCode: 1, stderr: `Cannot find device "${CHILD}"\n` })
      .expect(['ip', 'link', 'add', 'link', LINK, 'name', CHILD, 'type', 'vlan', 'id', '1'])
      .expect(['ip', 'link', 'set', 'dev', CHILD, 'mtu', '1450'])
      .expect(['ip', 'link', 'set', 'dev', CHILD, 'address', CONTAINER_MAC])
      .expect(['ip', 'link', 'set', 'dev', CHILD, 'up'])
      .expect(['ip', 'link', 'delete', 'dev', CHILD]);
    const ctx = context(transport, (neutron) => new VlanBinder({ runner, neutron, linkIface: LINK }));

    await assert.rejects(createEndpoint(ctx, request), /is still DOWN after 1 s/);

    const removal = transport.requestsTo('/v2.0/trunks/trunk-1/remove_subports')[0];
    assert.deepEqual(JSON.parse(removal?.body ?? '{}'), { sub_ports: [{ port_id: PORT_ID }] });
    runner.assertDone();
    transport.assertDone();
  });
});
