"""The user's qcow2 and the per-run overlay that keeps it untouched (vrnetlab's overlay idea)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

QEMU_IMG_TIMEOUT_S = 60.0


class ImageError(Exception):
    """The image cannot be used; the message says why in the user's terms."""


def _qemu_img(*args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["qemu-img", *args], capture_output=True, text=True, timeout=QEMU_IMG_TIMEOUT_S,
                              check=False)
    except FileNotFoundError:
        raise ImageError("qemu-img is not installed (Debian: apt-get install qemu-utils)") from None
    except subprocess.TimeoutExpired:
        raise ImageError(f"qemu-img {args[0]} did not finish within {QEMU_IMG_TIMEOUT_S:g} s") from None


def image_info(path: Path) -> dict[str, Any]:
    """``qemu-img info`` of an image; ``-U`` because other overlays of a shared base may have it open."""
    result = _qemu_img("info", "-U", "--output", "json", str(path))
    if result.returncode != 0:
        raise ImageError(f"{path}: qemu-img cannot read it: {result.stderr.strip() or result.stdout.strip()}")
    try:
        info: dict[str, Any] = json.loads(result.stdout)
    except ValueError:
        raise ImageError(f"{path}: qemu-img info gave no JSON") from None
    return info


def check_base_image(path: Path) -> Path:
    """The absolute path of a readable qcow2, or ImageError saying what is wrong with it."""
    path = path.expanduser()
    if not path.exists():
        raise ImageError(f"{path}: no such file (pass the C100V qcow2 you downloaded from Cisco with --image)")
    if not path.is_file():
        raise ImageError(f"{path}: not a regular file")
    if not os.access(path, os.R_OK):
        raise ImageError(f"{path}: not readable by this user")
    fmt = image_info(path).get("format")
    if fmt != "qcow2":
        raise ImageError(f"{path}: format is {fmt!r}, not qcow2 (convert it: qemu-img convert -O qcow2 IN OUT)")
    return path.resolve()


def create_overlay(base: Path, overlay: Path) -> None:
    """A fresh qcow2 overlay on ``base``: the VM writes here, the base is only ever read."""
    overlay.parent.mkdir(parents=True, exist_ok=True)
    if overlay.exists():
        overlay.unlink()  # an overlay from an earlier run holds that run's state: start clean
    result = _qemu_img("create", "-q", "-f", "qcow2", "-b", str(base.resolve()), "-F", "qcow2", str(overlay))
    if result.returncode != 0:
        raise ImageError(f"cannot create the overlay {overlay}: {result.stderr.strip()}")


def backing_file(overlay: Path) -> str | None:
    value = image_info(overlay).get("full-backing-filename") or image_info(overlay).get("backing-filename")
    return str(value) if value else None
