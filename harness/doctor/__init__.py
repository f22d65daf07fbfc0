"""``ctrlab doctor``: a read-only diagnosis of a lab along the documents' troubleshooting (docs/doctor.md).

    from harness.doctor import diagnose
    rows = diagnose(testbed, progress=print)      # one Row per appliance and check, each with its remedy
    exit_code = 0 if all(r.ok for r in rows) else 1

It only reads: CLI ``version``, GUI pages, REST message tracking, SSE and Threat Response GETs and an
observe. It never commits, registers, generates a token or toggles a service.
"""

from .result import Row, Status
from .runner import diagnose

__all__ = ["Row", "Status", "diagnose"]
