"""The circuit breaker: when the lab stops answering, stop the run at once instead of timing out per scenario.

It opens on either signal (issue 13, item 4):

* after a scenario's lab fault of the "did not answer" kind, the lab's health check fails (the
  simulators' ``/_sim/health``, or the lab process has exited; on real gear a TCP connect to each
  appliance);
* ``threshold`` scenarios in a row end in such a lab fault (the testbed's ``breaker.lab_faults``).

Once open, the plugin skips every remaining scenario with :attr:`Breaker.reason`, a single line naming what is
down; the results written so far stay. A passed or conformance-failed scenario closes the count again
(the lab answered). Set-up faults where the lab answered (a Given that could not establish its state,
refused credentials) do not count: a product defect must not stop the run.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from .verdicts import CONFORMANCE, Verdict

DEFAULT_THRESHOLD = 3
TCP_TIMEOUT = 3.0
# Set once the lab stopped answering: every later HTTP request of this process (harness/http.py) fails at
# once, so the clean-ups of the scenario that hit the fault do not each wait out a read timeout. Kept
# here, not in harness/http.py, so the xdist controller sets it without importing requests.
_circuit_opened: str | None = None

Health = Callable[[], str | None]  # None: healthy; else what is down, in one line


@dataclass
class Breaker:
    threshold: int = DEFAULT_THRESHOLD
    health: Health | None = None
    consecutive: int = 0
    reason: str | None = None  # set once open
    last_down: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def open(self) -> bool:
        return self.reason is not None

    def record(self, verdict: Verdict | None) -> str | None:
        """One scenario's outcome (None: passed). Returns the reason when this call opened the breaker."""
        with self._lock:
            if self.open:
                return None
            if verdict is None or verdict.kind == CONFORMANCE:
                self.consecutive = 0
                return None
            if not verdict.lab_down:
                return None
            self.consecutive += 1
            self.last_down = verdict.down or verdict.reason
        down = self.health() if self.health is not None else None
        with self._lock:
            if self.open:
                return None
            if down:
                self.reason = f"ctrlab: stopping the run, the lab is down: {down}"
            elif self.consecutive >= self.threshold:
                self.reason = f"ctrlab: stopping the run after {self.consecutive} lab faults in a row: {self.last_down}"
            return self.reason


# ---- health checks ---------------------------------------------------------------------------------
def simulator_health(testbed: Any, process: Any = None) -> str | None:
    """The bundled lab: its process (when this run started it) and one probe of the control plane's
    ``/_sim/health``, the backends' own check (``harness.backends.base.wait_for_control_plane``)."""
    from .backends.base import HEALTH_TIMEOUT, wait_for_control_plane

    if process is not None and process.poll() is not None:
        return f"the simulator lab process (pid {process.pid}) exited with code {process.returncode}"

    class Down(Exception):
        pass

    def fail(reason: str) -> NoReturn:
        raise Down(reason)

    try:  # a deadline already past: one probe, no waiting
        wait_for_control_plane(testbed, time.monotonic(), HEALTH_TIMEOUT[1], pause=lambda: None,
                               gone=lambda: None, fail=fail)
    except Down as exc:
        # One line: the probe's verdict and the kind of error, not urllib3's nested reprs.
        text, _, last = str(exc).partition(" (last: ")
        kind = last.split(":")[0].strip(") ")
        return f"the simulator lab's control plane does not answer: {text}" + (f" ({kind})" if kind else "")
    return None


def gear_health(endpoints: dict[str, tuple[str, int]], timeout: float = TCP_TIMEOUT) -> str | None:
    """Real gear: each appliance accepts a TCP connection on its first endpoint (no login, read-only)."""
    for name, (host, port) in endpoints.items():
        try:
            with socket.create_connection((host, port), timeout=timeout):
                pass
        except OSError as exc:
            return f"{name} ({host}:{port}) does not accept connections ({type(exc).__name__}: {exc})"
    return None


def health_of(testbed: Any, backend: Any = None, named: bool = False) -> Health:
    """The health check for a provisioned testbed (and the backend that made it, if any); ``named``: its
    answer starts with the testbed file, for a run on several labs."""
    check = _health_of(testbed, backend)
    if not named:
        return check

    def named_check() -> str | None:
        down = check()
        return f"{testbed.source}: {down}" if down else None

    return named_check


def _health_of(testbed: Any, backend: Any) -> Health:
    simulator = getattr(testbed, "simulator", None)
    if simulator is not None:
        process = getattr(backend, "process", None)
        return lambda: simulator_health(testbed, process)
    endpoints = {name: next(iter(device.connections.endpoints().values()))
                 for name, device in testbed.devices.items()}  # each appliance's first interface
    return lambda: gear_health(endpoints)


def open_circuit(reason: str) -> None:
    global _circuit_opened
    _circuit_opened = reason


def close_circuit() -> None:
    global _circuit_opened
    _circuit_opened = None


def circuit_opened() -> str | None:
    """Why the circuit is open (the lab stopped answering), or None: requests go out."""
    return _circuit_opened
