"""A pytest plugin for subprocess runs (``-p tests.support.faulty_backend``): two extra backends,
``faulty-sim`` and ``faulty-docker``, that provision the real lab and then make ``esa1`` refuse every
commit through the lab's control plane, so scenarios that commit fail for a reason the lab logs. Every ESA of
the lab refuses, whichever one a scenario leases."""

from __future__ import annotations

import requests

from harness.backends import register_backend
from harness.backends.docker import DockerBackend
from harness.backends.sim import SimBackend
from harness.testbed import Testbed

CONTROL_TIMEOUT_S = 10


def _refuse_commits(testbed: Testbed) -> Testbed:
    assert testbed.simulator is not None
    for name in testbed.devices_of("esa"):
        response = requests.post(f"{testbed.simulator.control_url}/_sim/appliances/{name}/faults",
                                 json={"refuse_commit": True}, timeout=CONTROL_TIMEOUT_S)
        response.raise_for_status()
    return testbed


class FaultySim(SimBackend):
    def provision(self) -> Testbed:
        return _refuse_commits(super().provision())


class FaultyDocker(DockerBackend):
    def provision(self) -> Testbed:
        return _refuse_commits(super().provision())


# At import (``-p`` loads this module before any pytest_configure): ctrlab checks --backend at configure.
register_backend("faulty-sim", FaultySim)
register_backend("faulty-docker", FaultyDocker)
