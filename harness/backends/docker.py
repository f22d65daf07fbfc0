"""``docker``: the bundled simulators in a container, through the docker SDK (``docker`` package).

Same lab as ``sim`` (``python -m virtual_appliances.lab``), run from the image ``ctrlab/sim:<hash>``:

1. images: ``ctrlab/base:<hash>`` is built by ``virtual_appliances/docker/build_base.sh`` (debootstrap +
   ``docker import``; no registry), ``ctrlab/sim:<hash>`` by ``virtual_appliances/docker/Dockerfile``.
   Each tag carries a hash of the image's inputs, so an image is built only when missing, that is when
   an input changed (docs/docker.md);
2. the container runs with host networking (the lab listens on 127.x.y.z; no docker bridge carries
   traffic), as the harness's own user, with a host directory bind-mounted at the *same* path, so the
   testbed the lab writes there (and the CA bundle it names) is valid on the host as is;
3. ready = docker reports the container ``healthy`` (HEALTHCHECK: the control plane answers ok) and the
   testbed is there; the harness then checks ``/_sim/health`` itself, like ``sim``;
4. teardown (also after a failed provision, at exit, after Ctrl-C): stop (SIGTERM, bounded), save the
   container's log to ``reports/<log_name>``, remove the container and the directory. Containers left
   by a killed run (their owner process is gone) are removed at the next provision.

On an engine on another host (``DOCKER_HOST=tcp://H:P`` or ``ssh://user@H``) steps 2 and 3 differ: the
container keeps host networking on that host but runs behind ``ctrlab-tunnel`` on one port of H, the lab's
files are read through the API (no bind mount) and the testbed names loopback relays on this machine
(``remote_engine.py``, ``relay.py``; docs/docker.md, "A remote engine").

``python -m harness.backends.docker build`` builds the images (and tags ``ctrlab/sim:latest`` for
``virtual_appliances/docker/compose.yaml``) without starting a lab.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from .base import Backend, BackendError, BackendOptions, read_lab_testbed, wait_for_control_plane
from .images import (
    BUILD_TIMEOUT_S,
    C100V,
    SIM,
    ImageBuilder,
    ImageRecipe,
    base_tag,
    copy_images,
    docker_dir,
    image_tag,
    inputs_hash,
)
from .relay import Engine, Relays
from .remote_engine import engine_address, engine_host, read_file, relay_control, relay_testbed

__all__ = ["LABEL_BACKEND", "LABEL_OWNER", "DockerBackend", "ImageBuilder", "base_tag", "connect",
           "find_project_root", "sim_inputs_hash"]

if TYPE_CHECKING:
    import docker as docker_sdk
    from docker.models.containers import Container

    from ..testbed import Testbed

SIM_REPO = SIM.repo
LABEL_OWNER = "org.ctrlab.owner"  # "<hostname>:<pid>" of the harness that started the container
LABEL_BACKEND = "org.ctrlab.backend"
API_TIMEOUT_S = 30  # each docker API call (the SDK's HTTP timeout)
POLL_S = 0.1  # interval between two health polls (the deadline is start_timeout)
LOG_TAIL_CHARS = 3000
# A remote engine: the lab's files inside the container (no bind mount), as the unprivileged user nobody.
REMOTE_TESTBED, REMOTE_STATE, REMOTE_LAB_DIR = "/tmp/testbed.yaml", "/tmp/tunnel.json", "/tmp/lab"
REMOTE_USER = "65534:65534"
PYTHON = "/opt/ctrlab/bin/python"  # the image's venv (virtual_appliances/docker/Dockerfile)
CONTROL_TIMEOUT_S = 10.0


def sim_inputs_hash(root: Path) -> str:
    return inputs_hash(root, SIM)


def find_project_root(options: BackendOptions) -> Path:
    candidates = [options.project_root, Path(__file__).resolve().parents[2]]
    for root in candidates:
        if root is not None and (docker_dir(root) / "Dockerfile").is_file() and (root / "pyproject.toml").is_file():
            return root
    raise BackendError("the docker backend builds its image from a ctrlab source checkout (virtual_appliances/docker/"
                       "Dockerfile); run from the repository, or pass its root as project_root")


def connect(timeout: int = API_TIMEOUT_S) -> docker_sdk.DockerClient:
    """A client of the local daemon (DOCKER_HOST honoured), checked with a ping; BackendError if none."""
    import docker

    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except Exception as exc:  # DockerException, requests' ConnectionError, a missing socket...
        raise BackendError(f"no usable docker daemon ({type(exc).__name__}: {exc}); start dockerd "
                           f"(docs/docker.md) or use --backend sim") from exc
    return client


@dataclass(frozen=True)
class NotHealthy:
    """Why a container never became healthy: ``kind`` is gone, exited, unhealthy, late or stopped."""

    kind: str
    status: str = "?"
    health: str = "none"
    detail: str = ""  # the docker error (gone), the exit code (exited), else docker's last probe output


def wait_healthy(container: Container, deadline: float, stop: threading.Event, poll_s: float) -> NotHealthy | None:
    """Poll docker's view of ``container`` every ``poll_s`` to ``deadline``: None once healthy, else why not.
    ``stop`` (set by a teardown) ends the wait at once."""
    while True:
        try:
            container.reload()
        except Exception as exc:
            return NotHealthy("gone", detail=str(exc))
        state: dict[str, Any] = container.attrs.get("State", {})
        status = state.get("Status", "?")
        health = (state.get("Health") or {}).get("Status", "none")
        log = (state.get("Health") or {}).get("Log") or []
        probe = str(log[-1].get("Output", "")).strip()[:300] if log else "no probe yet"
        if health == "healthy":
            return None
        if status in ("exited", "dead"):
            return NotHealthy("exited", status, health, str(state.get("ExitCode")))
        if health == "unhealthy":
            return NotHealthy("unhealthy", status, health, probe)
        if time.monotonic() > deadline:
            return NotHealthy("late", status, health, probe)
        if stop.wait(poll_s):
            return NotHealthy("stopped", status, health, probe)


def owner_label(pid: int | None = None) -> str:
    """``LABEL_OWNER``'s value for the harness process ``pid`` (this one by default) on this host."""
    import socket

    return f"{socket.gethostname()}:{os.getpid() if pid is None else pid}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class DockerBackend(Backend):
    name = "docker"

    def __init__(self, options: BackendOptions) -> None:
        super().__init__(options)
        self.client: docker_sdk.DockerClient | None = None
        self.container: Container | None = None
        self.workdir: Path | None = None
        self.image: str | None = None
        self.log_path = options.reports_dir / options.log_name
        self.timings: dict[str, float] = {}  # base / sim (built this time), ready (container start -> healthy)
        self._testbed: Testbed | None = None
        self._atexit_registered = False
        self._stop = threading.Event()  # set by teardown: a provision polling in another thread gives up
        self.engine: str | None = None  # the remote engine's host (DOCKER_HOST), None for the local engine
        self.relays: Relays | None = None
        self._token = self._address = ""

    def describe(self) -> str:
        o = self.options
        extra = "".join(f", {n} {kind}" for kind, n in (("sma", o.sma), ("gateway", o.gateway)) if n)
        where = f" on {self.engine}" if self.engine else ""
        return f"docker {self.image or SIM_REPO}{where} ({o.appliances} esa{extra})"

    def command(self, testbed_out: Path, lab_dir: Path) -> list[str]:
        """Arguments after the image's entrypoint (python -m virtual_appliances.lab), as the sim backend."""
        fleet = [f"--{kind}={count}" for kind, count in (("sma", self.options.sma), ("gateway", self.options.gateway))
                 if count]
        return ["--appliances", str(self.options.appliances), *fleet, "--testbed-out", str(testbed_out),
                "--dir", str(lab_dir), *self.options.extra_args]

    # ---- provision ----------------------------------------------------------------------------------
    def provision(self) -> Testbed:
        if self._testbed is not None:
            return self._testbed
        self._stop.clear()
        self.client = connect()
        self.engine = engine_host(os.environ.get("DOCKER_HOST"))  # as docker.from_env reads it
        root = find_project_root(self.options)
        self.reap_stale(self.client)
        builder = ImageBuilder(self.client, root, self.options.reports_dir / "docker-build.log")
        self.image = builder.ensure_sim()
        self.timings.update(builder.timings)

        self.workdir = Path(tempfile.mkdtemp(prefix="ctrlab-docker-"))
        os.chmod(self.workdir, 0o755)  # the container may run as another uid than the one that made it
        testbed_out = self.workdir / "testbed.yaml"
        if not self._atexit_registered:
            atexit.register(self.teardown)  # a hard exit of pytest must not leave the container running
            self._atexit_registered = True
        started = time.monotonic()
        lab_env = {k: v for k, v in (self.options.environ or os.environ).items()
                   if k.startswith("CTRLAB_SIM") or k.startswith("CTRLAB_NETLAB")}
        common: dict[str, Any] = {
            "detach": True, "name": f"ctrlab-sim-{os.getpid()}-{uuid.uuid4().hex[:6]}",
            "network_mode": "host",  # never the default bridge: the lab is all loopback, like `sim`
            "labels": {LABEL_BACKEND: "docker", LABEL_OWNER: owner_label()}}
        try:
            if self.engine is None:
                uid, gid = os.getuid(), os.getgid()
                self.container = self.client.containers.run(
                    self.image, self.command(testbed_out, self.workdir / "lab"), **common,
                    user=f"{uid}:{gid}",  # like `sim`: root gets nftables and port 443, a user the fallbacks
                    cap_add=["NET_ADMIN"] if uid == 0 else None,  # nftables drop rules, as `sim` has as root
                    environment={"CTRLAB_TESTBED": str(testbed_out), "HOME": "/tmp", **lab_env},
                    volumes={str(self.workdir): {"bind": str(self.workdir), "mode": "rw"}})
            else:
                self.container = self._run_remote(common, lab_env)
        except BackendError as exc:  # e.g. the engine host's name does not resolve
            self._fail(str(exc))
        except Exception as exc:
            self._fail(f"cannot start a container of {self.image}: {exc}")
        deadline = started + self.options.start_timeout
        self._wait_healthy(deadline)
        if self.engine is not None:
            self._relay_remote(testbed_out)
        testbed = self._read_testbed(testbed_out)
        self._check_health(testbed, deadline)
        self.timings["ready"] = time.monotonic() - started
        self._testbed = testbed
        return testbed

    # ---- a remote engine ----------------------------------------------------------------------------
    def _run_remote(self, common: dict[str, Any], lab_env: dict[str, str]) -> Container:
        """The lab behind ctrlab-tunnel on the engine host's address (host networking there, no bind mount,
        user nobody: no nftables, the userspace firewall a local non-root lab has)."""
        assert self.client is not None and self.engine is not None and self.image is not None
        address = engine_address(self.engine)
        self._token = secrets.token_urlsafe(24)
        lab = [PYTHON, "-m", "virtual_appliances.lab", *self.command(Path(REMOTE_TESTBED), Path(REMOTE_LAB_DIR))]
        self._address = address
        return self.client.containers.run(
            self.image, ["--bind", address, "--state", REMOTE_STATE, "--", *lab], **common,
            entrypoint=[PYTHON, "-m", "virtual_appliances.docker.tunnel"], user=REMOTE_USER,
            environment={"CTRLAB_TESTBED": REMOTE_TESTBED, "HOME": "/tmp", "CTRLAB_TUNNEL_TOKEN": self._token,
                         **lab_env})

    def _relay_remote(self, testbed_out: Path) -> None:
        """Read the lab's testbed and CA bundle through the API, relay its endpoints, write the testbed here."""
        import requests
        import yaml

        assert self.container is not None and self.workdir is not None
        try:
            port = int(json.loads(read_file(self.container, REMOTE_STATE))["port"])
            raw = yaml.safe_load(read_file(self.container, REMOTE_TESTBED))
            bundle = self.workdir / "ca-bundle.pem"
            bundle.write_bytes(read_file(self.container, str(raw["network"]["ca_bundle"])))
            self.relays = Relays(Engine(self._address, port, self._token))
            control, mirror = relay_control(raw, self.relays)
            with requests.Session() as session:
                session.trust_env = False
                response = session.get(f"{control}/_sim/netlab", timeout=CONTROL_TIMEOUT_S)
                response.raise_for_status()
                netlab = response.json()
            relay_testbed(raw, netlab, self.relays, str(bundle), mirror)
        except BackendError as exc:
            self._fail(str(exc))
        except Exception as exc:  # the API, the tunnel, a testbed without what a lab's has
            self._fail(f"cannot reach the lab on {self.engine} through its tunnel: {type(exc).__name__}: {exc}")
        tmp = testbed_out.with_name(f".{testbed_out.name}.tmp")
        tmp.write_text(yaml.safe_dump(raw, sort_keys=False))
        os.chmod(tmp, 0o600)  # the lab's passwords and client secrets
        tmp.replace(testbed_out)

    def _wait_healthy(self, deadline: float) -> None:
        assert self.container is not None
        why = wait_healthy(self.container, deadline, self._stop, POLL_S)
        if why is None:
            return
        if why.kind == "gone":
            self._fail(f"the container disappeared: {why.detail}")
        if why.kind == "exited":
            self._fail(f"the container exited with code {why.detail} before it was healthy")
        if why.kind == "unhealthy":
            self._fail(f"docker reports the container unhealthy: {why.detail}")
        self._fail(f"the container was not healthy within {self.options.start_timeout:g} s "
                   f"(status {why.status}, health {why.health}: {why.detail})")

    def _read_testbed(self, testbed_out: Path) -> Testbed:
        return read_lab_testbed(testbed_out, self.options.environ, self._fail)

    def _check_health(self, testbed: Testbed, deadline: float) -> None:
        """The harness's own look at /_sim/health: proves the host reaches the container's lab."""
        wait_for_control_plane(
            testbed, deadline, self.options.start_timeout, pause=lambda: self._stop.wait(POLL_S),
            gone=lambda: "teardown began while waiting for the lab's health" if self._stop.is_set() else None,
            fail=self._fail)

    # ---- logs ---------------------------------------------------------------------------------------
    def log_mark(self) -> object | None:
        return time.time() if self.container is not None else None

    def logs(self, since: object | None = None) -> str:
        """The container's output (since a unix time from :meth:`log_mark`); '' when none."""
        if self.container is None:
            return ""
        try:
            kwargs: dict[str, Any] = {"stdout": True, "stderr": True, "timestamps": True}
            if isinstance(since, float | int):
                kwargs["since"] = int(since)  # whole seconds: a scenario may get up to a second more
            return self.container.logs(**kwargs).decode("utf-8", "replace")
        except Exception as exc:
            return f"(container logs unavailable: {exc})"

    def _save_logs(self) -> None:
        text = self.logs()
        if not text:
            return
        with contextlib.suppress(OSError):
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self.log_path.write_text(text)

    def _fail(self, reason: str) -> NoReturn:
        tail = self.logs()[-LOG_TAIL_CHARS:].strip() or "(the container wrote nothing)"
        self.teardown()
        raise BackendError(f"the simulator container did not start: {reason}\n"
                           f"--- last lines of the container's log ({self.log_path}) ---\n{tail}")

    # ---- teardown -----------------------------------------------------------------------------------
    def teardown(self) -> None:
        self._stop.set()
        container, self.container = self.container, None
        if container is not None:
            with contextlib.suppress(Exception):
                container.stop(timeout=int(self.options.stop_timeout))  # SIGTERM, then SIGKILL
            self.container = container  # for _save_logs
            self._save_logs()
            self.container = None
            with contextlib.suppress(Exception):
                container.remove(force=True)
        if self.relays is not None:
            self.relays.close()
            self.relays = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.close()
            self.client = None
        self._testbed = None
        if self._atexit_registered:
            atexit.unregister(self.teardown)
            self._atexit_registered = False

    @staticmethod
    def reap_stale(client: docker_sdk.DockerClient, backend: str = "docker") -> list[str]:
        """Remove ctrlab containers of this host whose harness process is gone (a SIGKILLed run)."""
        import socket

        removed: list[str] = []
        host = socket.gethostname()
        for container in client.containers.list(all=True, filters={"label": f"{LABEL_BACKEND}={backend}"}):
            owner_host, _, pid = (container.labels.get(LABEL_OWNER) or "").rpartition(":")
            if owner_host == host and pid.isdigit() and not _pid_alive(int(pid)):
                # Its bind-mounted lab directory too (ours: a ctrlab-docker-* temp dir), which teardown never reached.
                dirs = [m.get("Source", "") for m in container.attrs.get("Mounts", [])]
                with contextlib.suppress(Exception):
                    container.remove(force=True)
                    removed.append(container.name)
                tmp = Path(tempfile.gettempdir())
                for source in map(Path, dirs):
                    if source.name.startswith(f"ctrlab-{backend}-") and source.parent == tmp:
                        shutil.rmtree(source, ignore_errors=True)
        return removed


