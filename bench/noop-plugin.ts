/**
 * A minimal libnetwork remote network and IPAM plugin that talks to nothing:
 * the benchmark's baseline for what any remote plugin costs. It hands out
 * addresses from one /16 and creates a veth pair per endpoint, because
 * dockerd needs an interface to move into the container. Run it inside the
 * lab namespace, where dockerd runs: `ip netns exec lab-os node --import tsx
 * bench/noop-plugin.ts`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SOCKET = process.env.NOOP_SOCKET ?? '/run/docker/plugins/kuryrnoop.sock';
let nextHost = 2;

function vethNames(endpointId: string): { host: string; container: string } {
  return { host: `nop${endpointId.slice(0, 11)}`, container: `noc${endpointId.slice(0, 11)}` };
}

type Handler = (body: Record<string, unknown>) => Promise<Record<string, unknown>>;

const handlers: Record<string, Handler> = {
  'Plugin.Activate': async () => ({ Implements: ['NetworkDriver', 'IpamDriver'] }),
  'NetworkDriver.GetCapabilities': async () => ({ Scope: 'local' }),
  'IpamDriver.GetCapabilities': async () => ({ RequiresMACAddress: false }),
  'IpamDriver.GetDefaultAddressSpaces': async () => ({ LocalDefaultAddressSpace: 'noop', GlobalDefaultAddressSpace: 'noop' }),
  'IpamDriver.RequestPool': async (body) => ({ PoolID: 'noop-pool', Pool: body.Pool || '10.90.0.0/16', Data: {} }),
  'IpamDriver.RequestAddress': async (body) => {
    if (typeof body.Address === 'string' && body.Address !== '') return { Address: `${body.Address}/16`, Data: {} };
    nextHost += 1;
    return { Address: `10.90.${Math.floor(nextHost / 250) % 250}.${(nextHost % 250) + 2}/16`, Data: {} };
  },
  'NetworkDriver.CreateEndpoint': async () => ({ Interface: {} }),
  'NetworkDriver.Join': async (body) => {
    const names = vethNames(String(body.EndpointID));
    await run('ip', ['link', 'add', names.host, 'type', 'veth', 'peer', 'name', names.container]);
    await run('ip', ['link', 'set', names.host, 'up']);
    return { InterfaceName: { SrcName: names.container, DstPrefix: 'eth' }, Gateway: '10.90.0.1', DisableGatewayService: true };
  },
  'NetworkDriver.DeleteEndpoint': async (body) => {
    // The pair is usually gone with the container's namespace already.
    await run('ip', ['link', 'del', vethNames(String(body.EndpointID)).host]).catch(() => undefined);
    return {};
  },
  'NetworkDriver.EndpointOperInfo': async () => ({ Value: {} }),
};

mkdirSync('/run/docker/plugins', { recursive: true });
rmSync(SOCKET, { force: true });
const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const verb = (request.url ?? '/').slice(1);
    const text = Buffer.concat(chunks).toString();
    const body = (text.trim() === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
    const handler = handlers[verb] ?? (async () => ({}));
    handler(body)
      .then((reply) => {
        response.writeHead(200, { 'Content-Type': 'application/vnd.docker.plugins.v1+json' });
        response.end(JSON.stringify(reply));
      })
      .catch((error: unknown) => {
        response.writeHead(500, { 'Content-Type': 'application/vnd.docker.plugins.v1+json' });
        response.end(JSON.stringify({ Err: String(error) }));
      });
  });
});
server.listen(SOCKET, () => process.stdout.write(`listening on ${SOCKET}\n`));
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close();
    rmSync(SOCKET, { force: true });
    process.exit(0);
  });
}
