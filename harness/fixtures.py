"""The fixtures ctrlab offers to step definitions (registered by ``harness/plugin.py``).

=================  =========  ========================================================================
fixture            scope      what
=================  =========  ========================================================================
``lab``            session    the provisioned lab (:class:`harness.provisioned_lab.Lab`): devices, cloud, resources
``testbed``        session    its :class:`~harness.testbed.Testbed` (after ``--region``)
``deadlines``      session    ``testbed.deadlines`` (real seconds; ``poll_interval``)
``poll_until``     function   ``poll_until(probe, "registration", describe=...)``: waits to a deadline
``sim_control``    session    the simulators' control plane (``/_sim/...``); ``None`` on real gear
``masker``         session    register run-time secrets: ``masker.add(token)``
``lab_access``     session    the steps' seam (:class:`harness.access.LabAccess`): drivers, leases, lab control
                              and lab time, whatever the backend
=================  =========  ========================================================================

Plus an autouse guard that applies the tags' rules: ``@destructive`` (opt-in on real gear, settings
snapshot and restore), ``@manual`` (skipped on real gear), ``@region:<r>`` and ``@device:<kind>``
(skipped when the testbed cannot provide them). Tests without those tags never touch the lab.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from .session import SESSION_KEY, CtrlabSession

if TYPE_CHECKING:
    from .polling import Poller
    from .provisioned_lab import Lab
    from .report.masking import Masker
    from .simcontrol import SimControl
    from .testbed import Deadlines, Testbed

_GUARDED = frozenset({"destructive", "manual", "region", "device"})


def _state(config: pytest.Config) -> CtrlabSession:
    return config.stash[SESSION_KEY]


@pytest.fixture(scope="session")
def lab(pytestconfig: pytest.Config) -> Iterator[Lab]:
    """The lab, provisioned by the backend on first use and released at session end."""
    from .backends import BackendError
    from .testbed import TestbedError

    state = _state(pytestconfig)
    try:
        provisioned = state.provision()
    except (BackendError, TestbedError) as exc:
        # Every scenario would fail the same way: stop the session with the one message that matters.
        state.provision_error = str(exc)
        state.release()
        pytest.exit(state.masker.mask(f"ctrlab: cannot provision the lab ({state.options.backend}): {exc}"),
                    returncode=pytest.ExitCode.USAGE_ERROR)
    try:
        yield provisioned
    finally:
        state.release()


@pytest.fixture(scope="session")
def testbed(lab: Lab) -> Testbed:
    return lab.testbed


@pytest.fixture(scope="session")
def deadlines(lab: Lab) -> Deadlines:
    return lab.deadlines


@pytest.fixture(scope="session")
def masker(pytestconfig: pytest.Config) -> Masker:
    return _state(pytestconfig).masker


@pytest.fixture
def poll_until(deadlines: Deadlines) -> Poller:
    from .polling import Poller

    return Poller(deadlines.get, deadlines.poll_interval)


@pytest.fixture(scope="session")
def sim_control(lab: Lab) -> Iterator[SimControl | None]:
    """The control plane of a simulator lab; ``None`` on real gear.

    Steps use it only to put the lab into a state a lab engineer would set up by hand; such scenarios are
    tagged ``@manual:<why>``, and the harness skips them on real gear with that reason before any step runs.
    """
    if lab.testbed.simulator is None:
        yield None
        return
    from .simcontrol import SimControl

    client = SimControl(lab.testbed.simulator.control_url)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def lab_access(lab: Lab, sim_control: SimControl | None) -> Iterator[Any]:
    """Drivers, leases, lab control and lab time for the step library, built from the testbed."""
    import os

    from .access import LabAccess

    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:]  # which appliance an xdist worker tries first
    access = LabAccess(lab, sim_control, lease_dir=lab.lease_dir, worker_index=int(worker) if worker.isdigit() else 0)
    try:
        yield access
    finally:
        access.close()


@pytest.fixture(autouse=True)
def _ctrlab_scenario_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    item = request.node
    marks = {m.name: m for m in reversed(list(item.iter_markers())) if m.name in _GUARDED}
    if not marks:  # not a scenario with lab rules: never provision a lab for it
        yield
        return
    state = _state(request.config)
    lab_: Lab = request.getfixturevalue("lab")
    _skip_if_not_applicable(item, lab_, state)
    if "destructive" not in marks:
        yield
        return
    keepers = _keepers(request, lab_)
    from .safety import NET

    def raise_on_failure() -> bool:
        # Interrupted: the restore runs in pytest's session teardown, where an exception is a traceback;
        # the unrestored appliances are listed at the end of the run instead (plugin terminal summary).
        return getattr(request.session, "exitstatus", 0) != pytest.ExitCode.INTERRUPTED

    with NET.guard(keepers, context=f"scenario {item.nodeid}", raise_on_failure=raise_on_failure):
        yield


def _skip_if_not_applicable(item: pytest.Item, lab_: Lab, state: CtrlabSession) -> None:
    destructive, manual = item.get_closest_marker("destructive"), item.get_closest_marker("manual")
    # Asked of the devices themselves, not of the testbed's simulator block (harness/provenance.py).
    real = _real_gear(lab_) if (destructive and not state.options.allow_destructive) or manual else {}
    real_gear = bool(real)
    if real_gear and destructive and not state.options.allow_destructive:
        pytest.skip("destructive scenario (it changes the appliance's cloud registration) on real gear: run with "
                    "--allow-destructive to allow it (settings are recorded before and restored after); "
                    + "; ".join(f"{name}: {why}" for name, why in real.items()))
    if real_gear and manual is not None:
        pytest.skip(f"needs manual set-up on real gear: {manual.args[0] if manual.args else 'see the scenario'}")
    for mark in item.iter_markers("region"):
        for region in mark.args:
            if not lab_.testbed.has_region(region):
                pytest.skip(f"the testbed has no cloud.sse.{region} (the scenario is tagged @region:{region})")
    for mark in item.iter_markers("device"):
        for kind in mark.args:
            if not lab_.devices_of(kind):
                pytest.skip(f"the testbed has no {kind} device (the scenario is tagged @device:{kind})")


def _real_gear(lab_: Lab) -> dict[str, str]:
    from .provenance import real_or_unknown

    return real_or_unknown(lab_)


def _keepers(request: pytest.FixtureRequest, lab_: Lab) -> list[Any]:
    keepers = request.config.hook.pytest_ctrlab_settings_keepers(lab=lab_, item=request.node)
    if keepers is None and _real_gear(lab_):
        from .safety import SnapshotFailed

        raise SnapshotFailed("no driver provides a CloudSettingsKeeper (hook pytest_ctrlab_settings_keepers), so "
                             "the changes of this destructive scenario could not be undone: it was not run")
    return list(keepers or [])
