"""``ctrlab``: the command line (console script ``ctrlab = harness.cli:main``).

    ctrlab sim up [--appliances N] --testbed-out PATH [lab options]   the bundled lab, in the foreground
    ctrlab sim status|down|reset|fault ... --testbed PATH             a running lab (harness/sim_cli.py)
    ctrlab testbed validate FILE...                                   check testbed files
    ctrlab testbed schema                                             the testbed's JSON schema
    ctrlab c100v up --image QCOW2 --testbed-out PATH                  a real C100V under qemu in docker

Each command group is one ``add_<group>(subparsers)`` function listed in :data:`COMMANDS`; adding a
command means writing one such function. Errors are one line on stderr and exit status 1, never a
traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from .doctor.cli import add_parser as add_doctor
from .net.cli import add_parser as add_netcheck
from .sim_cli import add_commands as add_sim_commands
from .sim_cli import testbed_out_problem

LAB_MODULE = "virtual_appliances.lab"


# ---- ctrlab sim ... -----------------------------------------------------------------------------------
def _sim_up(args: argparse.Namespace) -> int:
    # exec, not a child process: the lab owns the terminal, Ctrl-C stops it, its exit status is ours.
    # The lab parses (and documents, with --help) its own options: --appliances, --testbed-out, ...
    argv = [sys.executable, "-m", LAB_MODULE, *args.lab_args]
    problem = testbed_out_problem(args.lab_args)
    if problem:  # one line now, rather than after the lab's imports (the lab checks it too)
        print(f"ctrlab sim up: {problem}", file=sys.stderr)
        return 2
    try:
        os.execv(sys.executable, argv)
    except OSError as exc:
        print(f"ctrlab sim up: cannot run {sys.executable}: {exc}", file=sys.stderr)
        return 1
    return 0  # pragma: no cover - execv does not return


def add_sim(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sim = subparsers.add_parser("sim", help="the bundled simulators", description="Start, inspect, reset, fault "
                                "and stop a lab of the bundled simulators (docs/simulators.md).")
    commands = sim.add_subparsers(dest="sim_command", required=True, metavar="COMMAND")
    # No options of its own (not even --help): everything goes to the lab, which documents its options.
    up = commands.add_parser("up", add_help=False, help="run the bundled lab in the foreground and write its testbed "
                             "(options: those of python -m virtual_appliances.lab, e.g. --appliances N --testbed-out "
                             "PATH; see ctrlab sim up --help)")
    up.set_defaults(func=_sim_up, passthrough=True)
    add_sim_commands(commands)


# ---- ctrlab testbed ... -------------------------------------------------------------------------------
def _testbed_validate(args: argparse.Namespace) -> int:
    from .testbed import TestbedError, load_testbed

    status = 0
    for path in args.files:
        try:
            testbed = load_testbed(path)
        except TestbedError as exc:
            print(exc, file=sys.stderr)
            status = 1
            continue
        count = len(testbed.devices)
        print(f"{path}: ok ({count} device{'s' if count != 1 else ''}, region {testbed.region})")
    return status


def _testbed_schema(args: argparse.Namespace) -> int:
    from .testbed import json_schema_text

    print(json_schema_text())
    return 0


def add_testbed(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    testbed = subparsers.add_parser("testbed", help="testbed files (docs/testbed.md)")
    commands = testbed.add_subparsers(dest="testbed_command", required=True, metavar="COMMAND")
    validate = commands.add_parser("validate", help="check testbed files, resolving %%ENV{NAME} from the environment")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.set_defaults(func=_testbed_validate)
    schema = commands.add_parser("schema", help="print the testbed's JSON schema")
    schema.set_defaults(func=_testbed_schema)


def _steps(args: argparse.Namespace) -> int:
    import json

    from .steps_catalog import format_steps, list_steps

    steps = list_steps()
    print(json.dumps([s.as_dict() for s in steps], indent=2) if args.json else format_steps(steps))
    return 0


def add_steps(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    steps = subparsers.add_parser("steps", help="list the step vocabulary the features can use, with parameters")
    steps.add_argument("--json", action="store_true", help="machine-readable output")
    steps.set_defaults(func=_steps)


# ---- ctrlab c100v ... ---------------------------------------------------------------------------------
def _c100v_up(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .backends.c100v import C100vOptions, up

    extra = [a for i, a in enumerate(args.wrapper_args) if not (i == 0 and a == "--")]
    for flag, value in (("--memory", args.memory), ("--smp", args.smp), ("--accel", args.accel)):
        if value is not None:
            extra += [flag, str(value)]
    return up(C100vOptions(image=Path(args.image), testbed_out=Path(args.testbed_out), name=args.name,
                           hostname=args.hostname, password_env=args.password_env,
                           cloud_from=Path(args.cloud_from) if args.cloud_from else None,
                           dialogs=Path(args.dialogs) if args.dialogs else None,
                           boot_timeout=args.boot_timeout, extra_args=extra))


def add_c100v(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    c100v = subparsers.add_parser("c100v", help="a real C100V qcow2 under qemu in docker (docs/c100v.md)")
    commands = c100v.add_subparsers(dest="c100v_command", required=True, metavar="COMMAND")
    up = commands.add_parser("up", help="boot and bootstrap it, write its testbed, stay in the foreground",
                             epilog="Options after -- go to the wrapper (python -m virtual_appliances.c100v --help), "
                                    "e.g. -- --ssh-port 2222 --https-port 8443")
    up.add_argument("--image", required=True, help="the C100V qcow2 (mounted read-only; the VM writes an overlay)")
    up.add_argument("--testbed-out", required=True, metavar="PATH", help="where to write the testbed (mode 0600)")
    up.add_argument("--name", default="esa1", help="device name in the testbed (default esa1)")
    up.add_argument("--hostname", help="the appliance's host name (default <name>.lab.example)")
    up.add_argument("--password-env", metavar="NAME", help="variable holding the admin password (default: the "
                    "first-boot password; the testbed then names %%ENV{NAME})")
    up.add_argument("--cloud-from", metavar="TESTBED", help="copy cloud/network/deadlines from this testbed")
    up.add_argument("--dialogs", metavar="YAML", help="day-0 dialog table for your AsyncOS release (start from "
                    "python -m virtual_appliances.c100v --print-dialogs)")
    up.add_argument("--boot-timeout", type=float, default=1800.0, metavar="S",
                    help="container start -> CLI answering over SSH (default 1800)")
    up.add_argument("--memory", type=int, metavar="MB", help="guest RAM (the wrapper's default otherwise)")
    up.add_argument("--smp", type=int, metavar="N", help="vCPUs")
    up.add_argument("--accel", choices=("auto", "kvm", "tcg"), help="qemu accelerator (default auto)")
    up.add_argument("wrapper_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    up.set_defaults(func=_c100v_up)


# ---- the parser ---------------------------------------------------------------------------------------
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [  # type: ignore[type-arg]
    add_sim, add_testbed, add_steps, add_netcheck, add_doctor, add_c100v,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ctrlab", description="ctrlab: conformance and hardware-in-the-loop "
                                     "harness for ESA/SMA integration with Cisco Threat Response via SSE")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    if getattr(args, "passthrough", False):
        args.lab_args = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
