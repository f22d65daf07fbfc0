"""The docker backend against an engine on "another host": a dockerd in a network namespace of this test's
own (``netns_engine.py``), reached at ``DOCKER_HOST=tcp://198.18.N.2:2375`` over a veth pair, and at
``DOCKER_HOST=ssh://root@198.18.N.2`` through an sshd in the same namespace (the docker SDK's paramiko
transport: the API goes through SSH, the lab's endpoints through the tunnel port, as docs/docker.md says).

The images come from the local engine (``docker save | docker load`` through the SDK: the namespace has
no route out, so nothing can be built there from the network). Needs root, dockerd, ip, nsenter and a
usable local engine with the images (or the means to build them); skipped with the reason otherwise.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.backends import BackendOptions
from harness.backends.docker import LABEL_BACKEND, DockerBackend, ImageBuilder, base_tag, connect
from tests.harness.backends import netns_engine
from tests.support.docker import docker_unusable

ROOT = Path(__file__).resolve().parents[3]
REASON = netns_engine.unavailable() or docker_unusable(ROOT)
SSH_REASON = netns_engine.sshd_unavailable()
pytestmark = [pytest.mark.skipif(REASON is not None, reason=f"remote docker engine test: {REASON}"),
              pytest.mark.timeout(1800)]  # a first build of the images on the local engine takes minutes

# A few scenarios of each kind the remote lab must carry: registration (SSH and HTTPS to the appliance,
# the cloud's APIs from the harness), deregistration through the GUI, and the network check from this
# machine through the lab's resolver (DNS over the relay) and its sites (TLS with SNI, the lab CA), one
# of them rejected by the lab's firewall (refused here too: the relays mirror the rule).
FEATURES = ["features/test_scenarios.py", "-k",
            "test_the_loggedin_appliance_registers_in_machine_mode or "
            "test_cloudserviceconfig_registers_in_the_batch_format or "
            "test_deregistering_with_the_guis_deregister_button or "
            "test_after_deregistering_through_the_interface_the_appliance_can_register_again or "
            "test_on_a_healthy_lab_the_network_check_finds_every_fqdn_of_the_region_region_reachable or "
            "(test_the_network_check_names_the_fqdn_that_is_blocked_and_how_cause and refused) or "
            "test_with_a_proxy_the_appliance_reaches_the_cloud_through_the_proxy"]
EXPECTED = 10  # scenarios the selection gives


@dataclass(frozen=True)
class Remote:
    docker_host: str  # tcp://198.18.N.2:2375
    engine_dir: Path  # what netns_engine was given (its unix socket is under it)


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Remote]:
    """DOCKER_HOST of a fresh engine in a namespace, holding ctrlab's images copied from the local engine
    by ``python -m harness.backends.docker copy`` (as docs/docker.md tells a user)."""
    local = connect()
    try:
        tags = [base_tag(ROOT), ImageBuilder(local, ROOT).ensure_sim()]
        source = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"  # the engine connect() used
    finally:
        local.close()
    engine_dir = tmp_path_factory.mktemp("remote")
    with netns_engine.netns_engine(engine_dir) as docker_host:
        done = subprocess.run([sys.executable, "-m", "harness.backends.docker", "copy", "--from", source],
                              cwd=ROOT, env={**os.environ, "DOCKER_HOST": docker_host}, capture_output=True,
                              text=True, timeout=600, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"copied: {', '.join(tags)}" in done.stdout, done.stdout  # a fresh engine has none
        yield Remote(docker_host, engine_dir)


def _engine(docker_host: str) -> object:
    import docker

    return docker.DockerClient(base_url=docker_host, timeout=30)


def test_feature_scenarios_pass_with_docker_host_pointing_at_the_remote_engine(remote: Remote, tmp_path: Path) -> None:
    _run_features_on(remote.docker_host, remote.docker_host, {}, tmp_path)


@pytest.mark.skipif(SSH_REASON is not None, reason=f"ssh:// engine test: {SSH_REASON}")
def test_feature_scenarios_pass_with_an_ssh_docker_host(remote: Remote, tmp_path: Path) -> None:
    """``DOCKER_HOST=ssh://root@H``, the user's ~/.ssh naming the key and knowing the host key: the same run."""
    with netns_engine.netns_sshd(remote.docker_host, remote.engine_dir, tmp_path) as (ssh_host, home):
        _run_features_on(ssh_host, remote.docker_host, {"HOME": str(home)}, tmp_path)
        assert "Accepted publickey for root" in (tmp_path / "sshd" / "sshd.log").read_text()  # the API went by SSH


