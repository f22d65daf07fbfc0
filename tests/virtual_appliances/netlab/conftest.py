"""Fixtures: a netlab on a background event loop, with sites for the documented FQDNs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.loop import BackgroundLoop, session_loop
from virtual_appliances.common.regions import all_fqdns

from .support import EXTRA_SITE, NO_SITE, Lab, build_lab, stop_lab

SITES = [f for f in all_fqdns() if f != NO_SITE] + [EXTRA_SITE]


bg_loop = session_loop()


@pytest.fixture(scope="module")
def module_lab(bg_loop: BackgroundLoop, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    lab = build_lab(bg_loop, tmp_path_factory.mktemp("netlab"), sites=SITES)
    yield lab
    stop_lab(lab)


@pytest.fixture
def lab(module_lab: Lab) -> Iterator[Lab]:
    """The module's lab, back to its initial state after each test."""
    yield module_lab
    module_lab.netlab.reset()


@pytest.fixture
def kernel_lab(lab: Lab) -> Lab:
    if lab.netlab.state()["firewall"]["drop"] != "nftables":
        pytest.skip("kernel firewall needs root and nftables")
    return lab


@pytest.fixture
def emulated_lab(bg_loop: BackgroundLoop, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A lab that emulates drops in userspace, as it does without root."""
    lab = build_lab(bg_loop, tmp_path_factory.mktemp("netlab-emulated"), sites=SITES,
                    firewall_mode="emulated")
    yield lab
    stop_lab(lab)
