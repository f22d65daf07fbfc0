"""Lab set-ups outside the documented procedures: the appliance's release, its cluster, smart
licensing, the gateway variant, the remediation profile (PRE-5, PRE-6, ENA-7, ENA-8, REG-7, REM-1).

A person sets these up on real gear (the scenarios carry ``@manual``); the simulators take them
through the control plane. The remediation profile is a GUI procedure (System Administration >
Account Settings) and is done through the GUI everywhere.
"""

from __future__ import annotations

import re

from pytest_bdd import given, step, then

from .text import sentence, unq
from .world import World

# PRE-5: direct ESA integration needs 13.0 (the module quick start: at least 13.0.0-314); SMA 12.5.
MINIMUM = {"esa": (13, 0, 0, 314), "gateway": (13, 0, 0, 314), "sma": (12, 5, 0, 0)}
MINIMUM_TEXT = {"esa": "AsyncOS 13.0 or later (at least 13.0.0-314)", "gateway": "AsyncOS 13.0 or later",
                "sma": "AsyncOS 12.5 or later"}


def version_tuple(text: str) -> tuple[int, ...]:
    head, _, build = text.partition("-")
    parts = [int(p) for p in head.split(".") if p.isdigit()]
    parts += [0] * (3 - len(parts))
    return (*parts[:3], int(build) if build.isdigit() else 0)


def _appliance(world: World, path: str, body: dict) -> None:
    world.lab.control("POST", f"/_sim/appliances/{world.device.name}/{path}", body)


@given(sentence(r"the appliance runs AsyncOS {version}"))
def runs_version(world: World, version: str) -> None:
    world.need_control(f"an appliance running AsyncOS {unq(version)}")
    original = world.device.version
    _appliance(world, "spec", {"version": unq(version)})
    world.on_teardown(f"AsyncOS {original} again", lambda: _appliance(world, "spec", {"version": original}))


@given(sentence(r"the appliance is a member of cluster {cluster}"))
def cluster_member(world: World, cluster: str) -> None:
    world.need_control(f"the appliance joined to a cluster named {unq(cluster)}")
    _appliance(world, "lab", {"cluster_name": unq(cluster)})
    world.on_teardown("leave the cluster", lambda: _appliance(world, "lab", {"cluster_name": None}))
    world.cli.run("")  # the CLI prompt changes with the mode; let the driver learn it


@given("smart software licensing is disabled on the appliance")
def no_smart_licensing(world: World) -> None:
    world.need_control("an appliance without Smart Software Licensing")
    _appliance(world, "lab", {"smart_licensing": False})


@given("the appliance is not registered with Cisco Smart Software Manager")
def no_cssm(world: World) -> None:
    world.need_control("an appliance not registered with Cisco Smart Software Manager")
    _appliance(world, "lab", {"cssm_registered": False})


@given(sentence(r"the gateway uses the {variant} cloud service variant"))
def gateway_variant(world: World, variant: str) -> None:
    world.need_control(f"a content security gateway of the {unq(variant)} variant")
    _appliance(world, "spec", {"gateway_variant": unq(variant)})
    world.on_teardown("the default gateway variant", lambda: _appliance(world, "spec", {"gateway_variant": "securex"}))


def _remediation_profile(world: World, enabled: bool) -> None:
    world.gui.navigate("System Administration", "Account Settings")
    world.gui.fill({"Enable Remediation Profile": enabled})
    world.gui.click("Submit")
    world.gui.commit_changes("ctrlab: remediation profile")


@given("the appliance has a remediation profile enabled")
def remediation_on(world: World) -> None:
    _remediation_profile(world, True)


@given("the appliance has no remediation profile enabled")
def remediation_off(world: World) -> None:
    _remediation_profile(world, False)


@step("I enable the remediation profile in the GUI and commit")
def enable_remediation(world: World) -> None:
    _remediation_profile(world, True)


def _read_version(world: World) -> str:
    out = world.version_text or world.run_cli("version").output
    m = re.search(r"^Version:\s*(\S+)", out, re.MULTILINE)
    return m.group(1) if m else ""


@then("the appliance meets the documented version prerequisite")
def meets_prerequisite(world: World) -> None:
    version = _read_version(world)
    kind = world.device.kind
    world.check(bool(version) and version_tuple(version) >= MINIMUM[kind], MINIMUM_TEXT[kind],
                f"Version: {version or '(not shown)'}", f"PRE-5 for a {kind}")


@then(sentence(r"the version check says the appliance <verdict:meets|does not meet> the prerequisite"))
def version_verdict(world: World, verdict: str) -> None:
    version = _read_version(world)
    meets = bool(version) and version_tuple(version) >= MINIMUM[world.device.kind]
    world.check(meets == (verdict == "meets"), f"{verdict} {MINIMUM_TEXT[world.device.kind]}",
                f"Version: {version}", "version check")


