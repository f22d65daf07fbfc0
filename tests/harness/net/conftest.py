"""Fixtures: the bundled lab started as a user starts it (``python -m virtual_appliances.lab``), once
with the kernel firewall (root + nftables) and once with drops emulated in userspace."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

from tests.support.running_lab import running_lab

from .support import RunningLab


def _start(tmp: Path, env: dict[str, str]) -> Iterator[RunningLab]:
    with contextlib.ExitStack() as stack:
        with mock.patch.dict(os.environ, env):  # read by the lab process at start only
            testbed = stack.enter_context(running_lab(tmp))
        yield RunningLab(testbed, tmp / "testbed.yaml")


@pytest.fixture(scope="session")
def session_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    yield from _start(tmp_path_factory.mktemp("netcheck-lab"), {})


@pytest.fixture
def lab(session_lab: RunningLab) -> Iterator[RunningLab]:
    """The session's lab, with the network back to normal after each test."""
    session_lab.reset()
    yield session_lab
    session_lab.reset()


@pytest.fixture
def kernel_lab(lab: RunningLab) -> RunningLab:
    if lab.netlab()["firewall"]["drop"] != "nftables":
        pytest.skip("the kernel firewall needs root and nftables")
    return lab


@pytest.fixture(scope="session")
def emulated_session_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    yield from _start(tmp_path_factory.mktemp("netcheck-emulated"), {"CTRLAB_NETLAB_FIREWALL": "emulated"})


@pytest.fixture
def emulated_lab(emulated_session_lab: RunningLab) -> Iterator[RunningLab]:
    emulated_session_lab.reset()
    yield emulated_session_lab
    emulated_session_lab.reset()


@pytest.fixture
def raw_allowed() -> None:
    from harness.net.syn import load_scapy, raw_sockets_allowed

    reason = load_scapy() or raw_sockets_allowed()
    if reason:
        pytest.skip(reason)