def main(argv: list[str] | None = None) -> int:
    """``python -m harness.backends.docker build``: build what is missing, print the tags and timings."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m harness.backends.docker")
    parser.add_argument("action", choices=["build", "tag", "copy"],
                        help="build: build missing images; tag: print the tags; copy: the images from --from's "
                             "engine (built there if missing) to DOCKER_HOST's")
    parser.add_argument("--c100v", action="store_true", help="also the C100V wrapper image (docs/c100v.md)")
    parser.add_argument("--from", dest="source", metavar="URL", default="unix:///var/run/docker.sock",
                        help="copy: the engine that has (or builds) the images")
    args = parser.parse_args(argv)
    root = find_project_root(BackendOptions())
    recipes = [SIM, C100V] if args.c100v else [SIM]
    if args.action == "tag":
        print(base_tag(root))
        for recipe in recipes:
            print(image_tag(root, recipe))
        return 0
    if args.action == "copy":
        return _copy(root, recipes, args.source)
    try:
        builder = ImageBuilder(connect(), root, Path("reports") / "docker-build.log")
        tags = [builder.ensure(recipe) for recipe in recipes]
    except BackendError as exc:
        print(f"ctrlab docker: {exc}", file=sys.stderr)
        return 1
    built = ", ".join(f"{k} {v:.1f} s" for k, v in builder.timings.items()) or "nothing to build"
    print("\n".join([base_tag(root), *(f"{tag} (also {tag.partition(':')[0]}:latest)" for tag in tags)]))
    print(f"built: {built}")
    if builder.removed:
        print(f"removed older images: {', '.join(builder.removed)}")
    return 0


def _copy(root: Path, recipes: list[ImageRecipe], source_url: str) -> int:
    import docker

    try:
        source = docker.DockerClient(base_url=source_url, timeout=BUILD_TIMEOUT_S)
        builder = ImageBuilder(source, root, Path("reports") / "docker-build.log")
        tags = [base_tag(root), *(builder.ensure(recipe) for recipe in recipes)]
        copied = copy_images(source, connect(BUILD_TIMEOUT_S), tags)
    except BackendError as exc:
        print(f"ctrlab docker: {exc}", file=sys.stderr)
        return 1
    except docker.errors.DockerException as exc:
        print(f"ctrlab docker: copy from {source_url}: {exc}", file=sys.stderr)
        return 1
    print("\n".join(tags))
    print(f"copied: {', '.join(copied) or 'nothing (all there)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
