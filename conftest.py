"""Root conftest: loads the step library (``steps/``) for the feature suite.

``pytest_plugins`` is only honoured in the root conftest, which is why the step modules are listed here;
the harness plugin itself (fixtures ``testbed``, ``sim_control``, markers, Allure) comes in through its
``pytest11`` entry point.
"""

from steps import STEP_MODULES

pytest_plugins = ["steps.fixtures", *STEP_MODULES]
