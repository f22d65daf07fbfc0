"""``ctrlab c100v up``: a real C100V qcow2, booted by the wrapper image in docker (docs/c100v.md).

The wrapper (``virtual_appliances/c100v``, image ``ctrlab/c100v:<hash>`` built here when missing) runs
qemu on a copy-on-write overlay, bootstraps the appliance over its serial console and writes a testbed
for the ``lab`` backend. This module runs that image through the docker SDK:

* host networking: qemu's port forwards (SSH, HTTPS, API, SMTP) bind 127.0.0.1 on this host, no docker
  bridge carries traffic; ``/dev/kvm`` is passed when the host has it (the wrapper falls back to TCG);
* the qcow2 mounted read-only at ``/images/c100v.qcow2``, a host directory at ``/lab`` for the testbed;
* ready = docker reports the container ``healthy`` (the wrapper's health file says ``0 running`` once the
  CLI answers over SSH); the wrapper's progress is echoed meanwhile;
* then the testbed is copied to ``--testbed-out`` (0600) and the command stays in the foreground. Ctrl-C,
  SIGTERM, a failed boot or an exception all end the same way: stop (SIGTERM, bounded), the container's
  log saved to ``reports/c100v-<name>.log``, container and directory removed.
"""

from __future__ import annotations

import contextlib
import grp
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from .backends.base import BackendError
from .backends.docker import LABEL_BACKEND, LABEL_OWNER, DockerBackend, connect, owner_label, wait_healthy
from .backends.images import C100V, ImageBuilder

if TYPE_CHECKING:
    import docker as docker_sdk
    from docker.models.containers import Container

IMAGE_IN_CONTAINER = "/images/c100v.qcow2"
CLOUD_IN_CONTAINER = "/lab-in/cloud.yaml"
DIALOGS_IN_CONTAINER = "/lab-in/dialogs.yaml"
POLL_S = 0.5  # between two looks at the container's health (the deadline is boot_timeout)
STOP_TIMEOUT_S = 60  # the wrapper asks qemu to quit, then removes the overlay


@dataclass
class C100vOptions:
    image: Path
    testbed_out: Path
    name: str = "esa1"
    hostname: str | None = None
    password_env: str | None = None  # the variable holding the admin password (passed into the container)
    cloud_from: Path | None = None  # a testbed whose cloud/network/deadlines the written one copies
    dialogs: Path | None = None  # the day-0 dialog table for this AsyncOS release (--print-dialogs)
    boot_timeout: float = 1800.0  # a real C100V takes many minutes to boot, more without KVM
    extra_args: list[str] = field(default_factory=list)  # passed through to the wrapper
    reports_dir: Path = Path("reports")
    project_root: Path | None = None


