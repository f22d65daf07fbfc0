"""``sim``: the bundled simulators, started as ``python -m virtual_appliances.lab`` in a subprocess.

The harness never imports ``virtual_appliances``: it runs the lab as a separate process, waits for the
testbed file the lab writes once every endpoint listens (written atomically, so its appearance means
"ready"), checks the control plane's ``/_sim/health``, and from then on reaches the lab only over its
protocols. The lab runs in its own process group: a Ctrl-C in the terminal reaches pytest, which tears
the lab down in order (SIGINT, a bounded wait, then SIGKILL). Its output goes to
``reports/sim-lab.log``.

With pytest-xdist every worker runs a lab of its own (``reports/sim-lab-gw0.log``, ...): its own appliances,
SSE and Threat Response, so no worker waits for another's lab-wide step. Each is a fork of the fork server
the controller started (``harness/forkserver``: the lab's imports made once, not once per worker).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, NoReturn

from .. import forkserver
from .base import Backend, BackendError, BackendOptions, lab_preexec, read_lab_testbed, wait_for_control_plane

if TYPE_CHECKING:
    from ..testbed import Testbed

LAB_MODULE = "virtual_appliances.lab"
POLL_WAIT_S = 0.05  # how long each wait for the testbed file lasts (returns early if the lab exits)
LOG_ATTACH_BYTES = 256_000  # a failing scenario's share of the lab log, at most
LOG_TAIL_CHARS = 3000


class SimBackend(Backend):
    name = "sim"

    def __init__(self, options: BackendOptions) -> None:
        super().__init__(options)
        self.process: subprocess.Popen[bytes] | forkserver.ForkedLab | None = None
        self.workdir: Path | None = None
        self.log_path = options.reports_dir / options.log_name
        self._log: IO[bytes] | None = None
        self._testbed: Testbed | None = None
        self._atexit_registered = False
        self.testbed_path: Path | None = None  # where the running lab wrote its testbed (shared with workers)
        self._deadline = 0.0  # monotonic time by which the started lab must be ready

    def describe(self) -> str:
        o = self.options
        extra = "".join(f", {n} {kind}" for kind, n in (("sma", o.sma), ("gateway", o.gateway)) if n)
        return f"sim ({o.appliances} esa{extra})"

    # ---- provision ----------------------------------------------------------------------------------
    def command(self, testbed_out: Path, lab_dir: Path) -> list[str]:
        return [sys.executable, "-m", LAB_MODULE, *self.lab_args(testbed_out, lab_dir)]

    def lab_args(self, testbed_out: Path, lab_dir: Path) -> list[str]:
        """The arguments of ``python -m virtual_appliances.lab``, as the fork server takes them too."""
        fleet = [f"--{kind}={count}" for kind, count in (("sma", self.options.sma), ("gateway", self.options.gateway))
                 if count]
        return ["--appliances", str(self.options.appliances), *fleet, "--testbed-out", str(testbed_out),
                "--dir", str(lab_dir), *self.options.extra_args]

    def start(self) -> None:
        """Launch the lab process and return at once; :meth:`provision` waits for it (harness/early_lab.py)."""
        if self.process is not None or self._testbed is not None:
            return
        self.workdir = Path(tempfile.mkdtemp(prefix="ctrlab-sim-"))
        testbed_out = self.workdir / "testbed.yaml"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        env = dict(os.environ if self.options.environ is None else self.options.environ)
        env["PYTHONUNBUFFERED"] = "1"
        if self.options.project_root is not None:
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(self.options.project_root), env.get("PYTHONPATH"))
                                                if p)
        lab_args = self.lab_args(testbed_out, self.workdir / "lab")
        server = forkserver.server_address()  # an xdist worker: its controller's fork server starts labs faster
        if server is not None:
            self.process = forkserver.launch(server, LAB_MODULE, lab_args, self._log, env, Path.cwd())
        if self.process is None:
            try:
                self.process = subprocess.Popen(
                    self.command(testbed_out, self.workdir / "lab"), stdin=subprocess.DEVNULL, stdout=self._log,
                    stderr=subprocess.STDOUT, env=env, start_new_session=True, preexec_fn=lab_preexec())
            except OSError as exc:
                self._fail(f"cannot run {sys.executable}: {exc}")
        if not self._atexit_registered:
            atexit.register(self.teardown)  # a hard exit of pytest must not leave the lab running
            self._atexit_registered = True
        self._deadline = time.monotonic() + self.options.start_timeout

    def provision(self) -> Testbed:
        if self._testbed is not None:
            return self._testbed
        self.start()
        assert self.workdir is not None
        testbed_out = self.workdir / "testbed.yaml"
        deadline = self._deadline
        self._wait_for_file(testbed_out, deadline)
        testbed = self._read_testbed(testbed_out)
        self._wait_for_health(testbed, deadline)
        self._testbed, self.testbed_path = testbed, testbed_out
        return testbed

    def _wait_for_file(self, testbed_out: Path, deadline: float) -> None:
        assert self.process is not None
        while not testbed_out.exists():
            code = self.process.poll()
            if code is not None:
                why = getattr(self.process, "failure", None)  # a lab the fork server started: what it said
                self._fail(why or f"`python -m {LAB_MODULE}` exited with code {code} before writing its testbed")
            if time.monotonic() > deadline:
                self._fail(f"the lab did not write its testbed within {self.options.start_timeout:g} s")
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=POLL_WAIT_S)  # a short wait that ends early if the lab dies

    def _read_testbed(self, testbed_out: Path) -> Testbed:
        return read_lab_testbed(testbed_out, self.options.environ, self._fail)

    def _wait_for_health(self, testbed: Testbed, deadline: float) -> None:
        def gone() -> str | None:
            if self.process is not None and self.process.poll() is not None:
                return f"the lab exited (code {self.process.returncode}) while its health was checked"
            return None

        def pause() -> None:
            if self.process is None:  # attached to a lab another process runs: nothing to wait on
                threading.Event().wait(POLL_WAIT_S)
                return
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=POLL_WAIT_S)  # a short wait that ends early if the lab dies

        wait_for_control_plane(testbed, deadline, self.options.start_timeout, pause=pause, gone=gone,
                               fail=self._fail)

    # ---- logs ---------------------------------------------------------------------------------------
    def log_mark(self) -> object | None:
        try:
            return self.log_path.stat().st_size  # the lab appends to its log: a byte offset is a mark
        except OSError:
            return None

    def logs(self, since: object | None = None) -> str:
        """What the lab wrote to its log since a mark (the last LOG_ATTACH_BYTES of it)."""
        start = since if isinstance(since, int) else 0
        try:
            with self.log_path.open("rb") as f:
                size = f.seek(0, os.SEEK_END)
                f.seek(max(start, size - LOG_ATTACH_BYTES))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _log_tail(self) -> str:
        if self._log is not None:
            with contextlib.suppress(OSError, ValueError):
                self._log.flush()
        try:
            text = self.log_path.read_bytes()[-LOG_TAIL_CHARS:].decode("utf-8", "replace")
        except OSError:
            return "(no log)"
        return text.strip() or "(the lab wrote nothing)"

    def _fail(self, reason: str) -> NoReturn:
        self.teardown()
        raise BackendError(f"the simulator lab did not start: {reason}\n"
                           f"--- last lines of {self.log_path} ---\n{self._log_tail()}")

    # ---- teardown -----------------------------------------------------------------------------------
    def teardown(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            self._signal(process, signal.SIGINT)
            try:
                process.wait(timeout=self.options.stop_timeout)
            except subprocess.TimeoutExpired:
                self._signal(process, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=5)
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        self._testbed, self.testbed_path = None, None
        if self._atexit_registered:
            atexit.unregister(self.teardown)
            self._atexit_registered = False

    @staticmethod
    def _signal(process: subprocess.Popen[bytes] | forkserver.ForkedLab, sig: signal.Signals) -> None:
        # The lab leads its own process group: signal the group, so helpers it spawned stop too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
