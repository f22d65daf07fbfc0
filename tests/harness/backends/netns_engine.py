"""A second docker engine on "another host": dockerd in a network namespace of its own, reached over a
veth pair in 198.18.0.0/15 (RFC 2544 benchmarking space), for the docker backend's remote-engine test.

    with netns_engine(tmp) as docker_host:    # "tcp://198.18.N.2:2375"
        with netns_sshd(docker_host, tmp, tmp2) as (ssh_host, home):  # "ssh://root@198.18.N.2", a HOME for it
            ...

The namespace has no route out (only the veth and its own loopback), so nothing it does leaves this
machine. Its daemon has its own data root, pid file and log under ``tmp``, and its own exec root (its
own containerd) at ``/tmp/cte<pid>x`` (containerd's socket paths must stay under 108 bytes); leaving the
block stops the daemon, unmounts what it left, deletes the namespace (and with it the veth pair) and the
directories, also when the body raised. :func:`sweep_stale` removes what a killed run left.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
COMMAND_TIMEOUT_S = 15.0
POLL_S = 0.2
PREFIX = "ctrlabtest-engine-"  # + the pid of the process that made it (not "ctrlab-": the netlab's own)


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


def _terminate(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM to a child of ours, a bounded wait, then SIGKILL."""
    child.terminate()
    try:
        child.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(STOP_TIMEOUT_S)


