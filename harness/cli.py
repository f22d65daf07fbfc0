"""``ctrlab``: the command line (console script ``ctrlab = harness.cli:main``).

    ctrlab sim up [--appliances N] --testbed-out PATH [lab options]   the bundled lab, in the foreground
    ctrlab sim status|down|reset|fault ... --testbed PATH             a running lab (harness/sim_cli.py)
    ctrlab testbed validate FILE...                                   check testbed files
    ctrlab testbed schema                                             the testbed's JSON schema
    ctrlab testbed trust PATH [--device NAME] [--yes]                 record the appliances' SSH host keys
    ctrlab c100v up --image QCOW2 --testbed-out PATH                  a real C100V under qemu in docker
    ctrlab steps | netcheck | doctor | --version

Each command group is one ``add_<group>(subparsers)`` function listed in :data:`COMMANDS`; adding a
command means writing one such function. Every parser is a :class:`CtrlabParser`: a command's ``help=`` is
also its ``--help`` description, and defaults are shown, without each command repeating them. Errors
are one line on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .doctor.cli import add_parser as add_doctor
from .net.cli import add_parser as add_netcheck
from .sim_cli import add_commands as add_sim_commands
from .sim_cli import testbed_out_problem

LAB_MODULE = "virtual_appliances.lab"


class _Commands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Sub-commands whose one-line ``help`` is also the description their own ``--help`` shows."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        if kwargs.get("help") and "description" not in kwargs:
            kwargs["description"] = kwargs["help"].replace("%%", "%")  # help is %-formatted, a description not
        return super().add_parser(name, **kwargs)  # type: ignore[no-any-return]


class DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: X)`` where there is one to show: not for required options, off flags, options
    without a default, or help that already words its default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.required or action.default in (None, False) or "default" in text:
            return text
        return str(super()._get_help_string(action))


class CtrlabParser(argparse.ArgumentParser):
    """ctrlab's parsers, sub-commands included (argparse makes them of the parent's class): defaults shown."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", DefaultsFormatter)
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", _Commands)


def package_version() -> str:
    """The installed distribution's version (pyproject.toml's ``version``)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ctrlab")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


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
    from .testbed import TestbedError, check_testbed, every_field, no_field

    status = 0
    for path in args.files:
        try:
            # Never asks: %ASK{} is answered by the command that uses the field, not by a check of the file.
            testbed, subst = check_testbed(path, needed=no_field if args.allow_unset else every_field, ask=None)
        except TestbedError as exc:
            print(exc, file=sys.stderr)
            status = 1
            continue
        count = len(testbed.devices)
        print(f"{path}: ok ({count} device{'s' if count != 1 else ''}, region {testbed.region})")
        for field, name in subst.unset.items():
            print(f"{path}: warning: {field}: environment variable {name} is not set (allowed by --allow-unset; "
                  "a command that uses this field refuses the file)", file=sys.stderr)
        for field, prompt in subst.deferred.items():
            print(f"{path}: {field}: asked when a command uses it ({prompt!r}, on the terminal)")
    return status


def _testbed_schema(args: argparse.Namespace) -> int:
    from .testbed import json_schema_text

    print(json_schema_text())
    return 0


def _testbed_trust(args: argparse.Namespace) -> int:
    from .testbed.trust_cmd import trust

    return trust(args.path, args.device, args.yes)


def add_testbed(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    testbed = subparsers.add_parser("testbed", help="check testbed files and print their JSON schema "
                                    "(docs/testbed.md)")
    commands = testbed.add_subparsers(dest="testbed_command", required=True, metavar="COMMAND")
    validate = commands.add_parser("validate", help="check testbed files, resolving %%ENV{NAME} from the environment "
                                   "(an unset variable is an error: pytest and doctor use every field)")
    validate.add_argument("files", nargs="+", metavar="FILE", help="testbed YAML files")
    validate.add_argument("--allow-unset", action="store_true", help="unset %%ENV variables are warnings, not errors "
                          "(checking files on a machine without the lab's secrets; netcheck needs none of the "
                          "devices' and cloud's)")
    validate.set_defaults(func=_testbed_validate)
    schema = commands.add_parser("schema", help="print the testbed's JSON schema")
    schema.set_defaults(func=_testbed_schema)
    trust = commands.add_parser("trust", help="fetch each appliance's SSH host key, show its fingerprint and record "
                                "it in the testbed (or its known_hosts file) once confirmed")
    trust.add_argument("path", metavar="PATH")
    trust.add_argument("--device", metavar="NAME", help="only this device")
    trust.add_argument("--yes", action="store_true", help="record without asking (required when stdin is not a "
                       "terminal): check the fingerprints out of band first")
    trust.set_defaults(func=_testbed_trust)


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

    from .c100v_cli import C100vOptions, up

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
    up.add_argument("--name", default="esa1", help="device name in the testbed")
    up.add_argument("--hostname", help="the appliance's host name (default <name>.lab.example)")
    up.add_argument("--password-env", metavar="NAME", help="variable holding the admin password (default: the "
                    "first-boot password; the testbed then names %%ENV{NAME})")
    up.add_argument("--cloud-from", metavar="TESTBED", help="copy cloud/network/deadlines from this testbed")
    up.add_argument("--dialogs", metavar="YAML", help="day-0 dialog table for your AsyncOS release (start from "
                    "python -m virtual_appliances.c100v --print-dialogs)")
    up.add_argument("--boot-timeout", type=float, default=1800.0, metavar="S",
                    help="container start -> CLI answering over SSH")
    up.add_argument("--memory", type=int, metavar="MB", help="guest RAM (the wrapper's default otherwise)")
    up.add_argument("--smp", type=int, metavar="N", help="vCPUs (the wrapper's default otherwise)")
    up.add_argument("--accel", choices=("auto", "kvm", "tcg"), help="qemu accelerator (the wrapper's default: auto)")
    up.add_argument("wrapper_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    up.set_defaults(func=_c100v_up)


# ---- the parser ---------------------------------------------------------------------------------------
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [  # type: ignore[type-arg]
    add_sim, add_testbed, add_steps, add_netcheck, add_doctor, add_c100v,
]


def build_parser() -> argparse.ArgumentParser:
    parser = CtrlabParser(prog="ctrlab", description="ctrlab: conformance and hardware-in-the-loop harness for "
                          "ESA/SMA integration with Cisco Threat Response via SSE",
                          epilog="ctrlab COMMAND --help describes each command; docs/tutorial.md is a first hour")
    parser.add_argument("--version", action="version", version=f"ctrlab {package_version()}")
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
    except BrokenPipeError:  # the reader went away (`ctrlab sim status | head -3`): stop quietly, as `ls` does
        # Point stdout at /dev/null so the flush at interpreter exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13  # what a shell reports for a process that SIGPIPE stopped


if __name__ == "__main__":
    sys.exit(main())
