"""``ctrlab testbed validate|schema`` and ``ctrlab sim up``; the JSON schema matches the model."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from harness import cli
from harness.testbed import json_schema

from .support import DOCS_ENV, docs_example_text, sample_testbed


def test_validate_ok(tb_file: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = tb_file()
    assert cli.main(["testbed", "validate", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: ok (1 device, region nam)\n"


def test_validate_counts_devices_and_names_the_region(tb_file: Any, capsys: pytest.CaptureFixture[str]) -> None:
    data = sample_testbed()
    data["devices"]["esa2"] = data["devices"]["esa1"]
    data["cloud"]["sse"]["eu"] = {"token": "eu-token"}
    data["cloud"]["region"] = "eu"
    assert cli.main(["testbed", "validate", str(tb_file(data))]) == 0
    assert capsys.readouterr().out.endswith(": ok (2 devices, region eu)\n")


def test_validate_errors_exit_1_without_traceback(tb_file: Any, capsys: pytest.CaptureFixture[str]) -> None:
    good = tb_file()
    data = sample_testbed()
    data["devices"]["esa1"]["connections"]["cli"]["port"] = "abc"
    bad = tb_file(data, name="bad.yaml")
    assert cli.main(["testbed", "validate", str(good), str(bad)]) == 1
    out, err = capsys.readouterr()
    assert out == f"{good}: ok (1 device, region nam)\n"
    assert err == f"{bad}: devices.esa1.connections.cli.port: must be an integer between 1 and 65535 (got 'abc')\n"


def test_validate_as_a_console_script(tb_file: Any) -> None:
    data = sample_testbed()
    data["testbed"]["credentials"]["default"]["password"] = "%ENV{CTRLAB_CLI_TEST_PW}"
    path = tb_file(data)
    env = {k: v for k, v in os.environ.items() if k != "CTRLAB_CLI_TEST_PW"}
    done = subprocess.run([sys.executable, "-m", "harness.cli", "testbed", "validate", str(path)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (f"{path}: testbed.credentials.default.password: environment variable CTRLAB_CLI_TEST_PW "
                           "is not set\n")


def test_a_reader_that_goes_away_stops_the_command_quietly() -> None:
    """`ctrlab ... | head -3`: when the pipe's reader has gone, no traceback, the exit status of SIGPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # gone before the first write: every write fails with EPIPE
    try:
        done = subprocess.run([sys.executable, "-m", "harness.cli", "testbed", "schema"], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert done.returncode == 141 and done.stderr == "", done.stderr


def test_schema_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["testbed", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "ctrlab testbed"
    assert set(schema["required"]) == {"devices", "cloud"}
    assert {"testbed", "devices", "cloud", "network", "deadlines", "deviations"} <= set(schema["properties"])
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_accepts_the_documented_example_and_env_markup() -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    document = yaml.safe_load(docs_example_text())
    document["devices"]["esa1"]["connections"]["cli"]["port"] = "%ENV{SSH_PORT}"  # markup, as editors see it
    assert not list(validator.iter_errors(document))


def test_schema_rejects_what_the_loader_rejects() -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    data = sample_testbed()
    data["devices"]["esa1"]["kind"] = "wsa"
    data["devices"]["esa1"]["hostnme"] = "typo"
    data["devices"]["esa1"]["connections"]["cli"]["port"] = 0
    messages = " ".join(e.message for e in validator.iter_errors(data))
    assert "'wsa' is not one of" in messages and "hostnme" in messages and "0" in messages
    assert DOCS_ENV  # the same example loads with the environment (test_testbed)


def test_sim_up_execs_the_lab_in_the_foreground(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, list[str]]] = []

    def fake_execv(path: str, argv: list[str]) -> None:
        calls.append((path, argv))
        raise SystemExit(0)  # execv does not return

    monkeypatch.setattr(os, "execv", fake_execv)
    with pytest.raises(SystemExit):
        cli.main(["sim", "up", "--appliances", "3", "--testbed-out", "tb.yaml", "--speed", "100"])
    assert calls == [(sys.executable, [sys.executable, "-m", "virtual_appliances.lab", "--appliances", "3",
                                       "--testbed-out", "tb.yaml", "--speed", "100"])]


def test_unknown_arguments_of_other_commands_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["testbed", "schema", "--bogus"])
    assert info.value.code == 2 and "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_every_command_group_is_one_function() -> None:
    parser = cli.build_parser()
    groups = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert set(groups) == {"sim", "testbed", "steps", "netcheck", "doctor", "c100v"}
    assert len(cli.COMMANDS) == len(groups)


