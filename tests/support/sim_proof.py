"""A stand-in for what makes a simulator lab provable (harness/provenance.py), without the whole lab:
an SSH port that identifies itself with a banner, and a control plane whose /_sim/health names a lab id."""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Proof:
    control_url: str
    ssh_port: int


@contextlib.contextmanager
def serving(lab_id: str = "0123456789abcdef", banner: str | None = None) -> Iterator[Proof]:
    """``banner`` defaults to the simulator's ``SSH-2.0-ctrlab-sim_<lab_id>``; give a real one to play real gear."""
    line = (banner or f"SSH-2.0-ctrlab-sim_{lab_id}") + "\r\n"

    class Banner(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            with contextlib.suppress(OSError):
                self.request.sendall(line.encode())

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"status": "ok", "lab_id": lab_id}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    ssh = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Banner)
    http = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
               for s in (ssh, http)]
    for thread in threads:
        thread.start()
    try:
        yield Proof(f"http://127.0.0.1:{http.server_address[1]}", ssh.server_address[1])
    finally:
        for server in (ssh, http):
            server.shutdown()
            server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
