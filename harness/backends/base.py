"""A backend is a provisioner (Ondatra's binding seam): it makes a lab exist and hands back its testbed.

From then on one code path drives every backend: scenarios never ask which one they got. Backends do not
depend on pytest, so the command line (``ctrlab``) can use them too.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

if TYPE_CHECKING:
    from ..testbed import Testbed


class BackendError(Exception):
    """A lab could not be provisioned (or released); the message says what to do about it."""


@dataclass(frozen=True)
class BackendOptions:
    """What a backend may be told; each backend uses what applies to it."""

    testbed_path: Path | None = None  # lab: the testbed of real gear (or of a lab started elsewhere)
    appliances: int = 2  # sim: how many ESAs the lab hosts (2: multi-appliance scenarios work)
    sma: int = 1  # sim: SMAs added to the fleet (@device:sma scenarios)
    gateway: int = 1  # sim: content security gateways added (@device:gateway scenarios)
    reports_dir: Path = Path("reports")  # sim: where the lab's log goes
    log_name: str = "sim-lab.log"  # sim: the log's file name (one per xdist worker)
    project_root: Path | None = None  # sim: put on PYTHONPATH, so a source checkout works uninstalled
    start_timeout: float = 60.0  # sim: real seconds for the lab to write its testbed and answer health
    stop_timeout: float = 15.0  # sim: real seconds between SIGINT and SIGKILL at teardown
    extra_args: tuple[str, ...] = ()  # sim: passed through to python -m virtual_appliances.lab
    environ: dict[str, str] | None = field(default=None, hash=False)  # for %ENV{...}; None: os.environ


class Backend(ABC):
    """Provision a lab and release it. ``provision`` may be slow; constructing a backend must not be."""

    name: ClassVar[str] = "backend"

    def __init__(self, options: BackendOptions) -> None:
        self.options = options

    @abstractmethod
    def provision(self) -> Testbed:
        """Make the lab exist (or check it is there) and return the testbed that describes it."""

    def teardown(self) -> None:  # noqa: B027 - most backends have nothing to release
        """Release what ``provision`` made. Safe to call twice, and after a failed ``provision``."""

    def describe(self) -> str:
        """One line for reports (environment.properties, the terminal header)."""
        return self.name

    # A failing scenario's report gets what the lab logged while it ran: the plugin takes a mark when
    # the scenario starts and asks for the log since that mark when it fails.
    def log_mark(self) -> object | None:
        """Where the lab's log is now (opaque to callers); None when this backend keeps no log."""
        return None

    def logs(self, since: object | None = None) -> str:
        """The lab's log since a mark from :meth:`log_mark` (all of it with None); '' when there is none."""
        return ""


HEALTH_TIMEOUT = (2.0, 5.0)  # (connect, read) seconds of one /_sim/health request


def read_lab_testbed(path: Path, environ: dict[str, str] | None, fail: Callable[[str], NoReturn]) -> Testbed:
    """The testbed a simulator lab wrote, or ``fail`` with what is wrong with it."""
    from ..testbed import TestbedError, load_testbed

    try:
        return load_testbed(path, environ=environ)
    except TestbedError as exc:
        fail(f"the lab wrote a testbed the harness cannot use:\n{exc}")


def wait_for_control_plane(testbed: Testbed, deadline: float, budget: float, *, pause: Callable[[], object],
                           gone: Callable[[], str | None], fail: Callable[[str], NoReturn]) -> None:
    """Poll the lab's ``/_sim/health`` until it answers status ok, from this host, to a deadline.

    ``pause`` waits one poll interval (returning early when the lab dies is welcome); ``gone`` says why
    waiting is pointless (the lab exited, teardown began), or None.
    """
    import requests

    assert testbed.simulator is not None, "a simulator lab's testbed names its control plane"
    url = f"{testbed.simulator.control_url}/_sim/health"
    last = "no answer"
    with requests.Session() as session:
        session.trust_env = False  # no proxy between the harness and a loopback control plane
        while True:
            reason = gone()
            if reason:
                fail(reason)
            try:
                response = session.get(url, timeout=HEALTH_TIMEOUT)
                body: Any = response.json() if response.ok else None
                if isinstance(body, dict) and body.get("status") == "ok":
                    return
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            except (requests.RequestException, ValueError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            if time.monotonic() > deadline:
                fail(f"{url} did not answer status ok within {budget:g} s (last: {last})")
            pause()


def lab_preexec() -> Callable[[], None]:
    """``preexec_fn`` for a process the harness starts to run simulators (a lab, the xdist controller's fork
    server): call it in the thread that starts the process. The parent-death signal fires when the forking
    *thread* ends: it is set only from the main thread, the one that lives as long as pytest."""
    return functools.partial(_lab_child_setup, threading.current_thread() is threading.main_thread())


def _lab_child_setup(die_with_parent: bool) -> None:  # pragma: no cover - in the child between fork and exec
    # The lab is stopped with SIGINT. A harness started with SIGINT ignored (as `cmd &` in a non-interactive
    # shell leaves it, a CI runner's background step) would pass that on through exec: every stop a SIGKILL.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if not die_with_parent:
        return
    # Linux: if pytest itself is killed (SIGKILL, OOM), the kernel stops the lab too; no orphans.
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
