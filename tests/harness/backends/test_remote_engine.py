"""The remote-engine pieces of the docker backend without a daemon: the engine host from DOCKER_HOST, the
tunnel's header check, the relays carrying TCP and DNS through a tunnel on loopback, the testbed rewrite."""

from __future__ import annotations

import asyncio
import gc
import json
import random
import socket
import struct
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from harness.backends import BackendError
from harness.backends.relay import Engine, Relays
from harness.backends.remote_engine import FirewallMirror, engine_address, engine_host, relay_control, relay_testbed
from virtual_appliances.docker import tunnel

TOKEN = "t" * 32
NETLAB: dict[str, Any] = {"firewall": {"rules": []}}  # what the fake control plane's GET answers


@pytest.mark.parametrize(("docker_host", "host"), [
    (None, None), ("", None), ("unix:///var/run/docker.sock", None), ("npipe:////./pipe/docker_engine", None),
    ("tcp://127.0.0.1:2375", None), ("tcp://localhost:2375", None), ("tcp://[::1]:2375", None),
    ("tcp://198.18.0.2:2375", "198.18.0.2"), ("https://engine.lab.test:2376", "engine.lab.test"),
    ("ssh://ci@engine.lab.test:2222", "engine.lab.test"), ("ssh://engine.lab.test", "engine.lab.test"),
    ("tcp://[2001:db8::1]:2375", "2001:db8::1"),
])
def test_the_engine_host_comes_from_docker_host(docker_host: str | None, host: str | None) -> None:
    assert engine_host(docker_host) == host


@pytest.mark.parametrize(("docker_host", "message"), [
    ("ftp://engine:21", "expected unix://, tcp://HOST:PORT or ssh://"), ("tcp://:2375", "names no host"),
])
def test_a_docker_host_the_backend_cannot_use_is_named(docker_host: str, message: str) -> None:
    with pytest.raises(BackendError, match=message):
        engine_host(docker_host)


def test_an_engine_address_given_as_an_ip_is_used_as_is() -> None:
    assert engine_address("198.18.0.2") == "198.18.0.2"


@pytest.mark.parametrize(("line", "target"), [
    (f"CTRLAB-TUNNEL {TOKEN} 127.0.0.1 22\n", ("127.0.0.1", 22)),
    (f"CTRLAB-TUNNEL {TOKEN} 127.9.8.7 443\n", ("127.9.8.7", 443)),
    (f"CTRLAB-TUNNEL {'u' * 32} 127.0.0.1 22\n", None),  # wrong token
    (f"CTRLAB-TUNNEL {TOKEN} 198.18.0.1 22\n", None),  # not the engine host's loopback
    (f"CTRLAB-TUNNEL {TOKEN} 127.0.0.1 0\n", None),
    (f"CTRLAB-TUNNEL {TOKEN} localhost 22\n", None),
    ("GET / HTTP/1.1\n", None),
])
def test_the_tunnel_accepts_only_its_token_and_loopback_targets(line: str, target: tuple[str, int] | None) -> None:
    assert tunnel.parse_header(line.encode(), TOKEN) == target


