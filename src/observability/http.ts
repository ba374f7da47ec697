/** The HTTP listener for Prometheus (`/metrics`) and for liveness and readiness probes (`/healthz`, `/readyz`). */
import { createServer, type Server } from 'node:http';
import type { DaemonMetrics } from './metrics.js';
import type { Readiness } from './readiness.js';

export function createObservabilityServer(metrics: DaemonMetrics, readiness: Readiness): Server {
  return createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { 'Content-Type': 'text/plain', Allow: 'GET, HEAD' }).end('only GET and HEAD are allowed\n');
      return;
    }
    switch (path) {
      case '/healthz':
        response.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
        return;
      case '/readyz':
        response.writeHead(readiness.ready ? 200 : 503, { 'Content-Type': 'text/plain' }).end(`${readiness.reason}\n`);
        return;
      case '/metrics':
        metrics.registry.metrics().then(
          (text) => response.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text),
          (error: unknown) => response.writeHead(500, { 'Content-Type': 'text/plain' }).end(`collecting metrics failed: ${String(error)}\n`),
        );
        return;
      default:
        response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: use /metrics, /healthz or /readyz\n');
    }
  });
}

/** Parses `host:port` (`[v6]:port` for IPv6) of metrics_address; undefined when metrics are off. */
export function parseListenAddress(address: string): { host: string; port: number } | undefined {
  if (address === '' || address === '0') return undefined;
  const index = address.lastIndexOf(':');
  const host = address.slice(0, index).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(index + 1)) };
}
