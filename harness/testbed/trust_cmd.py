"""``ctrlab testbed trust PATH [--device NAME] [--yes]``: record the appliances' SSH host keys.

For each device with an SSH CLI connection it fetches the host key the appliance presents (no login,
nothing sent but the SSH handshake), shows its type and SHA256 fingerprint, asks for confirmation on a
terminal (without one, ``--yes`` is required), and records the key:

* in the testbed's ``known_hosts`` file when the testbed names one (lines of other hosts are kept);
* otherwise in ``devices.<name>.connections.cli.host_keys`` of the testbed file itself. The file is
  rewritten from its parsed YAML, so its values (``%ENV{NAME}`` markup included) and key order are
  kept, but comments, blank lines and the original quoting/flow style are not.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import yaml

from ..trust import fingerprint, host_trust
from .errors import TestbedError
from .loader import _parse_yaml, load_testbed

FETCH_TIMEOUT_S = 10.0


def fetch_host_key(host: str, port: int, timeout: float = FETCH_TIMEOUT_S) -> str:
    """The host key the SSH server at host:port presents, as an OpenSSH public key line."""
    import asyncssh

    async def fetch() -> Any:
        return await asyncio.wait_for(asyncssh.get_server_host_key(host, port, config=None),
                                      timeout + 1.0)

    key = asyncio.run(fetch())
    if key is None:
        raise ConnectionError("the server presented no host key")
    line: str = key.export_public_key("openssh").decode().strip()
    return " ".join(line.split()[:2])


def _known_hosts_pattern(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


def _write_atomically(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, mode)
    tmp.replace(path)


def record_in_known_hosts(path: Path, host: str, port: int, key: str) -> None:
    pattern = _known_hosts_pattern(host, port)
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    kept = [line for line in lines if line.split(" ", 1)[0] != pattern]  # the old key of this endpoint goes
    _write_atomically(path, "\n".join([*kept, f"{pattern} {key}"]) + "\n")


def record_in_testbed(path: Path, device: str, key: str) -> None:
    data = _parse_yaml(path.read_text(encoding="utf-8"), str(path))
    cli = data["devices"][device]["connections"]["cli"]
    cli["host_keys"] = [key]
    _write_atomically(path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=4096))


def _ensure_known_hosts_file(path: Path) -> None:
    """A testbed naming a known_hosts file that does not exist yet: create it empty, for trust to fill."""
    try:
        raw = _parse_yaml(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError):
        return  # load_testbed reports it in its words
    info = raw.get("testbed") if isinstance(raw, dict) else None
    name = info.get("known_hosts") if isinstance(info, dict) else None
    if isinstance(name, str) and "%ENV{" not in name:
        target = Path(name).expanduser()
        target = target if target.is_absolute() else path.resolve().parent / target
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch(mode=0o600)


def trust(path: str, device: str | None = None, yes: bool = False, stdin: TextIO | None = None,
          out: TextIO | None = None, fetch: Callable[[str, int], str] = fetch_host_key) -> int:
    """The command; 0 when every asked device's key is recorded (or already was), 1 otherwise."""
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    file = Path(path)
    try:
        _ensure_known_hosts_file(file)
        testbed = load_testbed(file)
    except TestbedError as exc:
        print(exc, file=sys.stderr)
        return 1
    names = [device] if device else [n for n, d in testbed.devices.items() if d.connections.cli is not None]
    if device and device not in testbed.devices:
        print(f"{path}: devices: no device named {device!r} (the testbed has: {', '.join(testbed.devices)})",
              file=sys.stderr)
        return 1
    interactive = stdin.isatty()
    if not yes and not interactive:
        print("ctrlab testbed trust: stdin is not a terminal, so nobody can confirm the fingerprints: check them "
              "out of band and run again with --yes", file=sys.stderr)
        return 1
    status = 0
    for name in names:
        known = host_trust(testbed, name)
        if known is None:
            print(f"{name}: no connections.cli in the testbed: nothing to trust", file=sys.stderr)
            status = 1
            continue
        try:
            key = fetch(known.host, known.port)
        except Exception as exc:  # whatever went wrong (refused, timeout, not SSH): one line per device
            print(f"{name}: cannot fetch the SSH host key from {known.endpoint}: {type(exc).__name__}: {exc}",
                  file=sys.stderr)
            status = 1
            continue
        kind, seen = key.split()[0], fingerprint(key)
        if key in known.keys:
            print(f"{name} {known.endpoint}: {kind} {seen} (already recorded)", file=out)
            continue
        replaces = f"; replaces {', '.join(known.fingerprints)}" if known.keys else ""
        print(f"{name} {known.endpoint}: {kind} {seen}{replaces}", file=out)
        if not yes:
            out.write(f"record this key for {name}? [y/N] ")
            out.flush()
            if stdin.readline().strip().lower() not in ("y", "yes"):
                print(f"{name}: not recorded", file=out)
                status = 1
                continue
        if testbed.testbed.known_hosts:
            record_in_known_hosts(Path(testbed.testbed.known_hosts), known.host, known.port, key)
            where = testbed.testbed.known_hosts
        else:
            record_in_testbed(file, name, key)
            where = f"{path} (devices.{name}.connections.cli.host_keys)"
        print(f"{name}: recorded in {where}", file=out)
    return status
