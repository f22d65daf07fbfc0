"""A second docker engine on "another host": dockerd in a network namespace of its own, reached over a
veth pair in 198.18.0.0/15 (RFC 2544 benchmarking space), for the docker backend's remote-engine test.

    with netns_engine(tmp) as docker_host:    # "tcp://198.18.N.2:2375"
        ...

The namespace has no route out (only the veth and its own loopback), so nothing it does leaves this
machine. Its daemon has its own data root, exec root (its own containerd), pid file and log, all under
``tmp``; leaving the block stops the daemon, unmounts what it left, deletes the namespace (and with it
the veth pair) and the directory, also when the body raised.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
COMMAND_TIMEOUT_S = 15.0
POLL_S = 0.2


def unavailable() -> str | None:
    """Why this machine cannot host the engine (one line), or None."""
    if os.geteuid() != 0:
        return "needs root (a network namespace and a second dockerd)"
    for tool in ("dockerd", "ip", "nsenter"):
        if shutil.which(tool) is None:
            return f"no {tool} binary"
    return None


def _ip(*args: str, netns: str | None = None) -> None:
    command = ["ip", "netns", "exec", netns, "ip", *args] if netns else ["ip", *args]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)


def addresses(pid: int) -> tuple[str, str]:
    """(this side, engine side) of a /30 chosen by pid, so concurrent runs do not share one."""
    third = 128 + pid % 120
    return f"198.18.{third}.1", f"198.18.{third}.2"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(pid: int) -> None:
    """SIGTERM, to a deadline, then SIGKILL (a process not our child: a zombie of ours would look alive)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(POLL_S)  # a poll interval to the deadline
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _unmount_under(root: Path) -> None:
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for target in sorted((m for m in mounts if m.startswith(f"{root}/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", target], capture_output=True, timeout=COMMAND_TIMEOUT_S, check=False)


@contextlib.contextmanager
def netns_engine(workdir: Path) -> Iterator[str]:
    import docker

    pid = os.getpid()
    netns, near, far = f"ctrlabtest-engine-{pid}", f"cte{pid}h", f"cte{pid}e"
    host_side, engine_side = addresses(pid)
    docker_host = f"tcp://{engine_side}:2375"
    root = workdir / "engine"
    root.mkdir(parents=True)
    daemon: subprocess.Popen[bytes] | None = None
    containerd_pid = root / "exec" / "containerd" / "containerd.pid"
    try:
        _ip("netns", "add", netns)
        _ip("link", "add", near, "type", "veth", "peer", "name", far)
        _ip("link", "set", far, "netns", netns)
        _ip("addr", "add", f"{host_side}/30", "dev", near)
        _ip("link", "set", near, "up")
        _ip("addr", "add", f"{engine_side}/30", "dev", far, netns=netns)
        _ip("link", "set", far, "up", netns=netns)
        _ip("link", "set", "lo", "up", netns=netns)
        with (root / "dockerd.log").open("wb") as log:
            daemon = subprocess.Popen(
                # nsenter, not `ip netns exec`: that one remounts /sys, hiding the cgroups dockerd needs.
                ["nsenter", f"--net=/run/netns/{netns}", "dockerd", "--host", docker_host, "--tls=false",
                 "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
                 "--pidfile", str(root / "docker.pid"), "--iptables=false", "--ip6tables=false",
                 "--bridge=none", "--userland-proxy=false"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        last = "no answer"
        while True:
            if daemon.poll() is not None:
                raise RuntimeError(f"dockerd exited with {daemon.returncode}: "
                                   f"{(root / 'dockerd.log').read_text()[-2000:]}")
            try:
                client = docker.DockerClient(base_url=docker_host, timeout=5)
                try:
                    client.ping()
                    break
                finally:
                    client.close()
            except Exception as exc:
                last = str(exc)
            if time.monotonic() > deadline:
                raise RuntimeError(f"dockerd at {docker_host} not answering within {START_TIMEOUT_S:g} s: {last}")
            time.sleep(POLL_S)  # a poll interval to the deadline
        yield docker_host
    finally:
        if daemon is not None:  # nsenter execs dockerd: the same process; it stops its containers
            daemon.terminate()
            try:
                daemon.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait(STOP_TIMEOUT_S)
        with contextlib.suppress(OSError, ValueError):
            _stop(int(containerd_pid.read_text().strip()))  # a containerd dockerd did not take down
        _unmount_under(root)
        subprocess.run(["ip", "netns", "del", netns], capture_output=True, timeout=COMMAND_TIMEOUT_S, check=False)
        subprocess.run(["ip", "link", "del", near], capture_output=True, timeout=COMMAND_TIMEOUT_S, check=False)
        shutil.rmtree(root, ignore_errors=True)


def copy_images(source: object, target: object, tags: list[str]) -> None:
    """``docker save | docker load`` between two engines through the SDK (no registry, no internet)."""
    for tag in tags:
        image = source.images.get(tag)  # type: ignore[attr-defined]
        target.images.load(image.save(named=True))  # type: ignore[attr-defined]
