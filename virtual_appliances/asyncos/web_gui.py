"""The appliance's web GUI; the pages live in the ``gui`` package (route table, one module per page,
HTML in ``templates``). This module stays the entry point the lab runner and the driver tests import."""

from __future__ import annotations

from .gui import gui_app

__all__ = ["gui_app"]
