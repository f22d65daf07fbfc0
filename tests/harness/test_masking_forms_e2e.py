"""End to end: appliance passwords with every quote and escape character, set in the testbed through
``%ENV``, go through a failing scenario that prints, logs, attaches, quotes and encodes them, and
whose steps take a fixture object holding them. No output file and no terminal line may hold any
form of any of them: raw, Python repr (``repr``, ``ascii``, bytes), JSON (``ensure_ascii`` on and
off), URL encoding (``quote``, ``quote_plus``), shell quoting, HTML escaping, and the base64 of
``user:password`` of an ``Authorization: Basic`` header (issue 15, item 2)."""

from __future__ import annotations

import base64
import html
import json
import shlex
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from .support import make_project, run, sample_testbed, write_testbed

pytest_plugins = ["pytester"]

USER = "admin"
PASSWORDS = {
    "ESA1_PW": "Pa&s<w>\"o%rd +x'é\\z",  # both quotes, a backslash, non-ASCII, URL and HTML specials
    "ESA2_PW": "uni\\u00e9-Pw\\x41'q",  # a backslash-u sequence (literally), a backslash-x one, a quote
    "ESA3_PW": "nl-Pw\nsecond\tline-x",  # a newline and a tab
}


def forms(password: str) -> dict[str, str]:
    """Every form to look for, computed with the standard library (not with the harness's code)."""
    found = {
        "raw": password,
        "repr": repr(password)[1:-1],
        "repr, single quotes forced": repr(password + "'\"")[1:-4],
        "ascii": ascii(password)[1:-1],
        "bytes repr": repr(password.encode())[2:-1],
        "json": json.dumps(password)[1:-1],
        "json, ensure_ascii off": json.dumps(password, ensure_ascii=False)[1:-1],
        "quote": quote(password, safe=""),
        "quote, / safe": quote(password),
        "quote_plus": quote_plus(password),
        "shlex.quote": shlex.quote(password),
        "html.escape": html.escape(password),
        "html.escape, quotes kept": html.escape(password, quote=False),
        "basic auth": base64.b64encode(f"{USER}:{password}".encode()).decode(),
    }
    for n, line in enumerate(password.splitlines()):
        if len(password.splitlines()) > 1:
            found[f"line {n + 1}"] = line  # a line diff shows a multi-line value line by line
    return found


FEATURE = """\
    Feature: Passwords with quotes and escapes
      @req:REG-2
      Scenario: A failing scenario that handles the appliance passwords
        Given the appliances of the lab
        When I log in to esa1 as "admin"
        And every password is printed, logged, attached, quoted and encoded
        Then the passwords of esa1 and esa2 are equal
    """

STEPS = textwrap.dedent("""\
    import base64
    import html
    import json
    import logging
    import shlex
    import sys
    from dataclasses import dataclass, field
    from urllib.parse import quote, quote_plus, urlencode

    import allure
    import pytest

    from harness.report import attach_json, attach_text

    log = logging.getLogger("harness.appliance.asyncos_cli")


    @dataclass
    class World:  # what the suite's ``world`` fixture is: an object that holds the lab's devices
        devices: dict
        passwords: list = field(default_factory=list)


    @pytest.fixture
    def world(lab):
        devices = {name: lab.device(name) for name in ("esa1", "esa2", "esa3")}
        return World(devices, [d.password for d in devices.values()])


    @given("the appliances of the lab")
    def _(world):
        assert len(world.passwords) == 3


    @when(parsers.parse('I log in to {device} as "{user}"'))
    def _(world, device, user):
        password = world.devices[device].password
        print("login", user, password, repr(password))


    @when("every password is printed, logged, attached, quoted and encoded")
    def _(world):
        for name, device in world.devices.items():
            pw, user = device.password, device.username
            basic = base64.b64encode(f"{user}:{pw}".encode()).decode()
            texts = [pw, repr(pw), ascii(pw), repr(pw.encode()), json.dumps(pw), json.dumps(pw, ensure_ascii=False),
                     quote(pw, safe=""), quote(pw), quote_plus(pw), urlencode({"passphrase": pw}), shlex.quote(pw),
                     f"ssh {shlex.quote(pw)}", html.escape(pw), html.escape(pw, quote=False),
                     f"Authorization: Basic {basic}", repr({"password": pw}), json.dumps({"password": pw})]
            for text in texts:
                print(name, text)
                print(name, text, file=sys.stderr)
                log.warning("%s sent %s", name, text)
            attach_text(f"{name} texts", "\\n".join(texts))
            attach_json(f"{name} json", {"texts": texts})
            allure.attach("\\n".join(texts), name=f"{name} raw")  # straight to Allure, past the helpers


    @then("the passwords of esa1 and esa2 are equal")
    def _(world):
        first, second = world.devices["esa1"].password, world.devices["esa2"].password
        third = world.devices["esa3"].password
        assert first + "\\n" + third == second + "\\n" + third, f"{first!r} != {second!r}, {third!r}"
    """)


