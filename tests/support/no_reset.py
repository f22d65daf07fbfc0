"""A pytest plugin (``-p tests.support.no_reset``): the sim lab's control plane does not reset an appliance,
so every scenario reaches its known state by walking the documented procedures over the appliance's own
interfaces, as it does on real gear (``World.start_disabled``)."""

from __future__ import annotations

from harness.labcontrol import SimLabControl


def _no_reset(self: SimLabControl, device: str) -> bool:
    return False


SimLabControl.reset_appliance = _no_reset  # type: ignore[method-assign]
