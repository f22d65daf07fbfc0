"""Hooks the harness offers to drivers and plugins (implement them in a plugin or a conftest.py).

They are the seam between the harness core (testbed, backends, safety, reporting) and the drivers
(``harness/appliance``, ``harness/cloud``), which hang their objects on the ``lab`` fixture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .provisioned_lab import Lab
    from .safety import CloudSettingsKeeper


@pytest.hookspec(firstresult=True)
def pytest_ctrlab_settings_keepers(lab: Lab, item: pytest.Item) -> list[CloudSettingsKeeper] | None:
    """The keepers that snapshot and restore the appliances a ``@destructive`` scenario may change.

    Return one :class:`~harness.safety.CloudSettingsKeeper` per appliance to protect (all of them, or
    only those the scenario uses), or ``None`` when you cannot. With no keeper on real gear the scenario
    is refused (its changes could not be undone); on a simulator lab it runs unprotected.
    """


@pytest.hookspec
def pytest_ctrlab_lab_ready(lab: Lab) -> None:
    """The lab is provisioned (``lab.testbed`` is final, secrets are registered for masking): a place to
    attach drivers or session resources with ``lab.resource(key, factory, close)``."""