def _testbed() -> dict[str, Any]:
    data = sample_testbed()
    esa1 = data["devices"]["esa1"]
    for n in (1, 2, 3):
        device = json.loads(json.dumps(esa1))
        device["hostname"] = f"esa{n}.example.com"
        device["credentials"] = {"default": {"password": f"%ENV{{ESA{n}_PW}}"}}
        data["devices"][f"esa{n}"] = device
    return data


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _readable(path: Path) -> list[str]:
    """The file's text, and what a reader of it sees: JSON strings decoded, XML unescaped."""
    text = path.read_text(encoding="utf-8", errors="replace")
    texts = [text]
    if path.suffix == ".json":
        texts += _strings(json.loads(text))
    if path.suffix == ".xml":
        root = ET.fromstring(text)
        texts += [t for el in root.iter() for t in (el.text or "", el.tail or "", *el.attrib.values())]
    return texts


def _run_failing_scenario(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                          *args: str) -> pytest.RunResult:
    for name, value in PASSWORDS.items():
        monkeypatch.setenv(name, value)
    make_project(pytester, FEATURE, STEPS)
    write_testbed(pytester.path / "tb.yaml", _testbed())
    result = run(pytester, "--testbed", "tb.yaml", *args)
    result.assert_outcomes(failed=1)
    return result


def test_every_form_of_every_password_is_masked_everywhere(pytester: pytest.Pytester,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run_failing_scenario(pytester, monkeypatch, "--junitxml", "out/junit.xml", "-o", "junit_logging=all",
                                   "--alluredir", "out/allure", "-rA", "-vv", "-l", "--log-cli-level=INFO",
                                   "--log-file", "out/run.log", "--log-file-level=DEBUG")
    out = pytester.path / "out"
    files = sorted(p for p in out.rglob("*") if p.is_file())
    terminal = result.stdout.str() + "\n" + result.stderr.str()

    # The scenario went through every path: the failure, the live log, the attachments, the junit log.
    assert "AssertionError" in terminal and "sent ***" in terminal and "login admin ***" in terminal
    names = {p.name for p in files}
    assert {"junit.xml", "run.log", "categories.json", "environment.properties"} <= names
    allure_text = "\n".join(t for p in files if p.parent.name == "allure" for t in _readable(p))
    assert "esa1 texts" in allure_text and "esa3 raw" in allure_text

    leaks = []
    for env, password in PASSWORDS.items():
        for form, shown in forms(password).items():
            where = [str(p.relative_to(out)) for p in files if any(shown in t for t in _readable(p))]
            if shown in terminal:
                where.append("terminal")
            if where:
                leaks.append(f"{env} as {form} {shown!r}: {', '.join(where)}")
    assert not leaks, "password forms found in outputs:\n" + "\n".join(leaks)
    assert "Authorization: Basic ***" in allure_text


def test_steps_show_their_own_arguments_not_fixtures(pytester: pytest.Pytester,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """allure-pytest-bdd records step arguments as parameters: the fixture object must not be one."""
    _run_failing_scenario(pytester, monkeypatch, "--alluredir", "allure")
    results = [json.loads(p.read_text()) for p in (pytester.path / "allure").glob("*-result.json")]
    steps = {s["name"]: s.get("parameters", []) for r in results for s in r.get("steps", [])}
    assert steps['When I log in to esa1 as "admin"'] == [{"name": "device", "value": "esa1"},
                                                          {"name": "user", "value": "admin"}]
    assert all(p["name"] != "world" for params in steps.values() for p in params), steps
