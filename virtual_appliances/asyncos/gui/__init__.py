"""The appliance's legacy web interface (HTTPS, server-rendered HTML, cookie session, no JavaScript),
split by page: ``app.py`` holds the route table, one module per page handles it, ``templates/`` renders.

Pages follow the seed screenshots (002/004: ESA C100V 13.0; 000: SecureX era and content security
gateways) and the paths of reference/asyncos.md section 3.
"""

from __future__ import annotations

from .app import gui_app

__all__ = ["gui_app"]
