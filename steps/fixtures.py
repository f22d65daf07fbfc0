"""Fixtures of the step library: the session's lab access, the leased appliance, the scenario world.

* ``ctrlab_access``: one :class:`~steps.lab.LabAccess` per session (drivers and SSH sessions reused),
  built from the plugin's ``testbed`` and, on simulators, its ``sim_control`` client.
* ``world``: one scenario: leases "the appliance" (the first free device of the kind the scenario's
  ``@device:<kind>`` tag asks for, ``esa`` by default), and undoes the scenario's lab changes at the
  end, pass or fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .lab import LabAccess, changes_whole_lab
from .world import World


def _optional_fixture(request: pytest.FixtureRequest, name: str) -> object | None:
    try:
        return request.getfixturevalue(name)
    except pytest.FixtureLookupError:
        return None


@pytest.fixture(scope="session")
def ctrlab_access(request: pytest.FixtureRequest) -> Iterator[LabAccess]:
    """Built on the plugin's ``lab`` (the provisioned testbed) and ``sim_control`` (None on real gear)."""
    lab = request.getfixturevalue("lab")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:]  # xdist: gw0, gw1, ... (which device to try first)
    access = LabAccess(lab.testbed, _optional_fixture(request, "sim_control"), lab=lab,  # type: ignore[arg-type]
                       lease_dir=getattr(lab, "lease_dir", None), worker_index=int(worker) if worker.isdigit() else 0)
    yield access
    access.close()


def _changes_whole_lab(request: pytest.FixtureRequest) -> bool:
    from harness.report.unstarted import scenario_template

    template = scenario_template(request.node)
    return template is not None and changes_whole_lab(step.name for step in template.steps)


def device_kind(request: pytest.FixtureRequest) -> str:
    """``@device:sma`` / ``@device:gateway`` on the scenario; an ESA otherwise."""
    for mark in request.node.iter_markers():
        if mark.name.startswith("device:"):
            return mark.name.split(":", 1)[1]
        if mark.name == "device" and mark.args:
            return str(mark.args[0])
    return "esa"


@pytest.fixture
def world(request: pytest.FixtureRequest, ctrlab_access: LabAccess) -> Iterator[World]:
    kind = device_kind(request)
    try:
        lease = ctrlab_access.lease(kind, lab_wide=_changes_whole_lab(request))
        device = lease.__enter__()
    except LookupError as exc:
        pytest.skip(f"the testbed cannot run this scenario: {exc}")
    w = World(request=request, lab=ctrlab_access, device=device)
    try:
        yield w
    finally:
        problems = w.run_cleanups()
        lease.__exit__(None, None, None)
        if problems:
            # A lab change that could not be undone breaks the scenarios after this one: say so loudly.
            pytest.fail("could not restore the lab after the scenario: " + "; ".join(problems), pytrace=False)
