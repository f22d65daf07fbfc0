"""pytest side of verdicts and the circuit breaker (registered by ``harness/plugin.py``).

* every failed scenario is classified (:mod:`harness.verdicts`) while its report is made, so Allure,
  the terminal and junit see one verdict: status failed only for conformance failures, broken with a
  ``lab fault:`` / ``harness error:`` message otherwise;
* the verdict travels on the report (``user_properties``), so under pytest-xdist the controller counts
  what the workers classified;
* the breaker (:mod:`harness.breaker`) skips every scenario after the lab stopped answering, with one
  line naming what is down;
* at the end: one summary line ("ctrlab: N conformance failures, M lab faults, K harness errors") and
  ``reports/ctrlab-verdict.json`` (docs/harness.md, "Verdicts and exit status").
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from . import retries
from .breaker import Breaker, close_circuit, health_of, open_circuit
from .session import SESSION_KEY
from .verdicts import CONFORMANCE, HARNESS_ERROR, LAB_FAULT, Verdict, classify, wrapped

VERDICT_FILE = "ctrlab-verdict.json"
PROPERTY = "ctrlab.verdict"
SCENARIO = "ctrlab.scenario"  # on every scenario's call report: the controller counts scenarios by it
NOT_RUN = "not run: "  # the skip reason's prefix for scenarios the breaker stopped
STEP_TYPE_KEY = pytest.StashKey[tuple[str, str]]()  # (given|when|then, "Given the step text")


class Ledger:
    """What this process saw: the breaker, and (on the controller or alone) every scenario's verdict."""

    def __init__(self) -> None:
        close_circuit()  # a new session (pytester nests them) starts with the lab trusted
        retries.configure_default(retries.RetryPolicy())
        self.breaker = Breaker()
        self.verdicts: dict[str, tuple[str, str]] = {}  # nodeid -> (kind, reason); first failure wins
        self.not_run = 0
        self.stopped: str | None = None
        self.scenarios = 0

    def counts(self) -> dict[str, int]:
        kinds = [kind for kind, _ in self.verdicts.values()]
        return {CONFORMANCE: kinds.count(CONFORMANCE), LAB_FAULT: kinds.count(LAB_FAULT),
                HARNESS_ERROR: kinds.count(HARNESS_ERROR), "not run": self.not_run}

    def summary(self) -> str:
        c = self.counts()
        line = (f"ctrlab: {c[CONFORMANCE]} conformance failure{'s' * (c[CONFORMANCE] != 1)}, "
                f"{c[LAB_FAULT]} lab fault{'s' * (c[LAB_FAULT] != 1)}, "
                f"{c[HARNESS_ERROR]} harness error{'s' * (c[HARNESS_ERROR] != 1)}")
        return line + (f", {self.not_run} not run (the lab stopped answering)" if self.not_run else "")

    def verdict(self) -> str:
        """The run in one word pair, worst first: what CI should look at."""
        c = self.counts()
        if c[CONFORMANCE]:
            return "conformance failures"
        if c[LAB_FAULT] or self.stopped:
            return "lab faults"
        if c[HARNESS_ERROR]:
            return "harness errors"
        return "passed"


LEDGER_KEY = pytest.StashKey[Ledger]()


def ledger(config: pytest.Config) -> Ledger:
    if LEDGER_KEY not in config.stash:
        config.stash[LEDGER_KEY] = Ledger()
    return config.stash[LEDGER_KEY]


def is_scenario(item: pytest.Item) -> bool:
    from .report.unstarted import scenario_template

    return scenario_template(item) is not None


# ---- hooks --------------------------------------------------------------------------------------------
def pytest_ctrlab_lab_ready(lab: Any) -> None:
    """The testbed's resilience settings: ``cloud.retries`` for every cloud client, ``breaker`` here."""
    from .plugin import _CONFIGS

    cloud = getattr(lab.testbed, "cloud", None)
    retries.configure_default(retries.RetryPolicy.from_config(getattr(cloud, "retries", None)))

    config = _CONFIGS[-1] if _CONFIGS else None
    if config is None:
        return
    state = config.stash.get(SESSION_KEY, None)
    breaker = ledger(config).breaker
    several = state is not None and state.options.several_labs  # then say which lab is down
    breaker.health = health_of(lab.testbed, getattr(state, "backend", None), named=several)
    settings = getattr(lab.testbed, "breaker", None)
    if settings is not None:
        breaker.threshold = settings.lab_faults