def _unmount_under(root: Path) -> None:
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for target in sorted((m for m in mounts if m.startswith(f"{root}/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", target], capture_output=True, timeout=COMMAND_TIMEOUT_S, check=False)


def engine_socket(root: Path) -> Path:
    return root / "docker.sock"


def _exec_root(pid: int) -> Path:
    return Path(f"/tmp/cte{pid}x")


def sweep_stale() -> list[str]:
    """Remove what a killed run of this helper left (its finally never ran): for each namespace of a
    process that is gone, kill what runs in it (its dockerd, containerd, containers), unmount and remove
    that dockerd's directory, delete the namespace and the veth. Returns the namespaces removed."""
    removed = []
    for path in sorted(Path("/run/netns").glob(f"{PREFIX}*")):
        owner = path.name.removeprefix(PREFIX)
        if not owner.isdigit() or _alive(int(owner)):
            continue
        listed = subprocess.run(["ip", "netns", "pids", path.name], capture_output=True, text=True,
                                timeout=COMMAND_TIMEOUT_S, check=False).stdout.split()
        roots = []
        for pid in map(int, listed):
            with contextlib.suppress(OSError):
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                if b"--data-root" in argv:
                    roots.append(Path(argv[argv.index(b"--data-root") + 1].decode()).parent)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for root in [*roots, _exec_root(int(owner))]:
            _unmount_under(root)
            shutil.rmtree(root, ignore_errors=True)
        subprocess.run(["ip", "netns", "del", path.name], capture_output=True, timeout=COMMAND_TIMEOUT_S, check=False)
        subprocess.run(["ip", "link", "del", f"cte{owner}h"], capture_output=True, timeout=COMMAND_TIMEOUT_S,
                       check=False)
        removed.append(path.name)
    return removed


@contextlib.contextmanager
def netns_engine(workdir: Path) -> Iterator[str]:
    import docker

    sweep_stale()
    pid = os.getpid()
    netns, near, far = f"{PREFIX}{pid}", f"cte{pid}h", f"cte{pid}e"
    host_side, engine_side = addresses(pid)
    docker_host = f"tcp://{engine_side}:2375"
    root = workdir / "engine"
    root.mkdir(parents=True)
    # containerd's sockets live under the exec root: a unix socket path has at most 107 bytes.
    exec_root = _exec_root(pid)
    daemon: subprocess.Popen[bytes] | None = None
    containerd_pid = exec_root / "containerd" / "containerd.pid"
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
                # Also a unix socket: what `docker system dial-stdio` reaches through sshd (ssh://, below).
                ["nsenter", f"--net=/run/netns/{netns}", "dockerd", "--host", docker_host, "--host",
                 f"unix://{engine_socket(root)}", "--tls=false",
                 "--data-root", str(root / "data"), "--exec-root", str(exec_root),
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
            _terminate(daemon)
        with contextlib.suppress(OSError, ValueError):
            _stop(int(containerd_pid.read_text().strip()))  # a containerd dockerd did not take down
        _unmount_under(root)
        _unmount_under(exec_root)
        shutil.rmtree(exec_root, ignore_errors=True)
        subprocess.run(["ip", "netns", "del", netns], capture_output=True, timeout=COMMAND_TIMEOUT_S, check=False)
        subprocess.run(["ip", "link", "del", near], capture_output=True, timeout=COMMAND_TIMEOUT_S, check=False)
        shutil.rmtree(root, ignore_errors=True)


def sshd_unavailable() -> str | None:
    """Why an SSH way to the engine cannot be offered (one line), or None."""
    for tool in ("/usr/sbin/sshd", "ssh-keygen"):
        if shutil.which(tool) is None:
            return f"no {tool} (Debian package openssh-server)"
    try:
        import paramiko  # noqa: F401 - the docker SDK's ssh transport
    except ImportError:
        return "no paramiko (the docker SDK's ssh:// transport)"
    return None


@contextlib.contextmanager
def netns_sshd(docker_host: str, engine_dir: Path, workdir: Path) -> Iterator[tuple[str, Path]]:
    """An sshd in the engine's namespace, as on an engine host reached by ``DOCKER_HOST=ssh://root@H``.

    Yields that DOCKER_HOST and a home folder for the client: ``.ssh/config`` names the key to log in with,
    ``.ssh/known_hosts`` the server's host key (the docker SDK refuses unknown hosts). A login's
    ``docker system dial-stdio`` reaches this engine through its unix socket (sshd sets DOCKER_HOST).
    """
    engine_side = docker_host.removeprefix("tcp://").rsplit(":", 1)[0]
    netns = f"{PREFIX}{os.getpid()}"
    root = workdir / "sshd"
    home = workdir / "home"
    (home / ".ssh").mkdir(parents=True, mode=0o700)
    root.mkdir(parents=True)
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / name)], check=True,
                       capture_output=True, timeout=COMMAND_TIMEOUT_S)
    (root / "authorized_keys").write_text((root / "client_key.pub").read_text())
    socket_path = engine_socket(engine_dir / "engine")  # engine_dir: what netns_engine was given
    (root / "sshd_config").write_text(
        f"ListenAddress {engine_side}\nPort 22\nHostKey {root / 'host_key'}\nPidFile {root / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {root / 'authorized_keys'}\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
        f"SetEnv DOCKER_HOST=unix://{socket_path}\n")
    (home / ".ssh" / "config").write_text(f"Host {engine_side}\n  User root\n  IdentityFile {root / 'client_key'}\n")
    host_key = (root / "host_key.pub").read_text().split()
    (home / ".ssh" / "known_hosts").write_text(f"{engine_side} {host_key[0]} {host_key[1]}\n")
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
    with (root / "sshd.log").open("wb") as log:
        daemon = subprocess.Popen(["nsenter", f"--net=/run/netns/{netns}", "/usr/sbin/sshd", "-D", "-e", "-f",
                                   str(root / "sshd_config")], stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:  # listening once a TCP connect succeeds
            if daemon.poll() is not None:
                raise RuntimeError(f"sshd exited with {daemon.returncode}: {(root / 'sshd.log').read_text()[-2000:]}")
            try:
                with socket.create_connection((engine_side, 22), timeout=2):
                    break
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"sshd on {engine_side}:22 not listening within {START_TIMEOUT_S:g} s: "
                                       f"{exc}") from None
            time.sleep(POLL_S)  # a poll interval to the deadline
        yield f"ssh://root@{engine_side}", home
    finally:
        _terminate(daemon)
