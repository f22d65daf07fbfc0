"""The ``lab`` fixture's object: the testbed as scenarios ask for it, and session resources for drivers."""

from __future__ import annotations

import pytest

from harness.provisioned_lab import Lab
from harness.report.masking import Masker
from harness.testbed import TestbedError, validate_data

from .support import sample_testbed


@pytest.fixture
def lab() -> Lab:
    return Lab(validate_data(sample_testbed(), "tb.yaml", environ={}), "lab", Masker())


def test_devices_and_cloud(lab: Lab) -> None:
    assert lab.device("esa1").hostname == "esa1.example.com" and lab.devices_of("esa") == ["esa1"]
    assert lab.sse().admin_url == "https://admin.sse.itd.cisco.com" and lab.ctr("nam").client_id == "client-0001"
    assert lab.region == "nam" and not lab.is_simulator and lab.deadlines.poll_interval == 0.01
    with pytest.raises(TestbedError, match=r"tb.yaml: devices: no device named 'esa9' \(the testbed has: esa1\)"):
        lab.device("esa9")
    with pytest.raises(TestbedError, match=r"tb.yaml: cloud.ctr: no entry for region 'eu'"):
        lab.ctr("eu")


def test_resources_are_built_once_and_closed_in_reverse(lab: Lab) -> None:
    closed: list[str] = []
    built: list[str] = []

    def make(name: str) -> str:
        built.append(name)
        return name

    assert lab.resource(("cli", "esa1"), lambda: make("cli"), closed.append) == "cli"
    assert lab.resource(("cli", "esa1"), lambda: make("again"), closed.append) == "cli"
    lab.resource("gui", lambda: make("gui"), closed.append)
    lab.resource("plain", lambda: make("plain"))
    lab.forget("gui")
    lab.resource("sse", lambda: make("sse"), closed.append)
    lab.close()
    assert built == ["cli", "gui", "plain", "sse"] and closed == ["gui", "sse", "cli"]


def test_runtime_secrets_go_to_the_session_masker(lab: Lab) -> None:
    lab.mask("a-registration-token-0001")
    assert lab.masker.mask("token a-registration-token-0001") == "token ***"