@pytest.hookimpl(optionalhook=True)
def pytest_bdd_before_step(request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any,
                           step_func: Any) -> None:
    request.node.stash[STEP_TYPE_KEY] = (str(getattr(step, "type", "")), f"{step.keyword} {step.name}".strip())


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    reason = ledger(item.config).breaker.reason
    if reason is not None and is_scenario(item):
        pytest.skip(NOT_RUN + reason)


def reclassify(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> Verdict | None:
    """Called by the plugin's report hook (before Allure reads ``call.excinfo``): classify a failed
    scenario, hand Allure the wrapped exception, record the verdict on the report, feed the breaker."""
    if not is_scenario(item):
        return None
    book = ledger(item.config)
    if report.when == "call":
        report.user_properties.append((SCENARIO, "1"))
    if call.excinfo is None or not report.failed:
        if report.when == "call" and report.passed:
            book.breaker.record(None)
        return None
    exc = call.excinfo.value
    step_type, step = item.stash.get(STEP_TYPE_KEY, ("", ""))
    if report.when == "setup":
        step_type, step = "given", "scenario set-up"
    verdict = classify(exc, step_type if report.when != "teardown" else "teardown", step)
    new = wrapped(exc, verdict)
    if new is not exc:
        call.excinfo = pytest.ExceptionInfo.from_exception(new)
        report.longrepr = f"{verdict.message}\n{report.longreprtext}"
    report.user_properties.append((PROPERTY, json.dumps([verdict.kind, verdict.reason])))
    opened = book.breaker.record(verdict)  # a clean-up that found the lab gone counts too
    if opened:
        open_circuit(opened)
        _announce(item.config, opened)
    return verdict


def _announce(config: pytest.Config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_line(line, red=True, bold=True)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Runs alone, on each xdist worker and on the controller with the workers' reports: the config is
    # the innermost one, as for the lab hook.
    from .plugin import _CONFIGS

    if not _CONFIGS:
        return
    book = ledger(_CONFIGS[-1])
    found = [value for name, value in report.user_properties if name == PROPERTY]
    if report.when == "call" and any(name == SCENARIO for name, _ in report.user_properties):
        book.scenarios += 1
    if found and report.nodeid not in book.verdicts and not hasattr(report, "wasxfail"):
        # an expected failure (@known:<gap>) is reported by pytest as xfailed, not as a verdict of this run
        kind, reason = json.loads(found[-1])
        book.verdicts[report.nodeid] = (kind, reason)
    if report.skipped and report.when == "setup":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        if reason.startswith(NOT_RUN):
            book.not_run += 1
            book.stopped = book.stopped or reason.removeprefix(NOT_RUN)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    book = ledger(config)
    if not book.scenarios and not book.verdicts and not book.not_run:
        return
    terminalreporter.section("ctrlab verdicts", sep="-", bold=True)
    for nodeid, (kind, reason) in book.verdicts.items():
        if kind != CONFORMANCE:
            terminalreporter.line(f"{kind.upper()}: {nodeid}: {reason}"[:300])
    if book.stopped:
        terminalreporter.line(book.stopped, red=True, bold=True)
    terminalreporter.line(book.summary(), bold=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    close_circuit()
    config = session.config
    book = ledger(config)
    state = config.stash.get(SESSION_KEY, None)
    if hasattr(config, "workerinput") or state is None or not (book.scenarios or book.verdicts or book.not_run):
        return
    path = Path(state.options.reports_dir) / VERDICT_FILE
    data = {"verdict": book.verdict(), "exit_status": int(exitstatus), "summary": book.summary(),
            "scenarios_run": book.scenarios,
            "counts": book.counts(), "stopped": book.stopped,
            "failures": [{"scenario": n, "verdict": k, "reason": r} for n, (k, r) in book.verdicts.items()]}
    text = state.masker.mask(json.dumps(data, indent=2))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, path)
