"""Root conftest: loads the step library (``steps/``) for the feature suite.

The step modules are registered as plugins when the session is configured, in every process that runs
scenarios; not in the pytest-xdist controller, which only hands scenarios to its workers: importing the
step library (the drivers, the testbed models) costs it a second before it can start them. The harness
plugin itself (fixtures ``testbed``, ``sim_control``, markers, Allure) comes in through its ``pytest11``
entry point.
"""

import pytest

from steps import STEP_MODULES


def pytest_configure(config: pytest.Config) -> None:
    xdist_controller = (not hasattr(config, "workerinput") and bool(getattr(config.option, "numprocesses", None))
                        and getattr(config.option, "dist", "no") != "no")
    if xdist_controller:
        return
    for name in ("steps.fixtures", *STEP_MODULES):
        config.pluginmanager.import_plugin(name)
