#!/usr/bin/python3
"""TCP relay from the host namespace into a named network namespace.

Binds 127.0.0.1:PORT in the namespace it starts in (the host's), then
switches this process into NETNS and forwards every accepted connection to
127.0.0.1:PORT there. This makes the lab's Keystone and Neutron reachable
from the host at the same URLs their catalog lists, without any route,
address or firewall change.

Standard library only, for Debian's /usr/bin/python3 (3.11, which has no
os.setns), so setns(2) is called through ctypes.
"""

import argparse
import asyncio
import ctypes
import errno
import os
import socket
import sys

CLONE_NEWNET = 0x40000000
BUFFER_SIZE = 65536


def log(message: str) -> None:
    print(f"relay: {message}", file=sys.stderr, flush=True)


def enter_netns(name: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns into {name} failed: {os.strerror(err)}")
    finally:
        os.close(fd)


def bind_listener(port: int) -> socket.socket | None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            log(f"WARNING: 127.0.0.1:{port} is already in use on the host; not relaying it")
            return None
        raise
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(BUFFER_SIZE):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


async def forward(port: int, client_reader: asyncio.StreamReader,
                  client_writer: asyncio.StreamWriter) -> None:
    # The socket opened here is created in the namespace this thread entered.
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as exc:
        log(f"connect to 127.0.0.1:{port} inside the namespace failed: {exc}")
        client_writer.close()
        return
    await asyncio.gather(pump(client_reader, upstream_writer),
                         pump(upstream_reader, client_writer))
    for writer in (client_writer, upstream_writer):
        writer.close()


async def serve(listeners: dict[int, socket.socket]) -> None:
    servers = []
    for port, sock in listeners.items():
        async def handle(reader, writer, port=port):
            await forward(port, reader, writer)
        servers.append(await asyncio.start_server(handle, sock=sock))
        log(f"relaying host 127.0.0.1:{port} into the namespace")
    await asyncio.gather(*(server.serve_forever() for server in servers))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--netns", required=True, help="target namespace under /run/netns")
    parser.add_argument("ports", nargs="+", type=int, help="TCP ports to relay")
    args = parser.parse_args()

    # Listeners must be bound before setns, while still in the host namespace.
    listeners = {}
    for port in args.ports:
        sock = bind_listener(port)
        if sock is not None:
            listeners[port] = sock
    if not listeners:
        log("no port could be bound; exiting")
        return 1
    enter_netns(args.netns)
    try:
        asyncio.run(serve(listeners))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