class C100vContainer:
    """One C100V in a container: :meth:`start` until healthy, :meth:`stop` always."""

    def __init__(self, options: C100vOptions, say: Callable[[str], None] | None = None) -> None:
        self.options = options
        self.say = say or (lambda line: print(line, file=sys.stderr, flush=True))
        self.client: docker_sdk.DockerClient | None = None
        self.container: Container | None = None
        self.workdir: Path | None = None
        self.timings: dict[str, float] = {}
        self.log_path = options.reports_dir / f"c100v-{options.name}.log"
        self._stop = threading.Event()

    # ---- start --------------------------------------------------------------------------------------
    def start(self) -> Path:
        o = self.options
        image = o.image.expanduser().resolve()
        if not image.is_file():
            raise BackendError(f"--image {o.image}: no such file (the C100V qcow2 you licensed from Cisco)")
        if o.password_env and not os.environ.get(o.password_env):
            raise BackendError(f"--password-env {o.password_env}: that environment variable is not set")
        self.client = connect()
        DockerBackend.reap_stale(self.client, backend="c100v")
        root = o.project_root or Path(__file__).resolve().parents[1]
        builder = ImageBuilder(self.client, root, o.reports_dir / "docker-build.log")
        self.say(f"c100v: image {C100V.repo} (built only when its inputs changed) ...")
        tag = builder.ensure(C100V)
        self.timings.update(builder.timings)
        if builder.timings:
            self.say("c100v: built " + ", ".join(f"{k} in {v:.0f} s" for k, v in builder.timings.items()))
        self.workdir = Path(tempfile.mkdtemp(prefix="ctrlab-c100v-"))
        os.chmod(self.workdir, 0o755)
        started = time.monotonic()
        try:
            self.container = self.client.containers.run(tag, self._args(), **self._run_options(image))
        except Exception as exc:
            self._fail(f"cannot start a container of {tag}: {exc}")
        self.say(f"c100v: container {self.container.name} started; waiting for the appliance's CLI "
                 f"(up to {o.boot_timeout:.0f} s)")
        self._wait_healthy(started + o.boot_timeout)
        self.timings["ready"] = time.monotonic() - started
        return self._publish_testbed()

    def _args(self) -> list[str]:
        o = self.options
        args = ["--name", o.name]
        if o.hostname:
            args += ["--hostname", o.hostname]
        if o.password_env:
            args += ["--password-env", o.password_env]
        if o.cloud_from:
            args += ["--cloud-from", CLOUD_IN_CONTAINER]
        if o.dialogs:
            args += ["--dialogs", DIALOGS_IN_CONTAINER]
        return args + list(o.extra_args)

    def _run_options(self, image: Path) -> dict[str, Any]:
        o = self.options
        assert self.workdir is not None
        volumes = {str(image): {"bind": IMAGE_IN_CONTAINER, "mode": "ro"},
                   str(self.workdir): {"bind": "/lab", "mode": "rw"}}
        for path, bind in ((o.cloud_from, CLOUD_IN_CONTAINER), (o.dialogs, DIALOGS_IN_CONTAINER)):
            if path is not None:  # the host's files, read-only where the wrapper reads them
                volumes[str(path.expanduser().resolve())] = {"bind": bind, "mode": "ro"}
        env = {o.password_env: os.environ[o.password_env]} if o.password_env else {}
        run: dict[str, Any] = {
            "detach": True, "name": f"ctrlab-c100v-{o.name}-{os.getpid()}-{uuid.uuid4().hex[:4]}",
            "network_mode": "host",  # the port forwards are this host's 127.0.0.1 ports
            "volumes": volumes, "environment": env,
            "labels": {LABEL_BACKEND: "c100v", LABEL_OWNER: owner_label()},
        }
        if Path("/dev/kvm").exists():
            run["devices"] = ["/dev/kvm:/dev/kvm:rwm"]
        if os.getuid() != 0:
            # As the harness's user, so the testbed in /lab is theirs; the kvm group opens /dev/kvm.
            run["user"] = f"{os.getuid()}:{os.getgid()}"
            with contextlib.suppress(KeyError):
                run["group_add"] = [str(grp.getgrnam("kvm").gr_gid)]
            env.update({"C100V_HEALTH_FILE": "/var/lib/c100v/health", "C100V_RESET_FILE": "/var/lib/c100v/reset",
                        "HOME": "/tmp"})
        return run

    def _wait_healthy(self, deadline: float) -> None:
        assert self.container is not None
        echo = threading.Event()  # cleared once ready: the wrapper's later lines go to the saved log only
        echo.set()
        threading.Thread(target=self._echo, args=(self.container, echo), daemon=True, name="c100v-log").start()
        try:
            self._poll_health(deadline)
        finally:
            echo.clear()

    def _echo(self, container: Container, echo: threading.Event) -> None:
        """The wrapper's progress (boot, login, each day-0 step) as it happens, until ready or stopped."""
        since = 0.0
        while echo.is_set():
            try:  # a real C100V is silent for minutes: the stream's read times out, and is opened again
                for raw in container.logs(stream=True, follow=True, stdout=True, stderr=True, timestamps=True,
                                          since=since or None):
                    stamp, _, text = raw.decode("utf-8", "replace").rstrip("\n").partition(" ")
                    since = max(since, _unix_time(stamp) + 1e-6)  # the next stream starts after this line
                    if not echo.is_set():
                        return
                    self.say(f"c100v: {text}")
                return  # the stream ended: the container stopped
            except Exception:
                if self._stop.wait(POLL_S):
                    return

    def _poll_health(self, deadline: float) -> None:
        assert self.container is not None
        why = wait_healthy(self.container, deadline, self._stop, POLL_S)
        if why is None:
            return
        self._fail({"gone": f"the container disappeared: {why.detail}",
                    "exited": f"the wrapper exited with code {why.detail} before the appliance was ready",
                    "unhealthy": "docker reports the container unhealthy",
                    "late": f"the appliance's CLI did not answer within {self.options.boot_timeout:.0f} s",
                    }.get(why.kind, "stopped while waiting for the appliance"))

    def _publish_testbed(self) -> Path:
        assert self.workdir is not None
        written = self.workdir / "testbed.yaml"
        out = self.options.testbed_out
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        shutil.copyfile(written, tmp)
        os.chmod(tmp, 0o600)  # it may name the lab's default password
        os.replace(tmp, out)
        return out

    # ---- stop ---------------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """From a signal handler: a wait in :meth:`start` or :meth:`wait_until_stopped` ends soon after."""
        self._stop.set()

    def wait_until_stopped(self) -> None:
        """Block until :meth:`request_stop`; raise if the container stops on its own first."""
        while not self._stop.wait(POLL_S * 4):
            assert self.container is not None
            self.container.reload()
            if self.container.status != "running":
                raise BackendError(f"the C100V container stopped on its own (see {self.log_path})")

    def stop(self) -> None:
        """Stop and remove the container, keep its log. Safe to call twice and after a failed start."""
        self._stop.set()
        container, self.container = self.container, None
        if container is not None:
            with contextlib.suppress(Exception):
                container.stop(timeout=STOP_TIMEOUT_S)
            text = ""
            with contextlib.suppress(Exception):
                text = container.logs(stdout=True, stderr=True, timestamps=True).decode("utf-8", "replace")
            if text:
                with contextlib.suppress(OSError):
                    self.log_path.parent.mkdir(parents=True, exist_ok=True)
                    self.log_path.write_text(text)
            with contextlib.suppress(Exception):
                container.remove(force=True)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        with contextlib.suppress(FileNotFoundError):
            self.options.testbed_out.unlink()  # it names ports nothing listens on any more
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.close()
            self.client = None

    def _fail(self, reason: str) -> NoReturn:
        tail = ""
        if self.container is not None:
            with contextlib.suppress(Exception):
                tail = self.container.logs(tail=40).decode("utf-8", "replace").strip()
        self.stop()
        raise BackendError(f"the C100V did not come up: {reason}\n--- last lines of the wrapper "
                           f"({self.log_path}) ---\n{tail or '(nothing)'}")


