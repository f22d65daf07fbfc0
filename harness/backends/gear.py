"""``lab``: real gear (or a lab someone else started, e.g. ``ctrlab sim up``), described by ``--testbed``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Backend, BackendError

if TYPE_CHECKING:
    from ..testbed import Testbed


class GearBackend(Backend):
    name = "lab"

    def provision(self) -> Testbed:
        from ..testbed import load_testbed

        if self.options.testbed_path is None:
            raise BackendError("the lab backend needs a testbed: pass --testbed PATH")
        # Nothing to start: the lab exists. Reachability is the drivers' business (LabUnreachable).
        return load_testbed(self.options.testbed_path, environ=self.options.environ)

    def describe(self) -> str:
        return f"lab ({self.options.testbed_path})"
