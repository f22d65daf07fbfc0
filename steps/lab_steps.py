"""Lab set-ups outside the documented procedures: the appliance's release, its cluster, smart
licensing, the gateway variant, the remediation profile (PRE-5, PRE-6, ENA-7, ENA-8, REG-7, REM-1).

A person sets these up on real gear (the scenarios carry ``@manual``); the simulators take them
through the control plane. The remediation profile is a GUI procedure (System Administration >
Account Settings) and is done through the GUI everywhere.
"""

from __future__ import annotations

import contextlib
import re

from pytest_bdd import given, step, then, when

from harness.appliance.cloud_cli import read_cloud_cli
from harness.facts import MINIMUM_TEXT, meets_minimum
from harness.labtime import TimedOut

from .expect import contains, note_inferred
from .text import sentence
from .world import World


@given("the appliance is as it left the factory")
def factory_fresh(world: World) -> None:
    """ENA-1/ENA-3 describe a fresh appliance: no server chosen yet, which no documented procedure restores."""
    world.lab.control.factory_fresh(world.device.name)
    world.forget_pages()


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


def _remediation_profile(world: World, enabled: bool, *, set_up: bool = False) -> None:
    world.gui.navigate("System Administration", "Account Settings")
    world.gui.fill({"Enable Remediation Profile": enabled})
    world.gui.click("Submit")
    if set_up and not world.has_pending_gui_changes():
        return  # already so (an appliance not reset since an earlier scenario): nothing to commit
    world.gui.commit_changes("ctrlab: remediation profile")


@given("the appliance has a remediation profile enabled")
def remediation_on(world: World) -> None:
    _remediation_profile(world, True, set_up=True)


@given("the appliance has no remediation profile enabled")
def remediation_off(world: World) -> None:
    _remediation_profile(world, False, set_up=True)


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




# ---- what the appliance does at its release (PRE-5, TS-5): observed, not computed -------------------------
@then("the appliance can be integrated directly with Threat Response")
def can_integrate(world: World) -> None:
    world.registered()
    choices = world.device_choices()
    world.check(world.my_choice(choices) is not None, f"{world.device.hostname} offered as a Registered Device",
                [c.get("label") for c in choices], "PRE-5: a release at or above the minimum integrates")


@then("the appliance cannot be integrated directly with Threat Response")
def cannot_integrate(world: World) -> None:
    """Below the minimum the documents give no symptom, only the rule (seeds 002/004: "make sure it is AsyncOS
    13.0 or later"); what is checked is the rule's consequence, an inference said in the report: the appliance
    does not end up registered and offered to the module through the documented CLI procedure."""
    note_inferred(world.request, ["below the minimum release the integration does not complete"])
    world.ensure_threat_response_in_sse()
    run = world.run_cli("threatresponseconfig", ["ENABLE"])
    asked = False  # an appliance that refuses to enable will not ask for a token: nothing to wait for
    if run.error is None:
        world.run_cli("commit", ["ctrlab: PRE-5 below the minimum"])
        try:
            state = world.poll("cloud_ready", lambda: read_cloud_cli(world.cli), lambda s: s.token_field,
                               "a registration token asked")
            asked = state.token_field
        except (TimedOut, AssertionError):
            asked = False
    offered = False
    observed = run.output
    if asked:
        world.register(world.new_token(world.lab.region), "CLI")
        with contextlib.suppress(TimedOut, AssertionError):
            world.poll("registration", lambda: read_cloud_cli(world.cli, True), lambda s: s.registered or s.failed,
                       "the registration to end")
        choices = world.device_choices()
        offered = world.my_choice(choices) is not None
        observed = f"registered and offered as a Registered Device: {[c.get('label') for c in choices]}"
    world.check(not offered, f"{MINIMUM_TEXT[world.device.kind]}: below it, no direct integration", observed,
                "PRE-5 below the minimum")


@when(sentence(r"I open the quick start of a new {title} module"))
def open_quick_start(world: World, title: str) -> None:
    module_type = world.email_module_type(title)
    world.seen.ctr.quick_start = " ".join(str(module_type.get(k) or "") for k in ("tips", "description"))


@then(sentence(r"the quick start says {text}"))
def quick_start_says(world: World, text: str) -> None:
    world.check(contains(world.seen.ctr.quick_start, text), text, world.seen.ctr.quick_start, "module Quick Start")
