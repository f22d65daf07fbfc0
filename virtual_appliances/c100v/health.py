"""Readiness: the vrnetlab health file, and the check behind "0 running" (the CLI answers over SSH)."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import asyncssh

MODEL = re.compile(r"^Model:\s*(?P<value>\S.*?)\s*$", re.MULTILINE)
VERSION = re.compile(r"^Version:\s*(?P<value>\S.*?)\s*$", re.MULTILINE)


class HealthFile:
    """``<status> <message>`` in one line, 0 = healthy (vrnetlab's /health); replaced atomically so a
    health check never reads half a line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.current = ""

    def set(self, status: int, message: str) -> None:
        line = f"{status} {message.splitlines()[0] if message else ''}".rstrip()
        if line == self.current:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".health.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(line + "\n")
            os.chmod(tmp, 0o644)  # the health check may run as another user (docker exec)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self.current = line


@dataclass(frozen=True)
class CliReport:
    model: str
    version: str | None
    host_key: str | None = None  # the guest's SSH host key, "<type> <base64>": the testbed records it


class ProbeFailed(Exception):
    pass


async def probe_cli(host: str, port: int, username: str, password: str, timeout: float = 20.0) -> CliReport:
    """Log in over SSH and run ``version`` as an exec request; the answer must show ``Model:``."""
    try:
        async with asyncssh.connect(host, port, username=username, password=password, known_hosts=None,
                                    client_keys=None, agent_path=None, config=None,
                                    preferred_auth="password,keyboard-interactive",
                                    connect_timeout=timeout, login_timeout=timeout) as conn:
            result = await conn.run("version", timeout=timeout, check=False)
            key = conn.get_server_host_key()
    except asyncssh.PermissionDenied:
        raise ProbeFailed(f"SSH {host}:{port}: the appliance refused the login as {username!r}") from None
    except (OSError, asyncssh.Error, TimeoutError) as exc:
        raise ProbeFailed(f"SSH {host}:{port}: {type(exc).__name__}: {exc}".rstrip(": ")) from None
    output = str(result.stdout or "")
    if model := MODEL.search(output):
        version = VERSION.search(output)
        line = " ".join(key.export_public_key("openssh").decode().split()[:2]) if key is not None else None
        return CliReport(model.group("value"), version.group("value") if version else None, line)
    raise ProbeFailed(f"SSH {host}:{port}: 'version' shows no Model: line (exit {result.exit_status}): "
                      f"{output.strip()[:200]!r}")
