"""Which devices of a lab are proven simulators (issue 15 item 5): the destructive guard asks the devices.

A testbed's ``simulator:`` block is only a claim: the same file may point its devices at real gear. A
device counts as a simulator only when, over its own protocol, it says what a real appliance never says:
its SSH identification line is ``SSH-2.0-ctrlab-sim_<lab id>`` (or, for an appliance the testbed reaches
only over its web GUI, the GUI's ``Server`` header is ``ctrlab-sim_<lab id>``) and the testbed's simulator
control plane (``/_sim/health``) reports that same lab id. Everything else (neither connection, another
banner or header, no control plane, another lab's id, no answer) is real or unknown gear: destructive
scenarios need ``--allow-destructive`` there, and its settings are recorded and restored.

The check is made once per lab, when a guarded scenario first leases it, and costs one TCP read per
device (the identification line comes before any key exchange), or one HTTPS GET for a GUI-only one, plus
one HTTP GET.
"""

from __future__ import annotations

import json
import socket
import ssl
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .provisioned_lab import Lab
    from .testbed import Testbed

BANNER_PREFIX = "SSH-2.0-ctrlab-sim_"
SERVER_PREFIX = "ctrlab-sim_"  # the simulated GUI's Server header
TIMEOUT_S = 5.0
_KEY = ("ctrlab-provenance",)


def ssh_banner(host: str, port: int, timeout: float = TIMEOUT_S) -> str:
    """The SSH identification line the server at host:port sends first (RFC 4253 4.2)."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        data = b""
        while b"\n" not in data and len(data) < 4096:  # lines before it are allowed; the first SSH- one counts
            chunk = sock.recv(1024)
            if not chunk:
                break
            data += chunk
            lines = data.split(b"\n")
            for line in lines[:-1]:
                if line.startswith(b"SSH-"):
                    return line.decode("ascii", "replace").rstrip("\r")
            data = lines[-1]
    raise ConnectionError("no SSH identification line")


def gui_server(url: str, ca_bundle: str | None, timeout: float = TIMEOUT_S) -> str:
    """The ``Server`` header the web GUI at ``url`` answers with (any status), verified with the testbed's CA."""
    context = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else ssl.create_default_context()
    # No proxy: the GUI is reached as the drivers reach it, directly.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(url, timeout=timeout) as response:
            return str(response.headers.get("Server", ""))
    except urllib.error.HTTPError as exc:  # a login page or an error page still names its server
        return str(exc.headers.get("Server", ""))


def control_lab_id(control_url: str, timeout: float = TIMEOUT_S) -> str:
    # No proxy: the control plane is the harness's own loopback service.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{control_url}/_sim/health", timeout=timeout) as response:
        body = json.loads(response.read(65536))
    lab_id = body.get("lab_id") if isinstance(body, dict) else None
    if not isinstance(lab_id, str) or not lab_id:
        raise ValueError("its /_sim/health names no lab_id")
    return lab_id


def unproven(testbed: Testbed, timeout: float = TIMEOUT_S) -> dict[str, str]:
    """Every device not proven a simulator, with why (for the skip message); empty: all are simulators."""
    why: dict[str, str] = {}
    lab_id: str | None = None
    claim = testbed.simulator
    if claim is None:
        return {name: "the testbed describes no simulator" for name in testbed.devices}
    try:
        lab_id = control_lab_id(claim.control_url, timeout)
    except Exception as exc:  # any failure means "not proven", in one phrase
        return {name: f"the simulator control plane did not vouch for it ({type(exc).__name__})"
                for name in testbed.devices}
    for name, device in testbed.devices.items():
        cli, gui = device.connections.cli, device.connections.gui
        if cli is None and gui is not None:
            try:
                server = gui_server(f"{gui.protocol}://{gui.host}:{gui.port}/", testbed.network.ca_bundle, timeout)
            except (OSError, ValueError) as exc:
                why[name] = f"its GUI did not identify itself ({type(exc).__name__})"
                continue
            if server != f"{SERVER_PREFIX}{lab_id}":
                why[name] = f"its GUI's server is {server[:60]!r}, not this lab's simulator"
            continue
        if cli is None:
            why[name] = "no SSH or GUI connection to ask it what it is"
            continue
        try:
            banner = ssh_banner(cli.host, cli.port, timeout)
        except (OSError, ConnectionError) as exc:
            why[name] = f"its SSH port did not identify itself ({type(exc).__name__})"
            continue
        if banner != f"{BANNER_PREFIX}{lab_id}":
            why[name] = f"its SSH server is {banner[:60]!r}, not this lab's simulator"
    return why


def real_or_unknown(lab: Lab) -> dict[str, str]:
    """:func:`unproven` for the session's lab, checked once (at the first guarded scenario's lease)."""
    return lab.resource(_KEY, lambda: unproven(lab.testbed))
