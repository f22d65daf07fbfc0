"""Whether this machine can run ctrlab's docker images (tests skip with the reason when not)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from harness.backends import BackendError
from harness.backends.docker import base_tag, connect


def docker_unusable(root: Path) -> str | None:
    """Why the docker tests cannot run here (no daemon, no base image and no way to build it), or None."""
    try:
        client = connect(timeout=5)
    except BackendError as exc:
        return str(exc).splitlines()[0]
    try:
        client.images.get(base_tag(root))
    except Exception:
        if os.geteuid() != 0 or shutil.which("debootstrap") is None:
            return f"{base_tag(root)} is not built and this run cannot build it (needs root and debootstrap)"
    finally:
        client.close()
    return None
