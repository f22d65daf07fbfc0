"""The testbed the wrapper writes for the harness's ``lab`` backend (docs/testbed.md, docs/c100v.md).

One device, reached through the forwarded ports. The password appears in clear only when it is the
documented first-boot default (admin/ironport: public, and the file is 0600); a password of the user's
own is written as ``%ENV{NAME}``, the variable it came from. The cloud side cannot be known here: a
placeholder that validates once ``SSE_REGISTRATION_TOKEN`` is set, or the sections of ``--cloud-from``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PLACEHOLDER_TOKEN_ENV = "SSE_REGISTRATION_TOKEN"
CLOUD_SECTIONS = ("cloud", "network", "deadlines", "deviations")  # what --cloud-from copies

HEADER = """\
# Written by `python -m virtual_appliances.c100v` for the C100V {name!r} (docs/c100v.md); removed when
# the wrapper stops. {cloud_note}
"""
PLACEHOLDER_NOTE = (f"The cloud section is a placeholder: it validates once {PLACEHOLDER_TOKEN_ENV} is set;\n"
                    "# replace it with your tenant's (docs/testbed.md), or start the wrapper with --cloud-from FILE.")


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int


@dataclass(frozen=True)
class DeviceEntry:
    name: str
    hostname: str
    version: str
    username: str
    password_value: str  # what goes in the file: the default in clear, or %ENV{NAME}
    cli: Endpoint
    gui: Endpoint
    api: Endpoint
    smtp: Endpoint
    model: str = "C100V"
    host_keys: tuple[str, ...] = ()  # seen by the wrapper's own first login to the VM it booted


def password_field(password_env: str | None, default_password: str) -> str:
    return f"%ENV{{{password_env}}}" if password_env else default_password


def build_testbed(device: DeviceEntry, region: str = "nam", cloud_from: dict[str, Any] | None = None,
                     ) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "testbed": {"name": f"c100v-{device.name}"},
        "devices": {device.name: {
            "kind": "esa", "model": device.model, "version": device.version, "hostname": device.hostname,
            "credentials": {"default": {"username": device.username, "password": device.password_value}},
            "connections": {
                "cli": {"protocol": "ssh", "host": device.cli.host, "port": device.cli.port,
                        **({"host_keys": list(device.host_keys)} if device.host_keys else {})},
                "gui": {"protocol": "https", "host": device.gui.host, "port": device.gui.port},
                "api": {"protocol": "https", "host": device.api.host, "port": device.api.port},
                "smtp": {"protocol": "smtp", "host": device.smtp.host, "port": device.smtp.port},
            },
        }},
    }
    if cloud_from:
        doc.update({k: cloud_from[k] for k in CLOUD_SECTIONS if k in cloud_from})
    else:
        doc["cloud"] = {"region": region, "sse": {region: {"token": f"%ENV{{{PLACEHOLDER_TOKEN_ENV}}}"}}}
    return doc


def load_cloud_sections(path: Path) -> dict[str, Any]:
    """The cloud/network/deadlines/deviations sections of an existing testbed (--cloud-from)."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"--cloud-from {path}: {exc}") from None
    if not isinstance(data, dict) or "cloud" not in data:
        raise ValueError(f"--cloud-from {path}: no cloud section in it")
    return {k: data[k] for k in CLOUD_SECTIONS if k in data}


def render(doc: dict[str, Any], name: str, placeholder_cloud: bool) -> str:
    header = HEADER.format(name=name, cloud_note=PLACEHOLDER_NOTE if placeholder_cloud else "")
    return header + yaml.safe_dump(doc, sort_keys=False, width=120)


def write_atomically(path: Path, text: str) -> str:
    """Write ``text`` with mode 0600 through a temporary file and a rename; returns its sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return hashlib.sha256(text.encode()).hexdigest()


def remove_if_ours(path: Path, digest: str | None) -> None:
    """Remove the testbed at stop, unless someone replaced it meanwhile (then it is theirs)."""
    if digest is None:
        return
    with contextlib.suppress(OSError):
        if hashlib.sha256(path.read_bytes()).hexdigest() == digest:
            path.unlink()
