"""The lab behind one TCP port, for a harness on another machine than the docker engine (docs/docker.md).

    ctrlab-tunnel --bind 198.18.0.2 --state /tmp/ctrlab/tunnel.json -- python -m virtual_appliances.lab ...

runs the lab command as a child (signals passed on, its exit code is this one's) and listens on
``--bind`` port 0, a port the kernel picks free, written to ``--state`` as ``{"port": N}``. The lab itself
stays on the engine host's loopback, as in a local run: its resolver, its FQDN addresses and its firewall
are lab-only. A connection opens with one line, ``CTRLAB-TUNNEL <token> <host> <port>\\n`` (the token is
``$CTRLAB_TUNNEL_TOKEN``, the host a loopback address), and then carries bytes to and from that
endpoint unchanged (TLS end to end, so certificates name what they name in a local run). Anything else
is closed without an answer. The harness's side is ``harness/backends/relay.py``.

Standard library only (the image's venv python runs it; it must not depend on what the project installs);
every wait has a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import hmac
import ipaddress
import json
import os
import signal
import sys
from pathlib import Path

MAGIC = "CTRLAB-TUNNEL"
HEADER_TIMEOUT_S = 10.0  # a client that connects and says nothing is dropped
CONNECT_TIMEOUT_S = 10.0  # to the lab endpoint on loopback
HEADER_MAX = 256
CHUNK = 65536
LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")


def parse_header(line: bytes, token: str) -> tuple[str, int] | None:
    """(host, port) from a well-formed header with the right token and a loopback target, else None."""
    try:
        magic, given, host, port_text = line.decode("ascii").split()
        port = int(port_text)
        address = ipaddress.IPv4Address(host)
    except (UnicodeDecodeError, ValueError):
        return None
    if magic != MAGIC or not hmac.compare_digest(given, token) or address not in LOOPBACK or not 0 < port < 65536:
        return None
    return host, port


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()  # half-close: the other direction may still carry an answer
    except (ConnectionError, OSError):
        writer.close()


async def serve_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, token: str) -> None:
    upstream: asyncio.StreamWriter | None = None
    try:
        line = await asyncio.wait_for(reader.readuntil(b"\n"), HEADER_TIMEOUT_S)
        target = parse_header(line[:HEADER_MAX], token)
        if target is None:
            return
        up_reader, upstream = await asyncio.wait_for(asyncio.open_connection(*target), CONNECT_TIMEOUT_S)
        await asyncio.gather(pipe(reader, upstream), pipe(up_reader, writer))
    except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError):
        pass
    finally:
        for w in (writer, upstream):
            if w is not None:
                w.close()


def write_state(path: Path, port: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps({"port": port}))
    tmp.replace(path)


async def run(bind: str, state: Path, command: list[str], token: str) -> int:
    clients: set[asyncio.Task[None]] = set()

    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:  # ended before the loop closes (no "Task was destroyed but it is pending")
            clients.add(task)
            task.add_done_callback(clients.discard)
        with contextlib.suppress(asyncio.CancelledError):  # at exit: ended, not failed
            await serve_client(r, w, token)

    try:
        server = await asyncio.start_server(handler, bind, 0, limit=HEADER_MAX * 4)
    except OSError as exc:
        if exc.errno != errno.EADDRNOTAVAIL:
            raise
        # The address the harness reaches is not this host's own (NAT, a forwarded port): every address.
        print(f"ctrlab-tunnel: {bind} is not an address of this host; listening on all of them", flush=True)
        server = await asyncio.start_server(handler, "0.0.0.0", 0, limit=HEADER_MAX * 4)
    write_state(state, server.sockets[0].getsockname()[1])
    child = await asyncio.create_subprocess_exec(*command)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda s=sig: child.returncode is None and child.send_signal(s))
    try:
        return await child.wait()
    finally:
        server.close()
        for task in list(clients):
            task.cancel()
        if clients:
            await asyncio.wait(list(clients), timeout=CONNECT_TIMEOUT_S)
        with contextlib.suppress(OSError):
            state.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ctrlab-tunnel")
    parser.add_argument("--bind", required=True, help="the engine host's address the harness reaches")
    parser.add_argument("--state", type=Path, required=True, help='where to write {"port": N}')
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the lab command")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    token = os.environ.get("CTRLAB_TUNNEL_TOKEN", "")
    if not command or len(token) < 16:
        parser.error("needs a lab command after -- and CTRLAB_TUNNEL_TOKEN (16 characters or more)")
    return asyncio.run(run(args.bind, args.state, command, token))


if __name__ == "__main__":
    sys.exit(main())
