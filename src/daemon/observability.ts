/**
 * The daemon's metrics and readiness: the hooks that feed them, the HTTP
 * listener that serves them, and the start-up probe that reaches Keystone and
 * Neutron in the background while the plugin socket already listens.
 */
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { CallInfo, NeutronClient } from '../neutron/index.js';
import { createObservabilityServer, DaemonMetrics, parseListenAddress, Readiness } from '../observability/index.js';
import { routes } from '../protocol/index.js';

/** Extensions kuryr cannot work without: tags find its resources, subnet_allocation makes subnets from pools. */
export const REQUIRED_EXTENSIONS = ['standard-attr-tag', 'subnet_allocation'] as const;

const PROBE_FIRST_DELAY_MS = 1_000;
const PROBE_MAX_DELAY_MS = 30_000;

export class DaemonObservability {
  readonly metrics = new DaemonMetrics(Object.keys(routes));
  readonly readiness = new Readiness();
  #server: Server | undefined;

  constructor(readonly logger: Logger) {
    this.readiness.onChange((ready) => {
      this.metrics.setReady(ready);
      logger.info('ready: Keystone and Neutron replied');
    });
  }

  readonly onRequest = (verb: string, status: number, ms: number): void => this.metrics.onRequest(verb, status, ms);

  readonly onNeutronCall = (info: CallInfo): void => {
    this.metrics.onNeutronCall(info);
    this.readiness.onNeutronCall(info);
  };

  /** Listens on `address` (host:port); does nothing when metrics are off. */
  async listen(address: string): Promise<void> {
    const parsed = parseListenAddress(address);
    if (parsed === undefined) return;
    const server = createObservabilityServer(this.metrics, this.readiness);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(parsed.port, parsed.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    this.logger.info({ metricsAddress: address }, 'serving /metrics, /healthz and /readyz');
  }

  close(): void {
    this.#server?.close();
  }
}

/**
 * Lists Neutron's extensions until it works, backing off from 1 s to 30 s,
 * then warns about each missing required extension. The client's onCall hook
 * marks the daemon ready on the first reply.
 */
export async function probeOpenStack(neutron: NeutronClient, readiness: Readiness, logger: Logger, signal: AbortSignal): Promise<void> {
  let delayMs = PROBE_FIRST_DELAY_MS;
  for (let attempt = 1; !signal.aborted; attempt += 1) {
    try {
      const aliases = new Set((await neutron.extensions.list()).map((extension) => extension.alias));
      for (const alias of REQUIRED_EXTENSIONS) {
        if (!aliases.has(alias)) logger.error({ extension: alias }, `Neutron lacks the required extension "${alias}": enable it in neutron-server`);
      }
      return;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      readiness.noteFailure(message);
      logger.warn({ err: message, attempt, retryInMs: delayMs }, 'cannot reach Keystone or Neutron yet; plugin calls fail until they reply');
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
    delayMs = Math.min(PROBE_MAX_DELAY_MS, delayMs * 2);
  }
}
