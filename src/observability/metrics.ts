/**
 * Prometheus metrics of the daemon: plugin requests per verb, Neutron calls
 * per method and resource, and readiness. Labels take only bounded values
 * (known verbs, Neutron resource names), so a client cannot grow the series.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CallInfo } from '../neutron/index.js';

const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class DaemonMetrics {
  readonly registry = new Registry();
  readonly #knownVerbs: ReadonlySet<string>;
  readonly #requests: Counter<'verb' | 'status'>;
  readonly #requestSeconds: Histogram<'verb'>;
  readonly #neutronCalls: Counter<'method' | 'resource' | 'status'>;
  readonly #neutronErrors: Counter<'method' | 'resource'>;
  readonly #neutronSeconds: Histogram<'method' | 'resource'>;
  readonly #ready: Gauge;

  /** `knownVerbs` are the routes of the plugin API; any other path is counted as `unknown`. */
  constructor(knownVerbs: Iterable<string>, options: { processMetrics?: boolean } = {}) {
    this.#knownVerbs = new Set(knownVerbs);
    const registers = [this.registry];
    this.#requests = new Counter({ name: 'kuryr_plugin_requests_total', help: 'Plugin API requests from dockerd, by verb and HTTP status.', labelNames: ['verb', 'status'], registers });
    this.#requestSeconds = new Histogram({
      name: 'kuryr_plugin_request_duration_seconds',
      help: 'Time to reply to a plugin API request, in seconds.',
      labelNames: ['verb'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.#neutronCalls = new Counter({
      name: 'kuryr_neutron_requests_total',
      help: 'HTTP requests to Neutron, retries included, by method, resource and status ("none" when no reply arrived).',
      labelNames: ['method', 'resource', 'status'],
      registers,
    });
    this.#neutronErrors = new Counter({
      name: 'kuryr_neutron_errors_total',
      help: 'Neutron requests that got no reply or an HTTP status of 400 or more.',
      labelNames: ['method', 'resource'],
      registers,
    });
    this.#neutronSeconds = new Histogram({
      name: 'kuryr_neutron_request_duration_seconds',
      help: 'Duration of one HTTP request to Neutron, in seconds.',
      labelNames: ['method', 'resource'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.#ready = new Gauge({ name: 'kuryr_ready', help: '1 once Keystone and Neutron replied at least once, else 0.', registers });
    this.#ready.set(0);
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'kuryr_' });
  }

  /** The protocol server's onRequest hook. */
  readonly onRequest = (verb: string, status: number, ms: number): void => {
    const label = this.#knownVerbs.has(verb) ? verb : 'unknown';
    this.#requests.inc({ verb: label, status: String(status) });
    this.#requestSeconds.observe({ verb: label }, ms / 1000);
  };

  /** The Neutron client's onCall hook. */
  readonly onNeutronCall = (info: CallInfo): void => {
    const labels = { method: info.method, resource: neutronResource(info.path) };
    this.#neutronCalls.inc({ ...labels, status: info.status === null ? 'none' : String(info.status) });
    this.#neutronSeconds.observe(labels, info.ms / 1000);
    if (info.status === null || info.status >= 400) this.#neutronErrors.inc(labels);
  };

  setReady(ready: boolean): void {
    this.#ready.set(ready ? 1 : 0);
  }
}

/** Returns the resource collection of a Neutron path: `/v2.0/ports/4f1c/tags/x` gives `ports`. */
export function neutronResource(path: string): string {
  const match = /^\/(?:v2\.0\/)?([a-z_-]+)/.exec(path.replace(/^.*?\/v2\.0(?=\/)/, '/v2.0'));
  return match?.[1]?.replace(/\.json$/, '') ?? 'other';
}
