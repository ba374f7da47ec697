/**
 * Shared set-up for service tests: a ServiceContext over a fake Neutron
 * transport, with a fixed token, a fixed host name and no real host work.
 * Not exported from index.ts.
 */
import { pino } from 'pino';
import type { BoundInterface, PortBinder, PortBindingRequest } from '../binding/index.js';
import { vethNames } from '../binding/index.js';
import { NeutronClient } from '../neutron/index.js';
import type { HttpTransport, TokenSource } from '../neutron/index.js';
import { NEUTRON_URL } from '../neutron/test-support.js';
import { ServiceContext, type Clock, type ServiceConfig } from './context.js';

export const fakeTokens: TokenSource = { getToken: async () => 'token', invalidate: () => {}, getEndpoint: async () => NEUTRON_URL };

/** A binder that does no host work and records `bind <port id>` and `unbind <port id>`. */
export class RecordingBinder implements PortBinder {
  readonly calls: string[] = [];

  async bind(request: PortBindingRequest): Promise<BoundInterface> {
    this.calls.push(`bind ${request.portId}`);
    return vethNames(request.portId);
  }

  async unbind(request: PortBindingRequest): Promise<void> {
    this.calls.push(`unbind ${request.portId}`);
  }
}

export function testServiceConfig(overrides: Partial<ServiceConfig> = {}): ServiceConfig {
  return {
    hostName: 'docker-host-1',
    subnetPoolPrefix: 'kuryrPool',
    defaultSubnetPoolV4: 'kuryr',
    defaultSubnetPoolV6: 'kuryr6',
    enableDhcp: false,
    portActiveTimeoutMs: 0,
    portActivePollMs: 500,
    ...overrides,
  };
}

export interface TestContextOptions {
  binder?: PortBinder;
  config?: Partial<ServiceConfig>;
  clock?: Clock;
}

/** Builds a context whose Neutron calls go to `transport` and whose retries never sleep. */
export function newTestContext(transport: HttpTransport, options: TestContextOptions = {}): ServiceContext {
  const neutron = new NeutronClient({ tokens: fakeTokens, transport, sleep: async () => {} });
  const binder = options.binder ?? new RecordingBinder();
  return new ServiceContext(neutron, binder, testServiceConfig(options.config), pino({ level: 'silent' }), options.clock);
}