def _unix_time(stamp: str) -> float:
    """Docker's RFC 3339 log timestamp (nanoseconds, ``Z``) as a unix time; 0 when it is not one."""
    from datetime import datetime

    head, _, fraction = stamp.rstrip("Z").partition(".")
    try:
        whole = datetime.fromisoformat(head + "+00:00").timestamp()
    except ValueError:
        return 0.0
    return whole + (float(f"0.{fraction}") if fraction.isdigit() else 0.0)


def up(options: C100vOptions) -> int:
    """Start, announce the testbed, wait for Ctrl-C/SIGTERM, stop. Exit code 0, or 1 with one clear line."""
    runner = C100vContainer(options)
    # Our handlers from start to the end of the clean-up: a second Ctrl-C (or a SIGTERM forwarded by a
    # supervisor) must not interrupt the stop half way and leave a container and a stale testbed.
    previous = {sig: signal.signal(sig, lambda *_: runner.request_stop()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        testbed = runner.start()
        print(f"c100v ready in {runner.timings['ready']:.1f} s: {options.name}, testbed {testbed} "
              "(Ctrl-C stops and removes it)", flush=True)
        runner.wait_until_stopped()
        return 0
    except BackendError as exc:
        print(f"ctrlab c100v: {exc}", file=sys.stderr)
        return 1
    finally:
        runner.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
