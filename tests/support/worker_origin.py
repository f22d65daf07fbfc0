"""A test plugin (``-p tests.support.worker_origin``): each xdist worker writes which process started it.

``CTRLAB_WORKER_ORIGIN`` names a folder; every worker writes ``<worker>.json`` there with its parent's pid and
the fork server's (from ``CTRLAB_FORK_SERVER``), so a test sees whether the workers were forks of the server.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    worker, folder = os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("CTRLAB_WORKER_ORIGIN")
    if not (worker and folder):
        return
    server = os.environ.get("CTRLAB_FORK_SERVER", "").split(":")
    origin = {"parent": os.getppid(), "fork_server": int(server[1]) if len(server) == 3 else None}
    (Path(folder) / f"{worker}.json").write_text(json.dumps(origin))
