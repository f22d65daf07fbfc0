"""Every shell command of README.md and docs/*.md is run or, when it cannot run here, parsed (issue 16).

Cheap commands run for real in a scratch folder holding the files they name (``tb.yaml``, ``lab.yaml``,
``broken.yaml``): ``ctrlab testbed validate``, ``ctrlab steps``, ``ctrlab testbed schema``, the ``--help`` of
every ``ctrlab`` command mentioned, ``python -m harness.backends.docker tag``. A session block (``$ ``
lines) must print exactly the output the document shows. Long-running commands (a lab, the suite, docker,
a C100V) are parsed with the exact argv by the program's own parser, and nothing else runs: ``ctrlab`` in
process, pytest with a plugin that stops once the command line is parsed, ``python -m`` modules with
``ArgumentParser.parse_args`` stopping the program after it returns. What can do neither is in
:data:`NOT_RUN`, with the reason.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness import cli

from ..harness.support import DOCS_ENV, docs_example_text, sample_testbed, write_testbed
from .doc_commands import ROOT, Command, all_commands, documents, unlabeled_shell_blocks

TIMEOUT = 120
PARSED = "doc-check: parsed"

# Commands no test can run or parse here, by their first words: (why).
NOT_RUN: dict[tuple[str, ...], str] = {
    ("python3", "-m", "pip", "install"): "installs packages: the test runs in the installed checkout already",
    ("npm", "ci"): "installs node packages from the registry",
    ("docker", "run"): "needs a docker daemon and the C100V image with a licensed qcow2",
    ("docker", "exec"): "needs a running C100V container",
    ("npm", "run", "report"): "needs node and npm ci; the report itself is checked by .ci/check_allure_report.py",
    ("npx", "allure", "open"): "serves the report until Ctrl-C; needs node",
}

# Parses the exact argv with the program's own argparse parser, then stops before the program does anything.
ARGPARSE_ONLY = f"""
import argparse, runpy, sys
original = argparse.ArgumentParser.parse_args
def parse_only(self, args=None, namespace=None):
    original(self, args, namespace)
    print({PARSED!r}, flush=True)
    raise SystemExit(0)
argparse.ArgumentParser.parse_args = parse_only
module = sys.argv[1]
sys.argv = [module, *sys.argv[2:]]
runpy.run_module(module, run_name="__main__", alter_sys=True)
raise SystemExit("the module never called parse_args: not checked")
"""

PYTEST_PARSE_ONLY = f"""
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    print({PARSED!r}, flush=True)  # the whole command line is parsed (unknown options are errors by now)
    return 0
"""

COMMANDS = all_commands()


def command_id(command: Command) -> str:
    return f"{command.doc}:{command.line}:{' '.join(command.argv[:3])}"


def not_run_reason(argv: list[str]) -> str | None:
    return next((why for words, why in NOT_RUN.items() if tuple(argv[:len(words)]) == words), None)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the files the documents' commands name, and the parse-only pytest plugin."""
    folder = tmp_path_factory.mktemp("docs")
    write_testbed(folder / "tb.yaml", sample_testbed())
    example = yaml.safe_load(docs_example_text())
    lab = yaml.safe_load(docs_example_text().replace("%ENV{ESA1_PASSWORD}", "%ENV{ESA_PASSWORD}"))
    lab["devices"]["esa2"] = {**lab["devices"]["esa1"], "hostname": "esa2.example.com"}
    write_testbed(folder / "lab.yaml", lab)
    example["devices"]["esa1"]["connections"]["cli"]["port"] = "abc"
    write_testbed(folder / "broken.yaml", example)
    (folder / "ctrlab_doc_parse_only.py").write_text(PYTEST_PARSE_ONLY)
    return folder


def environment(scratch: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS", *DOCS_ENV)}
    env.update({k: v for k, v in DOCS_ENV.items() if k != "ESA1_PASSWORD"})  # broken.yaml names it unset
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), str(scratch), os.environ.get("PYTHONPATH")) if p)
    return env


def run(argv: list[str], scratch: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd or scratch, env=environment(scratch), capture_output=True, text=True,
                          timeout=TIMEOUT, stdin=subprocess.DEVNULL)


def ctrlab(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "harness.cli", *args]


def runs_for_real(argv: list[str]) -> bool:
    if argv[0] == "ctrlab":
        words = argv[1:]
        return words[-1:] in (["--help"], ["--version"]) or words[:1] == ["steps"] \
            or words[:2] in (["testbed", "validate"], ["testbed", "schema"])
    return argv[:4] == ["python", "-m", "harness.backends.docker", "tag"]


