"""Allure results for scenarios a Ctrl-C (or SIGTERM, turned into KeyboardInterrupt) cut short.

allure-pytest-bdd writes a scenario's result from the teardown report; a KeyboardInterrupt skips the
remaining reports, so an interrupted scenario had no result at all, and a passed scenario whose teardown
(the settings restore) was interrupted lost the result it had earned. Here, when the interrupt passes
through the scenario's run protocol, the open result is written: with the status it already has (a pass
stays a pass), or ``broken`` with the message "interrupted" when the scenario had none yet. A scenario
interrupted before it started gets a fresh ``broken`` result the same way as one that never started.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

INTERRUPTED = "interrupted"


def _listener(config: pytest.Config) -> Any | None:
    for plugin in config.pluginmanager.get_plugins():
        if type(plugin).__name__ == "PytestBDDListener" and hasattr(plugin, "nodeid_to_uuid"):
            return plugin
    return None


def report_interrupted(item: pytest.Item) -> bool:
    """Write the interrupted scenario's Allure result; False when Allure is not recording or not a scenario."""
    from .unstarted import allure_recording, report_unstarted_scenario, scenario_template

    if scenario_template(item) is None or not allure_recording():
        return False
    listener = _listener(item.config)
    uuid = listener.nodeid_to_uuid.get(item.nodeid) if listener is not None else None
    if uuid is None:  # interrupted before pytest-bdd started the scenario
        stand_in = SimpleNamespace(skipped=False, longrepr=INTERRUPTED, longreprtext=INTERRUPTED)
        return report_unstarted_scenario(item, stand_in, None)  # type: ignore[arg-type]
    from allure_commons.model2 import Status, StatusDetails
    from allure_commons.utils import now

    lifecycle = listener.lifecycle
    with lifecycle.update_test_case(uuid=uuid) as result:
        if result is None:
            return False
        if result.status is None:  # the scenario itself did not finish: broken, not failed
            result.status = Status.BROKEN
            result.statusDetails = StatusDetails(message=INTERRUPTED)
        result.stop = result.stop or now()
    lifecycle.write_test_case(uuid=uuid)
    del listener.nodeid_to_uuid[item.nodeid]
    return True
