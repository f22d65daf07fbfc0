"""``ctrlab sim status|down|reset|fault``: a running lab, driven over its control plane only.

The lab is found from the testbed ``ctrlab sim up --testbed-out PATH`` wrote (its
``testbed.simulator.control_url``); the harness never imports the simulators. Every command is one
HTTP exchange or a poll to a deadline, each request with a timeout; errors are one line and exit 1.

    ctrlab sim status --testbed PATH                      health, appliances, clock, faults (exit 1: down)
    ctrlab sim down --testbed PATH [--timeout S]          ask the lab to stop, wait until it is gone
    ctrlab sim reset --testbed PATH [--appliance NAME]    one appliance and its cloud records, or the lab
    ctrlab sim fault list|set NAME [k=v ...]|clear NAME [k=v ...] --testbed PATH
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .errors import ApiError, DriverError, LabUnreachable
from .simcontrol import SimControl

DOWN_TIMEOUT_S = 30.0
DOWN_POLL_S = 0.1


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default, unless it has none worth showing (None, a flag's False)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or action.default is False or action.default == argparse.SUPPRESS or action.required:
            return action.help or ""
        return super()._get_help_string(action) or ""


Formatter = HelpFormatter


class CommandError(Exception):
    """One line for stderr."""


def _control(path: str) -> SimControl:
    from .testbed import TestbedError, load_testbed

    if not Path(path).is_file():
        # The lab removes its testbed when it stops: no file is the usual sign of a stopped lab.
        raise CommandError(f"the lab is down: its testbed {path} does not exist (ctrlab sim up --testbed-out "
                           f"{path} starts one)")
    try:
        testbed = load_testbed(path)
    except TestbedError as exc:
        raise CommandError(str(exc).splitlines()[0]) from None
    if testbed.simulator is None:
        raise CommandError(f"{path}: testbed.simulator is missing: this testbed describes real gear, not a "
                           "ctrlab sim lab")
    return SimControl(str(testbed.simulator.control_url))


def _call(what: str, action: Any) -> Any:
    try:
        return action()
    except LabUnreachable as exc:
        raise CommandError(f"the lab is down: {exc}") from None
    except ApiError as exc:
        raise CommandError(f"{what}: HTTP {exc.status}: {_error_text(exc.body)}") from None
    except DriverError as exc:
        raise CommandError(f"{what}: {exc}") from None


def _error_text(body: str) -> str:
    import json

    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:300]
    return str(data.get("error", data)) if isinstance(data, dict) else str(data)


def _params(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"parameter {pair!r}: write it as name=value, e.g. fqdn=api-sse.cisco.com")
        out[key] = value
    return out


# ---- the commands ---------------------------------------------------------------------------------------
def status(args: argparse.Namespace) -> int:
    control = _control(args.testbed)
    health = _call("health", control.health)
    appliances = _call("appliances", lambda: control.get("appliances"))
    clock = _call("clock", control.clock)
    faults = _call("faults", control.faults)
    print(f"lab: up ({control.base}), version {health.get('version')}, {len(appliances)} appliance(s)")
    print(f"clock: {clock['now']} (speed {clock['speed']:g}), {len(clock['pending'])} pending event(s)")
    for event in clock["pending"]:
        print(f"  {event['at']}  {event['owner']}: {event['what']}")
    for a in appliances:
        fault_names = [k for k, v in (a.get("faults") or {}).items() if v]
        extra = f", appliance faults: {', '.join(fault_names)}" if fault_names else ""
        print(f"appliance {a['name']} ({a['kind']} {a['version']}): {a['state']}{extra}")
    active = faults.get("active") or []
    print(f"faults: {', '.join(_fault_text(f) for f in active) if active else 'none set through the catalogue'}")
    return 0


def _fault_text(fault: dict[str, Any]) -> str:
    params = " ".join(f"{k}={v}" for k, v in (fault.get("params") or {}).items())
    return f"{fault['name']}{' ' + params if params else ''}"


def down(args: argparse.Namespace) -> int:
    control = _control(args.testbed)
    try:
        control.shutdown()
    except LabUnreachable:
        print(f"the lab is already down ({control.base})")
        return 0
    except ApiError as exc:
        raise CommandError(f"shutdown: HTTP {exc.status}: {_error_text(exc.body)}") from None
    end = time.monotonic() + args.timeout
    testbed = Path(args.testbed)
    while True:
        try:
            control.health()
        except LabUnreachable:
            if not testbed.exists():  # the lab removes its testbed last: it has finished stopping
                print(f"the lab stopped ({control.base})")
                return 0
        except ApiError:
            pass  # still answering while it stops
        if time.monotonic() > end:
            raise CommandError(f"the lab did not stop within {args.timeout:g} s ({control.base}); its process "
                               "may need a SIGTERM")
        threading.Event().wait(DOWN_POLL_S)  # poll to the deadline


def reset(args: argparse.Namespace) -> int:
    control = _control(args.testbed)
    if args.appliance:
        answer = _call(f"reset {args.appliance}", lambda: control.reset_appliance(args.appliance))
        cleaned = answer.get("cleaned") or {}
        print(f"{args.appliance}: reset to its first-boot state; removed {cleaned.get('sse_devices', 0)} SSE "
              f"record(s), {cleaned.get('ctr_modules', 0)} Threat Response module(s), "
              f"{cleaned.get('events', 0)} pending event(s)")
    else:
        _call("reset", control.reset)
        print("the whole lab is reset: every appliance, SSE, Threat Response and the network")
    return 0


def fault(args: argparse.Namespace) -> int:
    control = _control(args.testbed)
    if args.fault_command == "list":
        data = _call("faults", control.faults)
        for f in data["faults"]:
            params = ", ".join(f"{p['name']}" + ("" if p["required"] else f"={p['default']}") for p in f["params"])
            print(f"{f['name']:<30} {f['requirement']:<6} {f['description']} [{params or 'no parameters'}]")
        active = data.get("active") or []
        print(f"active: {', '.join(_fault_text(a) for a in active) if active else 'none'}")
        return 0
    params = _params(args.params)
    if args.fault_command == "set":
        answer = _call(f"fault {args.name}", lambda: control.set_fault(args.name, **params))
        print(f"set: {_fault_text(answer)}")
    else:
        answer = _call(f"fault {args.name}", lambda: control.clear_fault(args.name, **params))
        print(f"cleared: {args.name} ({answer.get('cleared', 0)} instance(s) set through the catalogue)")
    return 0


def testbed_out_problem(lab_args: list[str]) -> str | None:
    """``sim up``: a --testbed-out whose folder does not exist, in one line (before the lab starts)."""
    for i, arg in enumerate(lab_args):
        value = arg.partition("=")[2] if arg.startswith("--testbed-out=") else \
            lab_args[i + 1] if arg == "--testbed-out" and i + 1 < len(lab_args) else None
        if value and not Path(value).parent.is_dir():
            return f"--testbed-out: folder {Path(value).parent} does not exist"
    return None


def run(func: Any) -> Any:
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return int(func(args))
        except CommandError as exc:
            print(f"ctrlab sim {args.sim_command}: {exc}", file=sys.stderr)
            return 1
    return wrapped


# ---- the parsers ----------------------------------------------------------------------------------------
def _testbed(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--testbed", required=True, metavar="PATH",
                        help="the testbed ctrlab sim up --testbed-out wrote (the lab's control plane is in it)")


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``status``, ``down``, ``reset`` and ``fault`` under ``ctrlab sim``."""
    p = commands.add_parser("status", help="is the lab up: health, appliances, clock, faults (exit 1 if down)",
                            description="Show a running lab's health, appliances, lab clock with its pending "
                                        "events, and active faults. Exit 1 when the lab is down.",
                            formatter_class=Formatter)
    _testbed(p)
    p.set_defaults(func=run(status))

    p = commands.add_parser("down", help="stop a lab started with ctrlab sim up, wait until it is gone",
                            description="Ask the lab to stop over its control plane (POST /_sim/shutdown) and "
                                        "wait until it no longer answers and its testbed file is removed.",
                            formatter_class=Formatter)
    _testbed(p)
    p.add_argument("--timeout", type=float, default=DOWN_TIMEOUT_S, metavar="S", help="seconds to wait")
    p.set_defaults(func=run(down))

    p = commands.add_parser("reset", help="one appliance (and its cloud records), or the whole lab, to a known state",
                            description="With --appliance: that appliance back to its first-boot state, with its "
                                        "SSE records in every region, the Threat Response modules that point at "
                                        "them, its faults and its pending events. Without: the whole lab.",
                            formatter_class=Formatter)
    _testbed(p)
    p.add_argument("--appliance", metavar="NAME", default=None, help="the appliance (default: the whole lab)")
    p.set_defaults(func=run(reset))

    p = commands.add_parser("fault", help="list, set or clear the lab's named faults (docs/simulators.md)",
                            description="The lab's catalogue of named faults: list them, set one with its "
                                        "parameters as name=value, clear one.",
                            formatter_class=Formatter)
    actions = p.add_subparsers(dest="fault_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the catalogue and the faults in force",
                                 description="List every named fault (requirement, description, parameters) "
                                             "and the ones in force.", formatter_class=Formatter)
    _testbed(listing)
    for action, text in (("set", "apply"), ("clear", "clear")):
        sub = actions.add_parser(action, help=f"{text} a fault by name", formatter_class=Formatter,
                                 description=f"{text.capitalize()} the named fault; parameters as name=value "
                                             "(see ctrlab sim fault list).")
        sub.add_argument("name", help="the fault's name, e.g. firewall-drop")
        sub.add_argument("params", nargs="*", metavar="NAME=VALUE", help="the fault's parameters")
        _testbed(sub)
    p.set_defaults(func=run(fault))
