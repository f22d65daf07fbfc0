"""``python -m virtual_appliances.c100v``: command-line options -> :class:`Settings` -> the wrapper."""

from __future__ import annotations

import argparse
import logging
import os
import re
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from .dialogs import DialogTable, table_from_yaml, table_to_yaml
from .settings import (
    DEFAULT_MEMORY_MB,
    DEFAULT_PASSWORD,
    DEFAULT_SMP,
    DEFAULT_USERNAME,
    Settings,
    env_number,
)

USAGE_EXAMPLE = """\
example:
  python -m virtual_appliances.c100v --image ~/images/c100v-13.0.0-392.qcow2 --name esa1 \\
      --testbed-out /tmp/esa1/testbed.yaml --hostname esa1.lab.example
  pytest --testbed /tmp/esa1/testbed.yaml     # after merging your cloud section (docs/c100v.md)
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m virtual_appliances.c100v", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Boot a Cisco C100V qcow2 under qemu, bootstrap it over the serial console, keep it running "
                    "and write a testbed for the harness (docs/c100v.md).", epilog=USAGE_EXAMPLE)
    p.add_argument("--image", type=Path, help="the C100V qcow2 (only read: the VM writes to an overlay)")
    p.add_argument("--name", default="esa1", help="device name in the testbed (default: esa1)")
    p.add_argument("--testbed-out", type=Path, help="where to write the testbed (mode 0600)")
    p.add_argument("--hostname", help="appliance hostname (default: <name>.lab.example)")
    p.add_argument("--username", default=DEFAULT_USERNAME, help="console/SSH user (default: admin)")
    p.add_argument("--password-env", metavar="NAME",
                   help="environment variable holding the login password (default: the first-boot password "
                        "ironport; the testbed then names %%ENV{NAME} instead of a clear password)")
    p.add_argument("--listen", default="127.0.0.1", help="host address of the port forwards (default: 127.0.0.1)")
    for name, what in (("ssh", "SSH CLI"), ("https", "HTTPS GUI"), ("api", "AsyncOS API"), ("smtp", "SMTP")):
        p.add_argument(f"--{name}-port", type=int, default=0, metavar="N",
                       help=f"host port forwarded to the guest's {what} (default: a free port)")
    p.add_argument("--memory", type=int, metavar="MB", help=f"guest RAM (env QEMU_MEMORY, default {DEFAULT_MEMORY_MB})")
    p.add_argument("--smp", type=int, metavar="N", help=f"vCPUs (env QEMU_SMP, default {DEFAULT_SMP})")
    p.add_argument("--accel", choices=("auto", "kvm", "tcg"), help="env QEMU_ACCEL; auto = kvm when /dev/kvm is usable")
    p.add_argument("--work-dir", type=Path, help="overlay, sockets, console.log (default /tmp/ctrlab-c100v-<name>)")
    p.add_argument("--health-file", type=Path,
                   help="env C100V_HEALTH_FILE (the image sets /health); default <work-dir>/health")
    p.add_argument("--reset-file", type=Path,
                   help="touch it to reset + re-bootstrap the VM (env C100V_RESET_FILE, the image sets /reset; "
                        "default <work-dir>/reset)")
    p.add_argument("--boot-timeout", type=float, metavar="S",
                   help="start -> CLI answering over SSH (env C100V_BOOT_TIMEOUT, default 1800)")
    p.add_argument("--version", dest="appliance_version", metavar="X.Y.Z-NNN",
                   help="the AsyncOS version for the testbed (default: what the appliance's `version` reports)")
    p.add_argument("--keep-overlay", action="store_true", help="keep the overlay at exit (post-mortem)")
    p.add_argument("--region", default="nam", choices=("nam", "eu", "apjc"), help="placeholder cloud region")
    p.add_argument("--cloud-from", type=Path, metavar="TESTBED",
                   help="copy cloud/network/deadlines/deviations from this testbed into the one written")
    p.add_argument("--dialogs", type=Path, metavar="YAML", help="day-0 dialog table (start from --print-dialogs)")
    p.add_argument("--print-dialogs", action="store_true", help="print the built-in dialog table as YAML and exit")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def settings_from_args(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    missing = [flag for flag, value in (("--image", args.image), ("--testbed-out", args.testbed_out)) if not value]
    if missing:
        raise ValueError(f"missing {' and '.join(missing)}")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", args.name):
        raise ValueError(f"--name {args.name!r}: letters, digits, '_', '.', '-', starting with a letter")
    if args.password_env and not env.get(args.password_env):
        raise ValueError(f"--password-env {args.password_env}: that environment variable is not set or empty")
    work_dir = (args.work_dir or Path(f"/tmp/ctrlab-c100v-{args.name}")).expanduser().resolve()
    # The Dockerfile sets C100V_HEALTH_FILE=/health and C100V_RESET_FILE=/reset (vrnetlab's paths);
    # guessing "in a container" would be wrong in a dev container, where /health is nobody's.
    default_health, default_reset = work_dir / "health", work_dir / "reset"
    dialogs = DialogTable()
    if args.dialogs:
        dialogs = table_from_yaml(args.dialogs.read_text(), str(args.dialogs))
    ports = {"cli": args.ssh_port, "gui": args.https_port, "api": args.api_port, "smtp": args.smtp_port}
    for name, port in ports.items():
        if not 0 <= port <= 65535:
            raise ValueError(f"{name} port {port}: must be 1-65535 (or 0: a free port)")
    return Settings(
        image=args.image, name=args.name, testbed_out=args.testbed_out.expanduser().resolve(),
        hostname=args.hostname or f"{args.name}.lab.example", work_dir=work_dir,
        health_file=(args.health_file or Path(env.get("C100V_HEALTH_FILE") or default_health)).expanduser(),
        reset_file=(args.reset_file or Path(env.get("C100V_RESET_FILE") or default_reset)).expanduser(),
        username=args.username, password_env=args.password_env, listen=args.listen, host_ports=ports,
        memory_mb=args.memory or int(env_number("QEMU_MEMORY", DEFAULT_MEMORY_MB, env)),
        smp=args.smp or int(env_number("QEMU_SMP", DEFAULT_SMP, env)),
        cpu=env.get("QEMU_CPU") or None, accel=args.accel or env.get("QEMU_ACCEL") or "auto",
        extra_qemu_args=shlex.split(env.get("QEMU_ADDITIONAL_ARGS", "")),
        boot_timeout=args.boot_timeout or env_number("C100V_BOOT_TIMEOUT", 1800.0, env),
        version=args.appliance_version, keep_overlay=args.keep_overlay,
        silence_timeout=env_number("C100V_SILENCE_TIMEOUT", 300.0, env),
        wake_interval=env_number("C100V_WAKE_INTERVAL", 10.0, env),
        max_restarts=int(env_number("C100V_MAX_RESTARTS", 2, env)),
        health_interval=env_number("C100V_HEALTH_INTERVAL", 30.0, env),
        region=args.region, cloud_from=args.cloud_from, dialogs=dialogs,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.print_dialogs:
        sys.stdout.write(table_to_yaml(DialogTable()))
        return 0
    try:
        settings = settings_from_args(args)
    except (ValueError, OSError) as exc:
        print(f"c100v: {exc}", file=sys.stderr)
        return 2
    password = os.environ[settings.password_env] if settings.password_env else DEFAULT_PASSWORD
    from .wrapper import run_wrapper

    return run_wrapper(settings, password, debug=args.verbose)


if __name__ == "__main__":
    logging.basicConfig()
    sys.exit(main())
