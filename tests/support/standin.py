"""The stand-in C100V image (virtual_appliances/c100v/standin/), built once and cached across runs.

``$CTRLAB_CACHE/c100v/standin.qcow2`` (default ``~/.cache/ctrlab``); ``build.sh`` rebuilds only when its
inputs changed. Building needs root, apt-get and dpkg-deb (it unpacks Debian packages).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "virtual_appliances" / "c100v" / "standin" / "build.sh"
BUILD_TIMEOUT_S = 1200


def cache_dir() -> Path:
    return Path(os.environ.get("CTRLAB_CACHE", Path.home() / ".cache" / "ctrlab")) / "c100v"


def unbuildable() -> str | None:
    """Why this machine cannot build the stand-in, or None."""
    if os.geteuid() != 0:
        return "the stand-in build needs root (apt-get, initramfs ownership)"
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        return "the stand-in is built from Debian packages: needs apt-get and dpkg-deb"
    return None


def build_standin() -> Path:
    """The stand-in's qcow2 (built if missing or stale); AssertionError with the build's output if it fails."""
    out = cache_dir() / "standin.qcow2"
    out.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["bash", str(BUILD), str(out)], capture_output=True, text=True, timeout=BUILD_TIMEOUT_S,
                          check=False)
    assert done.returncode == 0, f"standin/build.sh failed ({done.returncode}):\n{done.stderr[-3000:]}"
    assert done.stdout.strip().splitlines()[-1] == str(out), done.stdout
    return out


def file_sha256(path: Path) -> str:
    """The image's digest, read in chunks (proves the base qcow2 was never written)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
