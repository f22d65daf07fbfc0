"""Fixtures: the simulated SSE and Threat Response served over real HTTPS on a background event loop."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.loop import BackgroundLoop, session_loop
from virtual_appliances.common.pki import LabCA

from .support import CloudLab, FakeAppliance

cloud_loop = session_loop()


@pytest.fixture(scope="session")
def cloud_ca(tmp_path_factory: pytest.TempPathFactory) -> LabCA:
    return LabCA(Path(tmp_path_factory.mktemp("cloud-ca")))


@pytest.fixture(scope="session")
def running_lab(cloud_loop: BackgroundLoop, cloud_ca: LabCA) -> Iterator[CloudLab]:
    lab = CloudLab(cloud_loop, cloud_ca)
    cloud_loop.run(lab.start())
    yield lab
    cloud_loop.run(lab.stop())


@pytest.fixture
def lab(running_lab: CloudLab) -> Iterator[CloudLab]:
    """The cloud, empty: every test starts from reset state (servers stay up for speed)."""
    running_lab.reset()
    yield running_lab
    running_lab.stop_appliances()


@pytest.fixture
def appliance(lab: CloudLab) -> Callable[..., FakeAppliance]:
    """Start fake appliances the cloud calls back: ``appliance(kind="sma")``."""

    def start(kind: str = "esa") -> FakeAppliance:
        return lab.start_appliance(FakeAppliance(kind))

    return start


@pytest.fixture
def tr_env(lab: CloudLab, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the official client needs to trust the lab CA (it uses requests with trust_env)."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(lab.ca.bundle))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
