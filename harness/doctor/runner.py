"""Run the checks, appliance by appliance, announcing each as it starts and ends."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from ..errors import AuthenticationFailed, DriverError, LabUnreachable
from ..net import SettingsError
from ..testbed import Testbed
from . import remedies, shared
from .checks import CHECKS, Subject
from .clients import Clients
from .result import Row, Status

Progress = Callable[[str], None]
SHARED = (("firewall/proxy", "PRE-3/PRE-4"), ("SSE Threat Response", "PRE-2/TS-1"))


def diagnose(testbed: Testbed, *, region: str | None = None, timeout: float = 5.0, wait: float | None = None,
             progress: Progress = lambda line: None) -> list[Row]:
    """Every check for every appliance of ``testbed``; never changes the lab."""
    region = region or testbed.region
    clients = Clients(testbed, timeout)
    interval = testbed.deadlines.poll_interval
    wait = testbed.deadlines.registration if wait is None else wait
    outcomes: dict[str, shared.Outcome] = {}
    rows: list[Row] = []
    try:
        for name, device in testbed.devices.items():
            subject = Subject(name, device, region, clients, wait, min(interval, max(wait, 0.1)), progress)
            rows.append(_timed(progress, name, CHECKS[0][0], partial(CHECKS[0][1], subject)))
            for check, refs in SHARED:
                if check not in outcomes:  # once per diagnosis: the region's path and tenant are shared
                    outcomes[check] = _shared(progress, check, testbed, clients, region, timeout)
                o = outcomes[check]
                subject.threat_response_off |= o.threat_response_off
                rows.append(Row(name, check, refs, o.status, o.detail, o.remedy))
            for check, run in CHECKS[1:]:
                rows.append(_timed(progress, name, check, partial(run, subject)))
    finally:
        clients.close()
    return rows


def _timed(progress: Progress, name: str, check: str, run: Callable[[], Row]) -> Row:
    progress(f"doctor: {name}: {check} ...")
    started = time.monotonic()
    try:
        row = run()
    except DriverError as exc:
        row = Row(name, check, "-", Status.FAIL, f"could not check: {_one_line(exc)}", _remedy_for(exc))
    progress(f"doctor: {name}: {check}: {row.status} ({time.monotonic() - started:.1f} s)")
    return row


def _shared(progress: Progress, check: str, testbed: Testbed, clients: Clients, region: str,
            timeout: float) -> shared.Outcome:
    progress(f"doctor: {region}: {check} ...")
    started = time.monotonic()
    try:
        if check == "firewall/proxy":
            outcome = shared.firewall(testbed, region, timeout)
        else:
            outcome = shared.sse_threat_response(clients, region)
    except (DriverError, SettingsError) as exc:
        outcome = shared.Outcome(Status.FAIL, f"could not check: {_one_line(exc)}", _remedy_for(exc))
    progress(f"doctor: {region}: {check}: {outcome.status} ({time.monotonic() - started:.1f} s)")
    return outcome


def _remedy_for(exc: Exception) -> str:
    if isinstance(exc, LabUnreachable | AuthenticationFailed):
        return remedies.CONNECTION
    return "see the detail; " + remedies.CONNECTION


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."
