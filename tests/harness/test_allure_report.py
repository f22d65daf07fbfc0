"""The Allure report as a reader sees it: a real run (``--testbed``), a real ``allure generate`` (Allure 3, the
project's ``allurerc.mjs``), read back from the generated report's data.

Checked: the categories docs/harness.md promises (conformance failure, lab unreachable, harness error,
unknown step), severity from tags, no host/thread labels, unquoted parameters, requirement links that
resolve to the requirements page shipped with the report, the coverage of each requirement, and the
evidence attached to the failing step: the CLI dialog, the GUI page as text and as a PNG rendered by a
real headless Chromium, all masked.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from harness.report.screenshot import browser, screenshot
from tests.harness.support import CONFTEST, ESA_PASSWORD, INI, sample_testbed, write_testbed

ROOT = Path(__file__).resolve().parents[2]
ALLURE = ROOT / "node_modules" / ".bin" / "allure"
GENERATE_TIMEOUT_S = 180

FEATURE = """\
    @gui
    Feature: Report demo

      @req:ENA-1
      Scenario: Enabled as documented
        Given the appliance shows its settings page
        When I run "showconfig" in the CLI
        Then the page says the integration is enabled

      @req:REG-1 @severity:minor
      Scenario: The lab is gone
        Then the lab answers

      @req:PRE-1
      Scenario: The harness trips
        Then the harness trips

      @req:PRE-2
      Scenario: All is well
        Given the appliance shows its settings page

      @req:TS-1
      Scenario: A misspelt step
        Given the appliance shws its settings page
