/**
 * Forwards TCP connections on 127.0.0.1:PORT to a unix socket. Tests start it
 * inside the lab namespace (`ip netns exec lab-os node --import tsx ...`), so
 * a kuryr daemon there reaches a fault proxy that the test runs in the host
 * namespace on that unix socket: a socket file is reachable from every
 * network namespace. A unix socket has no reset, so a proxy's "reset" or
 * "lose-reply" fault reaches the TCP client as a closed connection without a
 * reply, which an HTTP client reports the same way.
 *
 * Usage: netns-forwarder.ts PORT SOCKET_PATH. A PORT of 0 picks a free port.
 * Once ready, it prints "listening PORT".
 */
import { connect, createServer } from 'node:net';

const [portText, socketPath] = process.argv.slice(2);
const port = Number(portText);
if (!Number.isInteger(port) || port < 0 || port > 65_535 || socketPath === undefined) {
  process.stderr.write(`usage: netns-forwarder.ts PORT SOCKET_PATH (got "${process.argv.slice(2).join(' ')}")\n`);
  process.exit(2);
}

const server = createServer((client) => {
  const upstream = connect(socketPath);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.resetAndDestroy());
  client.pipe(upstream);
  upstream.pipe(client);
});
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  const boundPort = address !== null && typeof address === 'object' ? address.port : port;
  process.stdout.write(`listening ${boundPort}\n`);
});
process.on('SIGTERM', () => process.exit(0));
