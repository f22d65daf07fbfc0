"""The docker backend end to end: images by input hash, provision/teardown, and feature scenarios on it.

Needs a usable docker daemon (and, for a first build, root + debootstrap + a package index): without
one every test here is skipped with the reason. The images are built once (minutes on a clean machine,
nothing when they exist); each lab then starts in about two seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.backends import BackendError, BackendOptions
from harness.backends.docker import LABEL_BACKEND, DockerBackend, ImageBuilder, connect, sim_inputs_hash
from tests.support.docker import docker_unusable

ROOT = Path(__file__).resolve().parents[3]


REASON = docker_unusable(ROOT)
pytestmark = [pytest.mark.skipif(REASON is not None, reason=f"docker backend unusable: {REASON}"),
              pytest.mark.timeout(1800)]  # a first build debootstraps and pip-installs


@pytest.fixture(scope="module")
def image() -> str:
    client = connect()
    try:
        return ImageBuilder(client, ROOT).ensure_sim()
    finally:
        client.close()


def _containers() -> list[str]:
    client = connect()
    try:
        return [c.name for c in client.containers.list(all=True, filters={"label": f"{LABEL_BACKEND}=docker"})]
    finally:
        client.close()


def test_images_are_rebuilt_only_when_an_input_changes(image: str, tmp_path: Path) -> None:
    client = connect()
    try:
        builder = ImageBuilder(client, ROOT)
        assert builder.ensure_sim() == image
        assert builder.timings == {}, "an image whose inputs are unchanged must not be rebuilt"
    finally:
        client.close()
    # A copy of the inputs with one simulator file changed hashes differently; the original does not.
    copy = tmp_path / "root"
    shutil.copytree(ROOT / "virtual_appliances", copy / "virtual_appliances",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy2(ROOT / "pyproject.toml", copy / "pyproject.toml")
    assert sim_inputs_hash(copy) == sim_inputs_hash(ROOT)
    with (copy / "virtual_appliances" / "lab.py").open("a") as f:
        f.write("\n# changed\n")
    assert sim_inputs_hash(copy) != sim_inputs_hash(ROOT)


@pytest.fixture
def backend(image: str, tmp_path: Path) -> Iterator[DockerBackend]:
    backend = DockerBackend(BackendOptions(reports_dir=tmp_path, log_name="docker-lab.log", project_root=ROOT))
    yield backend
    backend.teardown()


def test_provision_answers_from_the_host_and_teardown_removes_everything(backend: DockerBackend,
                                                                          tmp_path: Path) -> None:
    import requests

    testbed = backend.provision()
    assert backend.timings["ready"] < 30, backend.timings
    assert testbed.simulator is not None
    response = requests.get(f"{testbed.simulator.control_url}/_sim/health", timeout=5)
    assert response.json()["status"] == "ok"
    name = backend.container.name if backend.container else ""
    assert name in _containers()
    workdir = backend.workdir
    backend.teardown()
    backend.teardown()  # safe twice
    assert name not in _containers()
    assert workdir is not None and not workdir.exists()
    assert "ctrlab lab stopped" in (tmp_path / "docker-lab.log").read_text()  # stopped cleanly, log kept


def test_a_lab_that_fails_to_start_is_reported_with_its_log_and_removed(backend: DockerBackend) -> None:
    backend.options = BackendOptions(reports_dir=backend.options.reports_dir, log_name="docker-lab.log",
                                     project_root=ROOT, extra_args=("--speed", "-1"))
    with pytest.raises(BackendError, match=r"(?s)exited with code 2.*--speed must be > 0"):
        backend.provision()
    assert backend.container is None and backend.workdir is None
    assert not [n for n in _containers() if n.startswith(f"ctrlab-sim-{os.getpid()}-")]


# A slice of the suite (registration and its deregistration/reregistration, ~36 scenarios): the whole
# suite on docker is `pytest --backend docker` (.ci/run).
FEATURES = ["features/test_scenarios.py", "-k", "register"]


def test_feature_scenarios_pass_on_the_docker_backend(image: str, tmp_path: Path) -> None:
    # A separate pytest process, as a user runs it: the plugin provisions through --backend docker.
    started = time.monotonic()
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--backend", "docker", "-q",
         "-p", "no:cacheprovider", "--alluredir", str(tmp_path / "allure"), *FEATURES],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = run.communicate(timeout=900)
    tail = (stdout + stderr)[-4000:]
    assert run.returncode == 0, tail
    assert " passed" in tail and " failed" not in tail, tail
    assert "backend=docker" in (tmp_path / "allure" / "environment.properties").read_text().replace(" ", "")
    assert time.monotonic() - started < 900
    # its own containers only: other runs may share the engine
    assert not [n for n in _containers() if n.startswith(f"ctrlab-sim-{run.pid}-")], "the run left a container behind"


def test_a_failing_scenario_carries_the_containers_log(image: str, tmp_path: Path) -> None:
    from tests.harness.test_lab_log_attachment import assert_only_the_failure_has_the_log, run_with_backend

    allure = tmp_path / "allure"
    assert_only_the_failure_has_the_log(run_with_backend("faulty-docker", allure, timeout=900), allure)