"""

STEPS = f'''
import http.server
import threading

from harness.errors import LabUnreachable
from harness.http import HttpSession
from harness.transcript import Transcript

PAGE = (b"<html><head><title>Cloud Service Settings</title><link rel='stylesheet' href='https://example.com/x.css'>"
        b"</head><body><h1>Cloud Service Settings</h1><table><tr><td>Threat Response:</td><td>Disabled</td></tr>"
        b"<tr><td>Password:</td><td>{ESA_PASSWORD}</td></tr></table></body></html>")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args):
        pass


SERVER = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=SERVER.serve_forever, daemon=True).start()


@given("the appliance shows its settings page")
def settings_page():
    with HttpSession("esa1 GUI", timeout=10) as session:
        session.get(f"http://127.0.0.1:{{SERVER.server_port}}/network/cloud_service_settings").raise_for_status()


@when(parsers.parse('I run "{{command}}" in the CLI'))
def run_cli(command):
    Transcript("esa1 CLI").record("cli", "esa1 CLI", "127.0.0.1:2222", command,
                                  "Threat Response: Disabled (password {ESA_PASSWORD})", status="ok")


@then("the page says the integration is enabled")
def enabled():
    assert False, "ENA-1: the page shows Threat Response 'Disabled', the document says 'Enabled'"


@then("the lab answers")
def lab_answers():
    raise LabUnreachable("esa1 CLI", "127.0.0.1:2222", "connection refused")


@then("the harness trips")
def harness_trips():
    raise RuntimeError("a defect in a step definition")
'''


def results_of(report: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for path in (report / "data" / "test-results").glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        out[data["name"]] = data
    return out


def labels(result: dict[str, Any], name: str) -> list[str]:
    return [label["value"] for label in result.get("labels", []) if label["name"] == name]


def step_attachments(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Attachment name -> attachment, of every step (nested), for the step that failed."""
    found: dict[str, dict[str, Any]] = {}

    def walk(steps: list[dict[str, Any]], failing: bool) -> None:
        for step in steps:
            if step.get("type") == "attachment" and failing:
                found[step["link"]["name"]] = step["link"]
            walk(step.get("steps", []), failing or step.get("status") in ("failed", "broken"))

    walk(result.get("steps", []), False)
    return found


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the results folder, the generated report) of one run of the demo project on a testbed."""
    if not ALLURE.exists():
        pytest.skip("Allure 3 is not installed: run `npm ci` first (CI does, before the tests)")
    project = tmp_path_factory.mktemp("report-demo")
    (project / "pytest.ini").write_text(INI, encoding="utf-8")
    (project / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (project / "features").mkdir()
    (project / "features" / "demo.feature").write_text(textwrap.dedent(FEATURE), encoding="utf-8")
    (project / "features" / "test_demo.py").write_text(
        "from pytest_bdd import given, parsers, scenarios, then, when\n\nscenarios('demo.feature')\n" + STEPS,
        encoding="utf-8")
    write_testbed(project / "tb.yaml", sample_testbed())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ran = subprocess.run([sys.executable, "-m", "pytest", "--testbed", "tb.yaml", "--alluredir", "results", "-q"],
                         cwd=project, env=env, capture_output=True, text=True, timeout=GENERATE_TIMEOUT_S, check=False)
    assert "4 failed, 1 passed" in ran.stdout, ran.stdout[-3000:] + ran.stderr[-2000:]
    results, report = project / "results", project / "report"
    done = subprocess.run([str(ALLURE), "generate", str(results), "-o", str(report), "--config",
                           str(ROOT / "allurerc.mjs")], cwd=project, capture_output=True, text=True,
                          timeout=GENERATE_TIMEOUT_S, env={**os.environ, "NO_COLOR": "1"}, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return results, report


def test_the_generated_report_files_failures_in_the_promised_categories(generated: tuple[Path, Path]) -> None:
    _, report = generated
    tests = results_of(report)
    categories = {name: [c["name"] for c in tr.get("categories", [])] for name, tr in tests.items()}
    assert categories == {
        "Enabled as documented": ["Conformance failure"],
        "The lab is gone": ["Lab unreachable"],
        "The harness trips": ["Harness error"],
        "All is well": [],
        "A misspelt step": ["Unknown step"],
    }, categories
    assert (report / "index.html").is_file() and not (report / "awesome").exists()


def test_severity_labels_and_links(generated: tuple[Path, Path]) -> None:
    results, report = generated
    tests = results_of(report)
    severities = {name: labels(tr, "severity") for name, tr in tests.items()}
    assert severities == {"Enabled as documented": ["critical"], "The lab is gone": ["minor"],
                          "The harness trips": ["normal"], "All is well": ["normal"],
                          "A misspelt step": ["minor"]}, severities
    for tr in tests.values():
        assert not labels(tr, "host") and not labels(tr, "thread"), tr["labels"]
    link = tests["Enabled as documented"]["links"]
    assert link == [{"name": "ENA-1", "url": "requirements.html#ENA-1", "type": "requirement"}], link
    page = (results / "requirements.html").read_text(encoding="utf-8")
    assert "id='ENA-1'" in page and "id='VER-1'" in page


def test_the_requirements_page_says_what_passed_failed_and_was_not_run(generated: tuple[Path, Path]) -> None:
    results, _ = generated
    page = (results / "requirements.html").read_text(encoding="utf-8")

    def status(rid: str) -> str:
        section = page.split(f"<section id='{rid}'>", 1)[1].split("</section>", 1)[0]
        return section.split("class='status ", 1)[1].split("'", 1)[0]

    assert [status(r) for r in ("ENA-1", "REG-1", "PRE-1", "PRE-2", "TS-1", "VER-1")] == \
        ["failed", "broken", "broken", "passed", "broken", "not run"]
    env = (results / "environment.properties").read_text(encoding="utf-8")
    assert "requirements=1 failed, 3 broken, 1 passed, 0 skipped, " in env, env


def test_the_failing_step_carries_the_cli_dialog_and_the_gui_page(generated: tuple[Path, Path]) -> None:
    _, report = generated
    failing = results_of(report)["Enabled as documented"]
    attached = step_attachments(failing)
    names = sorted(attached)
    cli = next(n for n in names if n.startswith("CLI dialog"))
    assert cli == 'CLI dialog (from the step: When I run "showconfig" in the CLI)', names
    folder = report / "data" / "attachments"

    def content(name: str) -> bytes:
        return (folder / f"{attached[name]['id']}{attached[name]['ext']}").read_bytes()

    assert b"showconfig" in content(cli) and b"Threat Response: Disabled" in content(cli)
    text_page = next(n for n in names if n.startswith("GUI page (text)"))
    assert text_page == "GUI page (text): esa1 GUI HTTP 200 OK", names
    assert b"Cloud Service Settings" in content(text_page) and b"Disabled" in content(text_page)
    every = b"".join(p.read_bytes() for p in folder.iterdir())
    assert ESA_PASSWORD.encode() not in every, "a secret reached an attachment"
    if browser() is None:
        pytest.skip("no headless Chromium here: the screenshot is attached only where one is installed")
    shot = "GUI page (screenshot): esa1 GUI"
    assert shot in names, names
    assert png_size(content(shot)) == (1280, 1000)
    blank = screenshot("<html><body></body></html>")
    assert blank is not None and len(content(shot)) > 2 * len(blank), "the screenshot looks blank"


def test_step_parameters_have_no_doubled_quotes(generated: tuple[Path, Path]) -> None:
    _, report = generated
    failing = results_of(report)["Enabled as documented"]
    params = [p for s in failing["steps"] for p in s.get("parameters", [])]
    assert {"name": "command", "value": "showconfig"} in [{"name": p["name"], "value": p["value"]} for p in params], \
        params


def test_the_chromium_screenshot_renders_offline() -> None:
    if browser() is None:
        pytest.skip("no headless Chromium here")
    from harness.report.screenshot import offline

    page = "<html><head><base href='https://esa1.example.com/'></head><body><h1>Hello</h1></body></html>"
    assert "<base" not in offline(page) and "default-src 'none'" in offline(page)
    data = screenshot(page)
    assert data is not None and png_size(data) == (1280, 1000)
    assert shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
