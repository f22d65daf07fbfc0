"""The appliance's web GUI; the pages live in the ``gui`` package (route table, one module per page).

This module is the entry point the lab runner and older tests import.
"""

from __future__ import annotations

from .gui import gui_app
from .gui.context import safe_referrer
from .web_common import USERNAME, asyncos_time, fault_middleware

__all__ = ["USERNAME", "asyncos_time", "fault_middleware", "gui_app", "safe_referrer"]