def test_c100v_up_names_a_missing_image_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "t.yaml"
    code = cli.main(["c100v", "up", "--image", str(tmp_path / "c100v.qcow2"), "--testbed-out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert "--image" in err and "c100v.qcow2: no such file" in err and "Traceback" not in err
    assert not out.exists()


def test_console_script_is_installed() -> None:
    from importlib.metadata import entry_points

    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts.get("ctrlab") == "harness.cli:main"
    assert Path(sys.executable).exists()


# ---- what users of argparse tools expect: --version, descriptions, defaults, one region order --------------
def _parsers(parser: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every parser of the command tree, with its command path."""
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _parsers(sub, (*path, name))
    return found


def test_version_is_the_packages(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"ctrlab {version('ctrlab')}\n"


def test_every_command_has_a_description_and_shows_its_defaults() -> None:
    checked = 0
    for path, parser in _parsers(cli.build_parser()):
        if path == ("sim", "up"):
            continue  # the lab's own parser answers its --help
        assert parser.description, f"ctrlab {' '.join(path)} --help has no description"
        formatter = parser._get_formatter()
        for action in parser._actions:
            if action.option_strings and action.default not in (None, False, argparse.SUPPRESS) \
                    and not action.required and action.help is not argparse.SUPPRESS:
                text = formatter._get_help_string(action)
                assert "default" in text, f"ctrlab {' '.join(path)} {action.option_strings[-1]}: {text}"
                checked += 1
    assert checked >= 4  # netcheck --timeout, doctor --timeout, c100v up --name and --boot-timeout at least


def test_the_default_is_shown_once(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["c100v", "up", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "device name in the testbed (default: esa1)" in out
    assert "(default: None)" not in out and "(default: 1800.0)" in out


def _region_choices(parser: argparse.ArgumentParser) -> list[str] | None:
    for action in parser._actions:
        if "--region" in action.option_strings:
            return list(action.choices or [])
    return None


def test_one_region_order_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    # The documents' order (REQUIREMENTS.md PRE-3, ENA-3): Americas/NAM, EU, APJC.
    expected = ["nam", "eu", "apjc"]
    orders = {" ".join(path): choices for path, parser in _parsers(cli.build_parser())
              if (choices := _region_choices(parser)) is not None}
    assert {"netcheck", "doctor"} <= set(orders)
    from virtual_appliances import lab

    with pytest.raises(SystemExit):
        lab.parse_args(["--testbed-out", "x.yaml", "--region", "?"])
    choices = capsys.readouterr().err.split("choose from ", 1)[1].split(")")[0]
    orders["sim up"] = [c.strip(" '") for c in choices.split(",")]
    from harness import tags
    from harness.testbed import REGIONS

    orders["pytest --region"] = list(tags.REGIONS)
    orders["testbed cloud.region"] = list(REGIONS)
    assert orders == dict.fromkeys(orders, expected)


def test_help_of_every_command_runs(capsys: pytest.CaptureFixture[str]) -> None:
    for path, _ in _parsers(cli.build_parser()):
        if path == ("sim", "up"):
            continue
        with pytest.raises(SystemExit) as info:
            cli.main([*path, "--help"])
        assert info.value.code == 0
        assert f"usage: ctrlab {' '.join(path)}".rstrip() in capsys.readouterr().out
