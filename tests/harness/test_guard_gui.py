"""An appliance the testbed reaches only over its web GUI proves it is this lab's simulator by the GUI's
``Server`` header (``ctrlab-sim_<lab id>``), as an SSH one does by its identification line (issue 17 item 2:
a GUI-only appliance runs the @gui scenarios, destructive ones included)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.provenance import unproven
from harness.testbed import validate_data
from tests.support.sim_proof import serving

from .support import sample_testbed


@contextlib.contextmanager
def gui_answering(server: str | None) -> Iterator[int]:
    """A plain-HTTP stand-in for an appliance's GUI whose answers carry ``Server: <server>`` (none if None)."""

    class Page(BaseHTTPRequestHandler):
        def version_string(self) -> str:
            return server or ""

        def do_GET(self) -> None:
            # send_response adds a Server header, send_response_only none (a GUI that names no server)
            self.send_response_only(200) if server is None else self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield http.server_address[1]
    finally:
        http.shutdown()
        http.server_close()


def gui_only(control_url: str, gui_port: int | None) -> Any:
    data = sample_testbed(simulator=True)
    data["testbed"]["simulator"]["control_url"] = control_url
    connections = data["devices"]["esa1"]["connections"]
    del connections["cli"]
    if gui_port is None:
        connections.clear()
        connections["smtp"] = {"protocol": "smtp", "host": "127.0.0.1", "port": 25}
    else:
        connections["gui"] = {"protocol": "http", "host": "127.0.0.1", "port": gui_port}
    return validate_data(data, "tb.yaml", environ={})


def test_a_gui_only_simulator_proves_itself_by_its_server_header() -> None:
    with serving(lab_id="aaaa") as lab, gui_answering("ctrlab-sim_aaaa") as port:
        assert unproven(gui_only(lab.control_url, port), timeout=2) == {}


def test_another_labs_gui_or_a_real_one_is_not_proof() -> None:
    with serving(lab_id="aaaa") as lab:
        with gui_answering("ctrlab-sim_bbbb") as port:
            assert unproven(gui_only(lab.control_url, port), timeout=2) == {
                "esa1": "its GUI's server is 'ctrlab-sim_bbbb', not this lab's simulator"}
        with gui_answering(None) as port:
            assert unproven(gui_only(lab.control_url, port), timeout=2) == {
                "esa1": "its GUI's server is '', not this lab's simulator"}
        assert unproven(gui_only(lab.control_url, None), timeout=2) == {
            "esa1": "no SSH or GUI connection to ask it what it is"}