class Loop:
    """An asyncio loop in a thread, for the tunnel and the fake lab endpoints behind it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def lab() -> Iterator[tuple[Loop, int, int, int]]:
    """(loop, tunnel port, echo port, DNS-over-TCP port) on 127.0.0.1."""
    loop = Loop()

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.read(1000))
        await writer.drain()
        writer.close()

    async def dns(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        size = struct.unpack("!H", await reader.readexactly(2))[0]
        query = await reader.readexactly(size)
        answer = b"answer:" + query
        writer.write(struct.pack("!H", len(answer)) + answer)
        await writer.drain()
        writer.close()

    async def control(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + json.dumps(NETLAB).encode())
        await writer.drain()
        writer.close()

    async def start() -> list[asyncio.AbstractServer]:
        return [await asyncio.start_server(lambda r, w: tunnel.serve_client(r, w, TOKEN), "127.0.0.1", 0),
                await asyncio.start_server(echo, "127.0.0.1", 0), await asyncio.start_server(dns, "127.0.0.1", 0),
                await asyncio.start_server(control, "127.0.0.1", 0)]

    servers = loop.run(start())
    loop.control_port = servers[3].sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    yield loop, *(s.sockets[0].getsockname()[1] for s in servers[:3])  # type: ignore[misc]

    async def stop() -> None:
        for server in servers:
            server.close()

    loop.run(stop())
    loop.close()


def _bound(kind: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, kind)
    sock.bind(("127.0.0.1", 0))
    return sock


def test_relays_carry_tcp_and_dns_through_the_tunnel(lab: tuple[Loop, int, int, int]) -> None:
    _, tunnel_port, echo_port, dns_port = lab
    relays = Relays(Engine("127.0.0.1", tunnel_port, TOKEN))
    try:
        tcp, udp = _bound(socket.SOCK_STREAM), _bound(socket.SOCK_DGRAM)
        relays.tcp(tcp, ("127.0.0.1", echo_port))
        relays.dns(udp, ("127.0.0.1", dns_port))
        with socket.create_connection(tcp.getsockname(), timeout=5) as client:
            client.sendall(b"hello through the tunnel")
            assert client.recv(100) == b"hello through the tunnel"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(5)
            client.sendto(b"query", udp.getsockname())
            assert client.recv(100) == b"answer:query"
    finally:
        relays.close()


def test_a_relay_with_the_wrong_token_gets_nothing(lab: tuple[Loop, int, int, int]) -> None:
    _, tunnel_port, echo_port, _ = lab
    relays = Relays(Engine("127.0.0.1", tunnel_port, "w" * 32))
    try:
        tcp = _bound(socket.SOCK_STREAM)
        relays.tcp(tcp, ("127.0.0.1", echo_port))
        with socket.create_connection(tcp.getsockname(), timeout=5) as client:
            client.settimeout(15)
            client.sendall(b"hello")
            assert client.recv(100) == b""
    finally:
        relays.close()


def test_closing_relays_ends_every_connection_even_ones_accepted_as_they_close(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Connections accepted just before close() become handlers a few loop turns later; none may be left
    pending on the stopped loop (its clean-up would then raise "Event loop is closed" at garbage collection)."""
    unraisable: list[str] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: unraisable.append(f"{u.exc_type.__name__}: {u.exc_value}"))
    with socket.create_server(("127.0.0.1", 0), backlog=512) as engine:  # takes connections, never answers
        for _ in range(8):
            relays = Relays(Engine("127.0.0.1", engine.getsockname()[1], TOKEN))
            listener = _bound(socket.SOCK_STREAM)
            relays.tcp(listener, ("127.0.0.1", 22))
            clients = [socket.create_connection(listener.getsockname(), timeout=5) for _ in range(30)]
            relays.close()
            assert not relays._thread.is_alive() and relays._loop.is_closed()
            for client in clients:
                client.close()
            gc.collect()
    assert unraisable == []
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []


