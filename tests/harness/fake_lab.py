"""A stand-in for ``python -m virtual_appliances.lab`` with scripted misbehaviour, for SimBackend tests.

    python fake_lab.py MODE --testbed-out PATH [--dir DIR]

MODE: ok (writes a testbed, serves /_sim/health), exit (dies with an error before writing), hang (never
writes), unhealthy (health answers 503), stubborn (like ok, but ignores SIGINT), bad-testbed.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

MODE = sys.argv[1]
OUT = Path(sys.argv[sys.argv.index("--testbed-out") + 1])


class Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ok = MODE != "unhealthy"
        body = json.dumps({"status": "ok" if ok else "starting", "appliances": 1}).encode()
        self.send_response(200 if ok else 503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def testbed(port: int) -> dict[str, object]:
    return {
        "testbed": {"name": "fake-sim", "simulator": {"control_url": f"http://127.0.0.1:{port}", "version": "0.0.1"}},
        "devices": {"esa1": {"kind": "esa", "model": "C100V", "version": "13.0.0-392", "hostname": "esa1.fake",
                             "credentials": {"default": {"username": "admin", "password": "fake-lab-pw-1"}},
                             "connections": {"cli": {"host": "127.0.0.1", "port": 1}}}},
        "cloud": {"region": "nam", "sse": {"nam": {"token": "fake-token-1234"}}},
    }


def main() -> None:
    print(f"fake lab {MODE} pid {os.getpid()}", flush=True)
    if MODE == "exit":
        print("ModuleNotFoundError: No module named 'virtual_appliances'", file=sys.stderr, flush=True)
        sys.exit(3)
    if MODE == "hang":
        while True:
            time.sleep(1)  # a stand-in that never gets ready
    if MODE == "stubborn":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    data = testbed(server.server_address[1])
    if MODE == "bad-testbed":
        data["devices"]["esa1"]["kind"] = "wsa"  # type: ignore[index]
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(data))
    tmp.replace(OUT)
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        print("fake lab stopped", flush=True)


if __name__ == "__main__":
    main()
