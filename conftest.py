"""Root conftest: loads the step library (``steps/``) for the feature suite.

``pytest_plugins`` is only honoured in the root conftest, which is why the step modules are listed here;
the harness plugin itself (fixtures ``testbed``, ``sim_control``, markers, Allure) comes in through its
``pytest11`` entry point.
"""

pytest_plugins = [
    "steps.fixtures",
    "steps.appliance_steps",
    "steps.cli_steps",
    "steps.gui_steps",
    "steps.sse_steps",
    "steps.ctr_steps",
    "steps.mail_steps",
    "steps.network_steps",
    "steps.lab_steps",
    "steps.ribbon_steps",
]
