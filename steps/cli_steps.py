"""The AsyncOS CLI over SSH: run a command, answer its questions, read what it printed (ENA-6, REG-3..5,
REG-10, ENA-7)."""

from __future__ import annotations

import re

from pytest_bdd import step, then

from harness.appliance import Secret
from harness.appliance.cloud_cli import read_cloud_cli
from harness.facts import NOTHING_TO_COMMIT

from .expect import contains
from .placeholders import full_match, search
from .text import sentence, table_rows
from .world import World

_MENU_ITEM = re.compile(r"^\s*-\s*([A-Z][A-Z]+)\s+-", re.MULTILINE)


def _output(world: World) -> str:
    if world.seen.cli.run is None:
        raise LookupError("no CLI command has run in this scenario yet")
    return world.seen.cli.run.output


def offered_operations(output: str) -> list[str]:
    """The menu items of the last "Choose the operation you want to perform:" (``- NAME - ...``)."""
    last = output.rfind("Choose the operation you want to perform:")
    return _MENU_ITEM.findall(output[last:] if last >= 0 else output)


@step(sentence(r"I run {command} in the CLI"))
def run_command(world: World, command: str) -> None:
    world.run_cli(world.text(command))


@step(sentence(r"I run {command} in the CLI and answer:"))
def run_and_answer(world: World, command: str, datatable: list[list[str]]) -> None:
    """Rows ``| question | answer |``: each answer is typed at the next sub-prompt; each question is
    text the document shows before that prompt, checked against the dialog afterwards."""
    rows = table_rows(datatable)
    # A registration token typed as an answer is a secret: it never reaches the transcript.
    answers = [Secret(a) if a in world.seen.sse.tokens else a for a in (world.text(r[-1]) for r in rows)]
    run = world.run_cli(world.text(command), answers)
    for row in rows:
        question = world.text(row[0]) if len(row) > 1 else ""
        if question:
            world.check(contains(run.output, question), f"the appliance asks: {question}", run.output,
                        f"{run.command} dialog")


@step(sentence(r"I commit the changes in the CLI with comment {comment}"))
def commit_with_comment(world: World, comment: str) -> None:
    world.run_cli("commit", [comment])


@step("I commit the changes in the CLI")
def commit(world: World) -> None:
    world.run_cli("commit", [""])


@step(sentence(r"I choose {server} with SETTRS in the CLI"))
def settrs(world: World, server: str) -> None:
    world.choose_server_cli(server)


@step(sentence(r"I join the appliance to cluster {cluster} in the CLI"))
def join_cluster(world: World, cluster: str) -> None:
    # clusterconfig join <host> <user> <password> <group>, through a peer the lab gives (and a way back out)
    peer, leave = world.lab.control.cluster_peer(world.device.name, cluster)
    world.on_teardown(f"leave cluster {cluster}", leave)
    world.cli.transcript.add_secret(peer.password)
    world.run_cli(f"clusterconfig join {peer.host} {peer.username} {peer.password} {peer.group}")


@step("I read the appliance's version in the CLI")
def read_version(world: World) -> None:
    world.seen.cli.version_text = world.run_cli("version").output


@then("the CLI output contains:")
def output_contains_doc(world: World, docstring: str) -> None:
    out = _output(world)
    world.check(
        search(docstring, out, world.values), world.text(docstring), out, f"{world.seen.cli.run.command} output"
    )


@then(sentence(r"the CLI output contains {text}"))
def output_contains(world: World, text: str) -> None:
    out = _output(world)
    world.check(search(text, out, world.values), world.text(text), out, f"{world.seen.cli.run.command} output")


@then(sentence(r"the CLI output does not contain {text}"))
def output_lacks(world: World, text: str) -> None:
    out = _output(world)
    world.check(
        not search(text, out, world.values), f"no {world.text(text)!r}", out, f"{world.seen.cli.run.command} output"
    )


@then(sentence(r"the CLI output matches {pattern}"))
def output_matches(world: World, pattern: str) -> None:
    out = _output(world)
    world.check(search(pattern, out, world.values), pattern, out, f"{world.seen.cli.run.command} output")


@then("the CLI output is:")
def output_is(world: World, docstring: str) -> None:
    out = _output(world)
    body = (
        out.split("\n", 1)[1] if out.splitlines() and out.splitlines()[0].strip() == world.seen.cli.run.command else out
    )
    world.check(
        full_match(docstring, body, world.values), world.text(docstring), body, f"{world.seen.cli.run.command} output"
    )


@then(sentence(r"the CLI offers only the operations {names}"))
def offers_only(world: World, names: str) -> None:
    wanted = [n.strip().upper() for n in names.split(",") if n.strip()]
    offered = offered_operations(_output(world))
    world.check(
        offered == wanted,
        f"the operations {wanted} and no other",
        offered or _output(world),
        f"{world.seen.cli.run.command} menu",
    )


@then(sentence(r"the CLI offers the operation {name}"))
def offers(world: World, name: str) -> None:
    offered = offered_operations(_output(world))
    world.check(name.upper() in offered, f"the operation {name}", offered, f"{world.seen.cli.run.command} menu")


@then(sentence(r"the CLI does not offer the operation {name}"))
def does_not_offer(world: World, name: str) -> None:
    offered = offered_operations(_output(world))
    world.check(name.upper() not in offered, f"no operation {name}", offered, f"{world.seen.cli.run.command} menu")


@then("the CLI refuses the command outside machine mode")
def refused_outside_machine_mode(world: World) -> None:
    out = _output(world)
    refused = "choose the operation you want to perform" not in out.lower() and "machine" in out.lower()
    world.check(
        refused,
        f'"{world.seen.cli.run.command}" is restricted to the machine mode',
        out,
        f"{world.seen.cli.run.command} in {world.cli.mode} mode",
    )


@then(sentence(r"the CLI prompt is {prompt}"))
def prompt_is(world: World, prompt: str) -> None:
    world.cli.run("")  # a bare Enter: the appliance shows its current prompt
    expected = world.text(prompt)
    world.check(world.cli.prompt == expected, expected, world.cli.prompt, "CLI prompt")


# ---- the state, read through the CLI's own dialogs (interfaces are their own oracles) ----------------
@then(sentence(r"the CLI shows Threat Response {state}"))
def cli_shows_state(world: World, state: str) -> None:
    """ENA-6: threatresponseconfig offers ENABLE while disabled, DISABLE while enabled."""
    view = read_cloud_cli(world.cli)
    world.check(view.enabled == state, f"Threat Response {state}: threatresponseconfig offers "
                f"{'DISABLE' if state == 'Enabled' else 'ENABLE'} only", view.describe(), "threatresponseconfig menu")


@then("the CLI has no uncommitted changes")
def cli_nothing_pending(world: World) -> None:
    run = world.run_cli("commit", ["ctrlab: nothing pending?"])
    world.check(contains(run.output, NOTHING_TO_COMMIT), NOTHING_TO_COMMIT, run.output, "commit")
