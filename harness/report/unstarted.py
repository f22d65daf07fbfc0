"""Allure results for scenarios that never started.

allure-pytest-bdd creates a scenario's result when pytest-bdd starts the scenario, i.e. after fixture
set-up. A scenario skipped at set-up (``@manual`` or ``@destructive`` on real gear, a region the testbed
lacks) or broken at set-up (the lab unreachable while a fixture connects) would be missing from the
report altogether. This writes the result the listener would have written, with the same identity
(full name, test case ID, history ID), labels, links and the skip reason or error.
"""

from __future__ import annotations

import os
from typing import Any

import pytest


def scenario_template(item: pytest.Item) -> Any | None:
    try:
        from pytest_bdd.scenario import scenario_wrapper_template_registry
    except ImportError:
        return None
    obj = getattr(item, "obj", None)
    try:
        return scenario_wrapper_template_registry.get(obj) if obj is not None else None
    except TypeError:  # not weak-referenceable: not a scenario
        return None


def allure_recording() -> bool:
    try:
        import allure_commons
        from allure_commons.logger import AllureFileLogger
    except ImportError:
        return False
    return any(isinstance(p, AllureFileLogger) for p in allure_commons.plugin_manager.get_plugins())


def report_unstarted_scenario(item: pytest.Item, report: pytest.TestReport,
                              excinfo: pytest.ExceptionInfo[BaseException] | None) -> bool:
    """Write an Allure result for a scenario whose set-up skipped or failed; False if not applicable."""
    template = scenario_template(item)
    if template is None or not allure_recording():
        return False
    import allure_commons
    from allure_commons.model2 import Label, Status, StatusDetails, TestResult
    from allure_commons.types import LabelType
    from allure_commons.utils import md5, now, platform_label, uuid4
    from allure_pytest_bdd.utils import (
        convert_params,
        get_allure_labels,
        get_allure_links,
        get_history_id,
        get_outline_params,
        get_pytest_params,
        get_status,
        iter_pytest_tags,
    )

    feature = template.feature
    full_name = f"{os.path.normpath(feature.rel_filename)}:{template.name}"
    outline, pytest_params = get_outline_params(item), get_pytest_params(item)
    try:
        name = template.render(outline).name  # "<variant>" filled in, as the listener names outline examples
    except Exception:
        name = template.name
    result = TestResult(uuid=uuid4(), name=name, fullName=full_name, testCaseId=md5(full_name), start=now(),
                        stop=now())
    result.titlePath = [*os.path.normpath(feature.rel_filename).split(os.sep)[:-1], feature.name]
    result.parameters = convert_params(outline, pytest_params)
    result.historyId = get_history_id(result.testCaseId, result.parameters, {**pytest_params, **outline})
    result.labels = [Label(LabelType.FRAMEWORK, "pytest-bdd"), Label(LabelType.LANGUAGE, platform_label()),
                     Label(LabelType.FEATURE, feature.name), *get_allure_labels(item),
                     *(Label(name, value) for name, value in iter_pytest_tags(item))]
    result.links = get_allure_links(item)
    if report.skipped:
        result.status = Status.SKIPPED
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        result.statusDetails = StatusDetails(message=reason.removeprefix("Skipped: "))
    else:
        result.status = get_status(excinfo.value) if excinfo is not None else Status.BROKEN
        message = excinfo.exconly() if excinfo is not None else str(report.longrepr)
        result.statusDetails = StatusDetails(message=message, trace=report.longreprtext)
    allure_commons.plugin_manager.hook.report_result(result=result)  # through the masking writer
    return True
