"""Everything one wrapper run needs, from the command line and the vrnetlab-style environment knobs.

Precedence: a command-line option, then the environment variable, then the default. Environment knobs
(as vrnetlab's): QEMU_MEMORY (MB), QEMU_SMP, QEMU_CPU, QEMU_ACCEL (auto|kvm|tcg),
QEMU_ADDITIONAL_ARGS (shell words appended to qemu's command line); and the wrapper's own:
C100V_HEALTH_FILE, C100V_RESET_FILE, C100V_SILENCE_TIMEOUT, C100V_WAKE_INTERVAL, C100V_MAX_RESTARTS,
C100V_HEALTH_INTERVAL, C100V_BOOT_TIMEOUT.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .dialogs import DialogTable

DEFAULT_USERNAME = "admin"
DEFAULT_PASSWORD = "ironport"  # the C100V's documented first-boot credentials (reference/asyncos.md 1.1)
GUEST_PORTS = {"cli": 22, "gui": 443, "api": 6443, "smtp": 25}
# Cisco's sizing for a C100V is not verified here (see docs/c100v.md); these are starting points.
DEFAULT_MEMORY_MB = 8192
DEFAULT_SMP = 2


def env_number(name: str, default: float, environ: dict[str, str] | None = None) -> float:
    value = (environ if environ is not None else os.environ).get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"environment variable {name}={value!r} is not a number") from None


@dataclass
class Settings:
    image: Path
    name: str
    testbed_out: Path
    hostname: str
    work_dir: Path
    health_file: Path
    reset_file: Path
    username: str = DEFAULT_USERNAME
    password_env: str | None = None  # None: the first-boot default password
    listen: str = "127.0.0.1"
    host_ports: dict[str, int] = field(default_factory=dict)  # cli/gui/api/smtp -> host port (0: pick)
    memory_mb: int = DEFAULT_MEMORY_MB
    smp: int = DEFAULT_SMP
    cpu: str | None = None
    accel: str = "auto"
    extra_qemu_args: list[str] = field(default_factory=list)
    boot_timeout: float = 1800.0
    version: str | None = None  # None: what the appliance's `version` says
    keep_overlay: bool = False
    silence_timeout: float = 300.0
    wake_interval: float = 10.0
    max_restarts: int = 2
    health_interval: float = 30.0
    region: str = "nam"
    cloud_from: Path | None = None
    dialogs: DialogTable = field(default_factory=DialogTable)

    @property
    def overlay(self) -> Path:
        return self.work_dir / f"{self.name}-overlay.qcow2"

    @property
    def console_log(self) -> Path:
        return self.work_dir / "console.log"

    @property
    def testbed_host(self) -> str:
        # 0.0.0.0 is where qemu listens, not an address to connect to.
        return "127.0.0.1" if self.listen in ("0.0.0.0", "") else self.listen