def _run_features_on(docker_host: str, engine_api: str, env: dict[str, str], tmp_path: Path) -> None:
    """The feature selection with ``--backend docker`` and DOCKER_HOST=docker_host; the engine (seen through
    ``engine_api``) ran the lab and kept nothing."""
    started = time.time()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--backend", "docker", "-q", "-p", "no:cacheprovider",
         "--alluredir", str(tmp_path / "allure"), *FEATURES],
        cwd=ROOT, env={**os.environ, **env, "DOCKER_HOST": docker_host}, capture_output=True, text=True,
        timeout=900, check=False)
    tail = (done.stdout + done.stderr)[-4000:]
    assert done.returncode == 0, tail
    assert f"{EXPECTED} passed" in tail and " failed" not in tail, tail
    engine = _engine(engine_api)
    try:
        # The lab ran there (and was removed), not on the local engine.
        starts = list(engine.events(since=int(started), until=int(time.time()) + 1, decode=True,  # type: ignore[attr-defined]
                                    filters={"type": "container", "event": "start",
                                             "label": f"{LABEL_BACKEND}=docker"}))
        assert starts, "no ctrlab container started on the remote engine"
        assert not engine.containers.list(all=True), "the run left a container on the remote engine"  # type: ignore[attr-defined]
    finally:
        engine.close()  # type: ignore[attr-defined]


def test_the_testbed_names_loopback_relays_and_only_the_tunnel_listens_on_the_engine(
        remote: Remote, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    monkeypatch.setenv("DOCKER_HOST", remote.docker_host)
    backend = DockerBackend(BackendOptions(reports_dir=tmp_path, log_name="lab.log", project_root=ROOT))
    try:
        testbed = backend.provision()
        assert backend.engine == remote.docker_host.split("//")[1].split(":")[0]
        assert testbed.simulator is not None
        assert requests.get(f"{testbed.simulator.control_url}/_sim/health", timeout=5).json()["status"] == "ok"
        hosts = {c.host for d in testbed.devices.values()
                 for c in (d.connections.cli, d.connections.gui, d.connections.api, d.connections.smtp) if c}
        assert hosts == {"127.0.0.1"}, hosts  # relays here; the lab's certificates name these hosts
        assert Path(str(testbed.network.ca_bundle)).is_file()
        assert backend.container is not None
        # No shared file system is assumed: nothing of this machine is mounted (here the engine could).
        assert backend.container.attrs["Mounts"] == [], backend.container.attrs["Mounts"]
        # The lab is on the engine host's loopback: none of its ports answers on the engine's address
        # except the tunnel, which closes on a connection that does not give its token.
        engine_ip = backend.engine or ""
        assert backend.relays is not None
        tunnel_port = backend.relays.engine.port
        with socket.create_connection((engine_ip, tunnel_port), timeout=5) as sock:
            sock.settimeout(15)
            sock.sendall(b"CTRLAB-TUNNEL not-the-token 127.0.0.1 22\n")
            assert sock.recv(100) == b"", "the tunnel must close a connection with a wrong token"
        container_name = backend.container.name if backend.container else ""
    finally:
        backend.teardown()
    engine = _engine(remote.docker_host)
    try:
        assert container_name not in [c.name for c in engine.containers.list(all=True)]  # type: ignore[attr-defined]
    finally:
        engine.close()  # type: ignore[attr-defined]
    with pytest.raises(OSError):  # the relays are closed with the lab
        socket.create_connection(("127.0.0.1", int(testbed.simulator.control_url.rsplit(":", 1)[1])), timeout=2)


def test_an_engine_left_by_a_killed_run_is_swept(tmp_path: Path) -> None:
    import signal

    child = subprocess.Popen(
        [sys.executable, "-c", "import sys, pathlib\n"
         "from tests.harness.backends.netns_engine import netns_engine\n"
         "with netns_engine(pathlib.Path(sys.argv[1])) as host:\n"
         "    print(host, flush=True)\n"
         "    sys.stdin.read()\n", str(tmp_path)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().startswith("tcp://198.18.")  # the engine answered
        child.send_signal(signal.SIGKILL)  # its finally never runs
        child.wait(30)
        name = f"{netns_engine.PREFIX}{child.pid}"
        assert Path("/run/netns", name).exists() and (tmp_path / "engine").is_dir()
        assert name in netns_engine.sweep_stale()
        assert not Path("/run/netns", name).exists() and not (tmp_path / "engine").exists()
        assert not [p for p in Path("/proc").glob("[0-9]*/cmdline") if str(tmp_path).encode() in _read(p)]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(30)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""
