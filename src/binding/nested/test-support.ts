/**
 * Shared fixtures of the nested binder tests. Not exported from index.ts.
 */
import assert from 'node:assert/strict';
import type { FakeRunner } from '../../host/fake-runner.js';
import type { ExpectedCall, FakeReply } from '../../neutron/test-support.js';
import { neutronFault, portFixture } from '../../neutron/test-support.js';
import type { HttpRequest } from '../../neutron/transport.js';
import type { PortBindingRequest } from '../types.js';

export const PORT_ID = '3f2b8c1e-9a47-4d2b-8e1f-6c5a4b3d2e10';
export const CHILD = 't_c3f2b8c1e-9a';
export const LINK = 'ens3';
export const LINK_MAC = 'fa:16:3e:aa:00:01';
export const VM_PORT_ID = 'vm-port';
export const NETWORK_ID = '9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f';
export const CONTAINER_MAC = 'fa:16:3e:12:34:56';

export function request(overrides: Partial<PortBindingRequest> = {}): PortBindingRequest {
  return {
    portId: PORT_ID,
    endpointId: 'e4d2c1b0a9f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a2918070605',
    neutronNetworkId: NETWORK_ID,
    projectId: 'b1c2d3e4f5a64b7c8d9e0f1a2b3c4d5e',
    macAddress: 'FA:16:3E:12:34:56',
    mtu: 1450,
    vifType: 'unbound',
    vifDetails: {},
    fixedIps: ['10.72.0.5'],
    ...overrides,
  };
}

/** Expects the `ip -json -details link show` of link_iface, answering with its MAC. */
export function expectLinkShow(runner: FakeRunner): FakeRunner {
  return runner.expect(['ip', '-json', '-details', 'link', 'show', 'dev', LINK], {
    stdout: JSON.stringify([{ ifindex: 2, ifname: LINK, flags: ['UP'], mtu: 1450, address: LINK_MAC }]),
  });
}

export function vmPortFixture(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return portFixture({
    id: VM_PORT_ID,
    network_id: NETWORK_ID,
    mac_address: LINK_MAC,
    device_owner: 'compute:nova',
    revision_number: 7,
    ...overrides,
  });
}

/** The VM port lookup by link_iface's MAC. */
export function expectVmPortLookup(port: Record<string, unknown> = vmPortFixture()): ExpectedCall {
  return { method: 'GET', path: `/v2.0/ports?mac_address=${encodeURIComponent(LINK_MAC)}`, reply: { body: { ports: [port] } } };
}

export interface PairWrite {
  ifMatch: string | undefined;
  pairs: unknown;
}

/**
 * A VM port held in memory that answers GET and If-Match PUT like Neutron: a PUT whose revision
 * is stale gets 412, and every accepted PUT bumps the revision.
 */
export class VmPortState {
  port: Record<string, unknown>;
  readonly writes: PairWrite[] = [];

  constructor(port: Record<string, unknown> = vmPortFixture()) {
    this.port = port;
  }

  get(): ExpectedCall {
    return { method: 'GET', path: `/v2.0/ports/${VM_PORT_ID}`, reply: () => ({ body: { port: this.port } }) };
  }

  put(): ExpectedCall {
    return { method: 'PUT', path: `/v2.0/ports/${VM_PORT_ID}`, reply: (httpRequest) => this.#write(httpRequest) };
  }

  /** Simulates another writer that changes the port between our read and our write. */
  changeBehindOurBack(pairs: unknown[]): void {
    this.port = { ...this.port, allowed_address_pairs: pairs, revision_number: Number(this.port.revision_number) + 1 };
  }

  #write(httpRequest: HttpRequest): FakeReply {
    const ifMatch = httpRequest.headers['If-Match'] ?? httpRequest.headers['if-match'];
    const body = JSON.parse(httpRequest.body ?? '{}') as { port: { allowed_address_pairs: unknown } };
    this.writes.push({ ifMatch, pairs: body.port.allowed_address_pairs });
    if (ifMatch !== `revision_number=${String(this.port.revision_number)}`) {
      return neutronFault(412, 'PreconditionFailed', 'Constraints not met.');
    }
    this.port = { ...this.port, allowed_address_pairs: body.port.allowed_address_pairs, revision_number: Number(this.port.revision_number) + 1 };
    return { body: { port: this.port } };
  }
}

export function assertBindingFailed(error: unknown, ...expectedTexts: string[]): true {
  assert.ok(error instanceof Error);
  assert.equal((error as { code?: string }).code, 'BINDING_FAILED', error.message);
  for (const text of expectedTexts) {
    assert.ok(error.message.includes(text), `"${error.message}" should contain "${text}"`);
  }
  return true;
}
