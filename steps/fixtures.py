"""Fixtures of the step library: the leased appliance and the scenario world.

* ``lab_access`` (from the harness plugin): the lab seam, one per session, whatever the backend.
* ``world``: one scenario: leases "the appliance" (the first free device of the kind the scenario's
  ``@device:<kind>`` tag asks for, ``esa`` by default), and undoes the scenario's lab changes at the
  end, pass or fail.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.access import LabAccess
from harness.leasing import Appliance

from .text import changes_whole_lab
from .world import World, no_connection


def _changes_whole_lab(request: pytest.FixtureRequest) -> bool:
    """Whether the scenario, with an outline's example values filled in, uses a lab-wide step."""
    from allure_pytest_bdd.utils import get_outline_params

    from harness.report.unstarted import scenario_template

    template = scenario_template(request.node)
    if template is None:
        return False
    try:
        steps = template.render(get_outline_params(request.node) or {}).steps
    except Exception:  # a template pytest-bdd cannot render: judge its written steps
        steps = template.steps
    return changes_whole_lab(step.name for step in steps)


def device_kind(request: pytest.FixtureRequest) -> str:
    """``@device:sma`` / ``@device:gateway`` on the scenario; an ESA otherwise."""
    for mark in request.node.iter_markers():
        if mark.name.startswith("device:"):
            return mark.name.split(":", 1)[1]
        if mark.name == "device" and mark.args:
            return str(mark.args[0])
    return "esa"


def missing_interface(request: pytest.FixtureRequest, device: Appliance) -> str | None:
    """The one line a @cli / @gui scenario skips with when the testbed does not give the leased appliance
    that interface (an SSH-only or GUI-only appliance), in the drivers' words; None when it does."""
    for role in ("cli", "gui"):
        if request.node.get_closest_marker(role) and not device.has(role):
            return f"the scenario is tagged @{role} and {no_connection(device, role)}"
    return None


@pytest.fixture
def world(request: pytest.FixtureRequest, lab_access: LabAccess) -> Iterator[World]:
    kind = device_kind(request)
    try:
        lease = lab_access.lease(kind, lab_wide=_changes_whole_lab(request))
        device = lease.__enter__()
    except LookupError as exc:
        pytest.skip(f"the testbed cannot run this scenario: {exc}")
    missing = missing_interface(request, device)
    if missing:
        lease.__exit__(None, None, None)
        pytest.skip(missing)
    w = World(request=request, lab=lab_access, device=device)
    try:
        yield w
    finally:
        problems = w.run_cleanups()
        lease.__exit__(None, None, None)
        if problems:
            # A lab change that could not be undone breaks the scenarios after this one: say so loudly.
            pytest.fail("could not restore the lab after the scenario: " + "; ".join(problems), pytrace=False)