def parse_ctrlab(argv: list[str]) -> None:
    """As ``ctrlab`` parses it (``harness.cli.main``), without running the command."""
    args, extra = cli.build_parser().parse_known_args(argv)
    if getattr(args, "passthrough", False):  # ctrlab sim up: the lab parses its own options
        from virtual_appliances import lab

        lab.parse_args(extra)
    else:
        assert not extra, f"unrecognized arguments: {extra}"


def subcommand_path(argv: list[str]) -> list[str]:
    """``ctrlab c100v up --image x`` -> ``["c100v", "up"]``: the words naming the command."""
    path: list[str] = []
    parser = cli.build_parser()
    for word in argv:
        choices = next((a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        if not choices or word not in choices:
            break
        path.append(word)
        parser = choices[word]
    return path


@pytest.mark.parametrize("command", COMMANDS, ids=command_id)
def test_the_documents_command_runs_or_parses(command: Command, scratch: Path) -> None:
    for argv in command.variants():
        argv = [a for a in argv if a != "..."]  # "more options" in a synopsis
        while argv and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", argv[0]):  # "DOCKER_HOST=... pytest": the command
            argv = argv[1:]
        if not_run_reason(argv):
            continue
        if runs_for_real(argv):
            # a file another command writes (/tmp/tb.yaml from ctrlab sim up): the scratch folder's of that name
            argv = [str(scratch / Path(a).name) if a.startswith("/") and not Path(a).exists()
                    and (scratch / Path(a).name).is_file() else a for a in argv]
            exe = ctrlab(argv[1:]) if argv[0] == "ctrlab" else [sys.executable, *argv[1:]]
            done = run(exe, scratch, cwd=ROOT if argv[0] == "python" else None)
            broken = any(Path(a).name.startswith("broken") for a in argv)
            assert done.returncode == (1 if broken else 0), f"{command}\n{done.stdout}{done.stderr}"
            if command.expected_output:
                assert (done.stdout + done.stderr).splitlines() == command.expected_output, str(command)
        elif argv[0] == "ctrlab":
            parse_ctrlab(argv[1:])
        elif argv[0] == "pytest":
            done = run([sys.executable, "-m", "pytest", "-p", "ctrlab_doc_parse_only", *argv[1:]], scratch, ROOT)
            assert done.returncode == 0 and PARSED in done.stdout, f"{command}\n{done.stdout}{done.stderr}"
        elif argv[:2] in (["python", "-m"], ["python3", "-m"]):
            done = run([sys.executable, "-c", ARGPARSE_ONLY, *argv[2:]], scratch, ROOT)
            assert done.returncode == 0 and PARSED in done.stdout, f"{command}\n{done.stdout}{done.stderr}"
        else:
            pytest.fail(f"{command}: neither run, parsed nor in NOT_RUN")
        if argv[0] == "ctrlab":  # the --help of every command a document mentions
            path = subcommand_path(argv[1:])
            with pytest.raises(SystemExit) as info:  # parsed, not run: ctrlab sim up --help is the lab's
                parse_ctrlab([*path, "--help"])
            assert info.value.code == 0, f"{command}: ctrlab {' '.join(path)} --help"


def test_the_checks_would_catch_a_wrong_command(scratch: Path) -> None:
    # the parse-only paths refuse what the programs refuse
    with pytest.raises((SystemExit, AssertionError)):
        parse_ctrlab(["doctor", "--testbed", "tb.yaml", "--wiat", "5"])
    with pytest.raises(SystemExit):
        parse_ctrlab(["sim", "up", "--appliences", "2", "--testbed-out", "tb.yaml"])
    done = run([sys.executable, "-m", "pytest", "-p", "ctrlab_doc_parse_only", "--tesbed", "tb.yaml"], scratch, ROOT)
    assert done.returncode != 0 and PARSED not in done.stdout
    done = run([sys.executable, "-c", ARGPARSE_ONLY, "harness.backends.docker", "bild"], scratch, ROOT)
    assert done.returncode != 0 and PARSED not in done.stdout


def test_every_shell_block_is_labelled_sh() -> None:
    # an unlabelled block of commands would escape the check above
    assert {p.name: unlabeled_shell_blocks(p) for p in documents() if unlabeled_shell_blocks(p)} == {}


def test_the_not_run_list_is_small_and_used() -> None:
    used = {words for c in COMMANDS for argv in c.variants() for words in NOT_RUN
            if tuple(argv[:len(words)]) == words}
    assert used == set(NOT_RUN), f"stale entries: {set(NOT_RUN) - used}"
    assert len(NOT_RUN) <= 6


def test_no_document_describes_finished_work_as_future() -> None:
    stale = re.compile(r"once the CLI wires|not done yet|until then|not wired|^#+ Wiring", re.I | re.M)
    found = {p.name: stale.findall(p.read_text(encoding="utf-8")) for p in documents()}
    assert {name: hits for name, hits in found.items() if hits} == {}
