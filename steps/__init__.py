"""The step library of the feature suite: a vocabulary QA engineers combine in Gherkin (docs/steps.md).

Modules: ``fixtures`` (lab access, the leased appliance, the scenario world), ``*_steps`` (the sentences),
``world`` (the documented procedures as operations), ``expect`` (failure messages that name the
requirement and quote the document), ``placeholders`` (``<hostname>``, ``<token>``, ``<date>``, ...).
Nothing here imports ``virtual_appliances``: the lab is reached over its protocols only.
"""

STEP_MODULES = (
    "steps.appliance_steps",
    "steps.cli_steps",
    "steps.gui_steps",
    "steps.sse_steps",
    "steps.ctr_steps",
    "steps.mail_steps",
    "steps.network_steps",
    "steps.lab_steps",
    "steps.ribbon_steps",
)