def _lab_testbed(block: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A remote lab's testbed (the fields relay_testbed reads) and its /_sim/netlab state."""
    raw = {
        "testbed": {"name": "ctrlab-sim", "simulator": {
            "control_url": "http://127.0.0.1:41000", "proxy_url": "http://127.0.0.1:41001",
            "appliance_netns": "ctrlab-1-x-appliance", "appliance_network": {"resolver": "198.18.0.1:53"}}},
        "devices": {"esa1": {"connections": {
            "cli": {"protocol": "ssh", "host": "127.0.0.1", "port": 41002},
            "gui": {"protocol": "https", "host": "127.0.0.1", "port": 41003}}}},
        "cloud": {"region": "nam",
                  "sse": {"nam": {"admin_url": f"https://{block}.12:40443", "api_key": "k"}},
                  "ctr": {"nam": {"base_url": f"https://{block}.13:40443", "intel_url": f"https://{block}.14:40443"}}},
        "network": {"resolver": "127.0.0.1:41004", "ca_bundle": "/tmp/lab/ca.pem", "https_port": 40443},
    }
    addresses = {f"site{i}.test": f"{block}.{10 + i}" for i in range(1, 6)}
    netlab = {"block": f"{block}.0/24", "https_port": 40443, "addresses": addresses,
              "sites": sorted(addresses)[:4]}  # site5 has no listener: nothing relays it
    return raw, netlab


def _listening(port: int, host: str = "127.0.0.1") -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return False
    return True


def test_the_testbed_keeps_its_hosts_and_gets_the_relays_ports() -> None:
    block = f"127.{random.randrange(200, 250)}.{random.randrange(256)}"
    raw, netlab = _lab_testbed(block)
    relays = Relays(Engine("127.0.0.1", 9, TOKEN))  # never connected: only the listeners are looked at
    try:
        control, _ = relay_control(raw, relays)
        relay_testbed(raw, netlab, relays, "/here/ca.pem")
        port = raw["network"]["https_port"]
        assert control == raw["testbed"]["simulator"]["control_url"] != "http://127.0.0.1:41000"
        assert raw["cloud"]["sse"]["nam"]["admin_url"] == f"https://{block}.12:{port}"
        assert raw["cloud"]["ctr"]["nam"]["intel_url"] == f"https://{block}.14:{port}"
        assert raw["network"]["ca_bundle"] == "/here/ca.pem"
        assert "appliance_netns" not in raw["testbed"]["simulator"]
        cli = raw["devices"]["esa1"]["connections"]["cli"]
        assert cli["host"] == "127.0.0.1" and cli["port"] != 41002 and _listening(cli["port"])
        assert all(_listening(port, f"{block}.{10 + i}") for i in range(1, 5))
        assert not _listening(port, f"{block}.15"), "an FQDN without a site must stay refused"
        host, _, resolver_port = raw["network"]["resolver"].rpartition(":")
        assert host == "127.0.0.1" and _listening(int(resolver_port))
        # The block is claimed here as a lab claims it: a second relay of the same lab is refused.
        with pytest.raises(BackendError, match=f"address block {block}.0/24 is in use"):
            relay_testbed(*_lab_testbed(block), relays, "/here/ca.pem")
    finally:
        relays.close()
    assert not _listening(cli["port"])


def _ask(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.settimeout(10)
        client.sendall(request)
        answer = b""
        while chunk := client.recv(4096):
            answer += chunk
        return answer


def test_a_site_the_lab_rejects_is_refused_here_before_the_control_plane_answers(
        lab: tuple[Loop, int, int, int]) -> None:
    loop, tunnel_port, echo_port, _ = lab
    control_port = loop.control_port  # type: ignore[attr-defined]
    relays = Relays(Engine("127.0.0.1", tunnel_port, TOKEN))
    try:
        mirror = FirewallMirror(relays, ("127.0.0.1", control_port))
        control, site = _bound(socket.SOCK_STREAM), _bound(socket.SOCK_STREAM)
        relays.tcp(control, ("127.0.0.1", control_port), hook=mirror)
        relays.tcp(site, ("127.0.0.1", echo_port))
        site_at, control_at = site.getsockname(), control.getsockname()[1]  # (the relays own the sockets)
        mirror.sites, mirror.https_port = {"a.test": site_at}, 40443
        change = b"POST /_sim/netlab/firewall HTTP/1.0\r\nContent-Length: 0\r\n\r\n"

        NETLAB["firewall"]["rules"] = [{"fqdn": "a.test", "port": 40443, "action": "reject"}]
        assert _ask(control_at, change).startswith(b"HTTP/1.0 200")
        with pytest.raises(ConnectionRefusedError):  # by the time the answer came, not one moment later
            socket.create_connection(site_at, timeout=5)

        NETLAB["firewall"]["rules"] = [{"fqdn": "a.test", "port": 40443, "action": "drop"}]  # not a refusal
        _ask(control_at, change)
        assert _ask(site_at[1], b"ping") == b"ping"

        NETLAB["firewall"]["rules"] = [{"fqdn": "a.test", "port": 40443, "action": "reject"}]
        _ask(control_at, b"GET /_sim/netlab HTTP/1.0\r\n\r\n")  # a read changes nothing
        assert _ask(site_at[1], b"ping") == b"ping"
    finally:
        NETLAB["firewall"]["rules"] = []
        relays.close()
