"""Which SSH host keys the harness accepts for each appliance (issue 15 item 1).

The keys come from the testbed: per device (``connections.cli.host_keys``, OpenSSH public key lines) and
from the testbed-level ``known_hosts`` file (OpenSSH format, ``[host]:port`` entries included). A device
with neither is refused before anything is sent (``HostKeyUnknown``); a device offering another key is
refused with both fingerprints (``HostKeyMismatch``). There is no "don't check" switch: simulator labs
write their keys into the testbed they produce, like ``ctrlab testbed trust`` does for real gear.

Drivers built without an explicit :class:`HostTrust` look theirs up by ``(host, port)`` in the registry
that :func:`register` fills when a lab is provisioned (``harness.provisioned_lab.Lab``).
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .testbed import Testbed


@dataclass(frozen=True)
class HostTrust:
    """The host keys one appliance's SSH endpoint may present."""

    device: str
    host: str
    port: int
    keys: tuple[str, ...]  # OpenSSH public key lines "<type> <base64>"
    testbed: str = "PATH"  # the testbed file, for the "run ctrlab testbed trust ..." hint

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def fingerprints(self) -> list[str]:
        return [fingerprint(k) for k in self.keys]


def fingerprint(key_line: str) -> str:
    """``SHA256:<base64, unpadded>`` as ``ssh-keygen -l`` prints it."""
    blob = base64.b64decode(key_line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def known_hosts_keys(path: str | Path, host: str, port: int) -> list[str]:
    """The keys a known_hosts file gives for ``host`` on ``port`` (plain and hashed entries, via asyncssh)."""
    import asyncssh

    known = asyncssh.read_known_hosts(str(path))
    trusted = known.match(host, "", port)[0]
    return [k.export_public_key("openssh").decode().strip() for k in trusted]


def host_trust(testbed: Testbed, device_name: str) -> HostTrust | None:
    """What the testbed trusts for the device's SSH CLI, or None when it has no CLI connection."""
    device = testbed.devices[device_name]
    cli = device.connections.cli
    if cli is None:
        return None
    keys = list(cli.host_keys)
    if testbed.testbed.known_hosts:
        keys += known_hosts_keys(testbed.testbed.known_hosts, cli.host, cli.port)
    return HostTrust(device_name, cli.host, cli.port, tuple(dict.fromkeys(_canonical(k) for k in keys)),
                     testbed.source)


def _canonical(line: str) -> str:
    parts = line.split()
    return f"{parts[0]} {parts[1]}"


# ---- the registry drivers consult when built without an explicit trust ------------------------------
_REGISTRY: dict[tuple[str, int], HostTrust] = {}
_LOCK = threading.Lock()


def register(testbed: Testbed) -> None:
    """Make the testbed's host keys the ones drivers check for its devices' endpoints."""
    found = [t for t in (host_trust(testbed, name) for name in testbed.devices) if t is not None]
    with _LOCK:
        for trust in found:
            _REGISTRY[(trust.host, trust.port)] = trust


def lookup(host: str, port: int) -> HostTrust | None:
    with _LOCK:
        return _REGISTRY.get((host, port))


def forget(entries: Iterable[tuple[str, int]] | None = None) -> None:
    """Drop registered endpoints (all of them without arguments): for tests and long-lived processes."""
    with _LOCK:
        if entries is None:
            _REGISTRY.clear()
        for entry in entries or ():
            _REGISTRY.pop(entry, None)
