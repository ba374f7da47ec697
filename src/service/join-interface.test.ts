import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { BoundInterface, PortBinder, PortBindingRequest } from '../binding/index.js';
import { NeutronClient } from '../neutron/index.js';
import type { TokenSource } from '../neutron/index.js';
import { portObject } from '../neutron/resources.js';
import { FakeTransport, NEUTRON_URL, portFixture } from '../neutron/test-support.js';
import { ServiceContext } from './context.js';
import { join } from './endpoints.js';

const NETWORK_ID = '62c112064cbf927c954e5bc8fe09c168e3d3a8c09586e1aaa480bd95199eb536';
const ENDPOINT_ID = '4bb8fa2d5679855fa7d9fb0204679102ec29d7bdc0393a23aaa427c932b600e4';
const PORT_ID = '3f2b8c1e-9a47-4d2b-8e1f-6c5a4b3d2e10';
const tokens: TokenSource = { getToken: async () => 'token', invalidate: () => {}, getEndpoint: async () => NEUTRON_URL };

/** A binder whose container device has its own name, as an SR-IOV virtual function does. */
class NamedDeviceBinder implements PortBinder {
  readonly asked: string[] = [];
  constructor(readonly name: string | undefined) {}
  async bind(): Promise<BoundInterface> {
    return { hostIfName: 'pf0', containerIfName: this.name ?? '' };
  }
  async unbind(): Promise<void> {}
  async containerIfName(request: PortBindingRequest): Promise<string | undefined> {
    this.asked.push(`${request.portId} ${request.vnicType ?? ''}`);
    return this.name;
  }
}

function joinWith(binder: PortBinder) {
  const neutron = new NeutronClient({ tokens, transport: new FakeTransport(), sleep: async () => {} });
  const ctx = new ServiceContext(
    neutron,
    binder,
    { hostName: 'node-1', subnetPoolPrefix: 'kuryrPool', defaultSubnetPoolV4: 'kuryr', defaultSubnetPoolV6: 'kuryr6', enableDhcp: false, portActiveTimeoutMs: 0, portActivePollMs: 500 },
    pino({ level: 'silent' }),
  );
  ctx.networks.set(NETWORK_ID, { networkId: NETWORK_ID, neutronNetworkId: 'net-1', projectId: 'project-1', mtu: 1500, subnets: [], adopted: false, internal: false });
  const port = portObject.parse(portFixture({ id: PORT_ID, 'binding:vnic_type': 'direct' }));
  ctx.endpoints.set(ENDPOINT_ID, { endpointId: ENDPOINT_ID, networkId: NETWORK_ID, port });
  return join(ctx, { NetworkID: NETWORK_ID, EndpointID: ENDPOINT_ID, SandboxKey: '/var/run/docker/netns/0123456789ab', Options: {} });
}

describe('Join interface name', () => {
  it('uses the name the binder reports', async () => {
    const binder = new NamedDeviceBinder('ens1f0v1');
    const reply = await joinWith(binder);
    assert.deepEqual(reply.InterfaceName, { SrcName: 'ens1f0v1', DstPrefix: 'eth' });
    assert.deepEqual(binder.asked, [`${PORT_ID} direct`]);
  });

  it('falls back to t_c and the port id', async () => {
    const reply = await joinWith(new NamedDeviceBinder(undefined));
    assert.deepEqual(reply.InterfaceName, { SrcName: 't_c3f2b8c1e-9a', DstPrefix: 'eth' });
  });
});
