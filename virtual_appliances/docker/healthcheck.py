"""Docker HEALTHCHECK of the simulator container: exit 0 when the lab's control plane says ``ok``.

The control plane's port is chosen at start, so it is read from the testbed the lab writes
(``$CTRLAB_TESTBED``); no testbed yet means "starting". Standard library only (runs with the image's
venv python, but must not depend on what the project installs); every request has a timeout.
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.request
from pathlib import Path

TIMEOUT_S = 3.0


def control_url(testbed: Path) -> str | None:
    # Only ``control_url: http://...`` is needed: a regex keeps this free of a YAML dependency.
    match = re.search(r"^\s*control_url:\s*['\"]?(http://[^\s'\"]+)", testbed.read_text(), re.MULTILINE)
    return match.group(1) if match else None


def main() -> int:
    testbed = Path(os.environ.get("CTRLAB_TESTBED", "/lab/testbed.yaml"))
    if not testbed.exists():
        print(f"starting: no testbed at {testbed} yet")
        return 1
    url = control_url(testbed)
    if url is None:
        print(f"unhealthy: {testbed} names no simulator control_url")
        return 1
    # No proxy between the health check and a loopback control plane.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/_sim/health", timeout=TIMEOUT_S) as response:
            body = json.loads(response.read() or b"null")
    except (OSError, ValueError) as exc:
        print(f"unhealthy: {url}/_sim/health: {exc}")
        return 1
    ok = isinstance(body, dict) and body.get("status") == "ok"
    print(f"{'healthy' if ok else 'unhealthy'}: {body}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
