"""Lab set-ups outside the documented procedures: the appliance's release, its cluster, smart
licensing, the gateway variant, the remediation profile (PRE-5, PRE-6, ENA-7, ENA-8, REG-7, REM-1).

A person sets these up on real gear (the scenarios carry ``@manual``); the simulators take them
through the control plane. The remediation profile is a GUI procedure (System Administration >
Account Settings) and is done through the GUI everywhere.
"""

from __future__ import annotations

import re

from pytest_bdd import given, step, then

from harness.facts import MINIMUM_TEXT, meets_minimum

from .text import sentence
from .world import World


@given(sentence(r"the appliance runs AsyncOS {version}"))
def runs_version(world: World, version: str) -> None:
    undo = world.lab.control.set_release(world.device.name, version, world.device.version)
    world.on_teardown(f"AsyncOS {world.device.version} again", undo)


@given(sentence(r"the appliance is a member of cluster {cluster}"))
def cluster_member(world: World, cluster: str) -> None:
    world.on_teardown("leave the cluster", world.lab.control.join_cluster(world.device.name, cluster))
    world.cli.run("")  # the CLI prompt changes with the mode; let the driver learn it


@given("smart software licensing is disabled on the appliance")
def no_smart_licensing(world: World) -> None:
    world.on_teardown("smart software licensing again",
                      world.lab.control.set_licensing(world.device.name, smart_licensing=False))


@given("the appliance is not registered with Cisco Smart Software Manager")
def no_cssm(world: World) -> None:
    world.on_teardown("registered with CSSM again",
                      world.lab.control.set_licensing(world.device.name, cssm_registered=False))


@given(sentence(r"the gateway uses the {variant} cloud service variant"))
def gateway_variant(world: World, variant: str) -> None:
    world.on_teardown("the gateway's variant again", world.lab.control.set_gateway_variant(world.device.name, variant))


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
    out = world.seen.cli.version_text or world.run_cli("version").output
    m = re.search(r"^Version:\s*(\S+)", out, re.MULTILINE)
    return m.group(1) if m else ""


@then("the appliance meets the documented version prerequisite")
def meets_prerequisite(world: World) -> None:
    version = _read_version(world)
    kind = world.device.kind
    world.check(bool(version) and meets_minimum(kind, version)[0] and meets_minimum(kind, version)[1],
                MINIMUM_TEXT[kind], f"Version: {version or '(not shown)'}", f"PRE-5 for a {kind}")


@then(sentence(r"the version check says the appliance <verdict:meets|does not meet> the prerequisite"))
def version_verdict(world: World, verdict: str) -> None:
    version = _read_version(world)
    meets = bool(version) and all(meets_minimum(world.device.kind, version))
    world.check(meets == (verdict == "meets"), f"{verdict} {MINIMUM_TEXT[world.device.kind]}",
                f"Version: {version}", "version check")


