"""Docker HEALTHCHECK of the C100V container: exit with the first field of the health file.

vrnetlab's contract: the wrapper writes ``<status> <message>`` (``0 running``, ``1 bootstrapping``...)
to ``$C100V_HEALTH_FILE`` (default ``/health``). Standard library only; no file yet means starting.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> int:
    path = Path(os.environ.get("C100V_HEALTH_FILE", "/health"))
    try:
        line = path.read_text().strip()
    except OSError:
        print(f"starting: no health file at {path} yet")
        return 1
    status = line.split(" ", 1)[0]
    print(line)
    try:
        return 0 if int(status) == 0 else 1
    except ValueError:
        print(f"unhealthy: {path} holds no status: {line!r}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
