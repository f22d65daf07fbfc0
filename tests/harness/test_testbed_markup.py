"""pyATS habits in the testbed: lazy ``%ENV{}`` (only the fields a command uses), ``%ASK{}`` on a terminal,
``ip:`` for ``host:`` (issue 16)."""

from __future__ import annotations

import copy
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from harness import cli
from harness.testbed import TestbedError, fields_under, load_testbed, validate_data

from .support import sample_testbed, write_testbed

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE_RESOLVER = "127.0.0.1:9"  # discard port: no DNS answer, the probes fail fast


def with_password(markup: str, **network: Any) -> dict[str, Any]:
    data = sample_testbed()
    data["testbed"]["credentials"]["default"]["password"] = markup
    data["network"] = {"resolver": UNREACHABLE_RESOLVER, **network}
    return data


def env_without(*names: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in names}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return env


# ---- lazy %ENV ---------------------------------------------------------------------------------------------
def test_a_field_not_needed_keeps_its_markup_and_does_not_stop_the_load() -> None:
    data = with_password("%ENV{CTRLAB_UNSET_PW}")
    with pytest.raises(TestbedError, match="environment variable CTRLAB_UNSET_PW is not set"):
        validate_data(data, "tb.yaml", environ={})  # every field needed: the default
    testbed = validate_data(data, "tb.yaml", environ={}, needed=fields_under("network", "cloud.region"))
    assert testbed.network.resolver == UNREACHABLE_RESOLVER
    assert testbed.devices["esa1"].password == "%ENV{CTRLAB_UNSET_PW}"  # unresolved, never a made-up value


def test_a_needed_field_must_resolve() -> None:
    data = with_password("pw", proxy="http://u:%ENV{CTRLAB_PROXY_PW}@127.0.0.1:3128")
    with pytest.raises(TestbedError) as info:
        validate_data(data, "tb.yaml", environ={}, needed=fields_under("network", "cloud.region"))
    assert str(info.value) == "tb.yaml: network.proxy: environment variable CTRLAB_PROXY_PW is not set"


def test_an_unset_variable_in_a_number_field_is_named_once() -> None:
    data = copy.deepcopy(sample_testbed())
    data["devices"]["esa1"]["connections"]["cli"]["port"] = "%ENV{CTRLAB_SSH_PORT}"
    with pytest.raises(TestbedError) as info:
        validate_data(data, "tb.yaml", environ={}, needed=fields_under("network"))
    # the model cannot be built without it: said once, as the missing variable, not as "must be an integer"
    assert str(info.value) == ("tb.yaml: devices.esa1.connections.cli.port: environment variable CTRLAB_SSH_PORT "
                               "is not set")


def test_netcheck_runs_although_the_device_password_variable_is_unset(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CTRLAB_UNSET_PW", raising=False)
    path = write_testbed(tmp_path / "tb.yaml", with_password("%ENV{CTRLAB_UNSET_PW}"))
    code = cli.main(["netcheck", "--testbed", str(path), "--timeout", "0.5", "--no-raw"])
    out, err = capsys.readouterr()
    assert code == 1, err  # ran: the FQDNs do not resolve through the dead resolver (2 would be a refused testbed)
    assert "api-sse.cisco.com" in out and "CTRLAB_UNSET_PW" not in out + err


def test_validate_reports_unset_variables_as_errors_or_with_the_flag_as_warnings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CTRLAB_UNSET_PW", raising=False)
    path = write_testbed(tmp_path / "tb.yaml", with_password("%ENV{CTRLAB_UNSET_PW}"))
    assert cli.main(["testbed", "validate", str(path)]) == 1
    assert capsys.readouterr().err == (f"{path}: testbed.credentials.default.password: environment variable "
                                       "CTRLAB_UNSET_PW is not set\n")
    assert cli.main(["testbed", "validate", "--allow-unset", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out == f"{path}: ok (1 device, region nam)\n"
    assert err == (f"{path}: warning: testbed.credentials.default.password: environment variable CTRLAB_UNSET_PW "
                   "is not set (allowed by --allow-unset; a command that uses this field refuses the file)\n")


# ---- %ASK{prompt} ----------------------------------------------------------------------------------------
def test_ask_is_asked_once_per_prompt_and_masked() -> None:
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return "typed-secret-1234"

    data = with_password("%ASK{ESA admin password}")
    data["cloud"]["ctr"]["nam"]["client_secret"] = "%ASK{ESA admin password}"
    testbed = validate_data(data, "tb.yaml", environ={}, ask=ask)
    assert asked == ["ESA admin password: "]
    assert testbed.devices["esa1"].password == "typed-secret-1234"
    assert "typed-secret-1234" in testbed.secrets()


def test_an_empty_ask_prompt_names_the_field() -> None:
    asked: list[str] = []
    validate_data(with_password("%ASK{}"), "tb.yaml", environ={}, ask=lambda p: asked.append(p) or "x")
    assert asked == ["testbed.credentials.default.password: "]


def test_ask_is_not_asked_for_a_field_the_command_does_not_use() -> None:
    def ask(prompt: str) -> str:
        raise AssertionError(f"asked {prompt!r}")

    testbed = validate_data(with_password("%ASK{ESA admin password}"), "tb.yaml", environ={},
                            needed=fields_under("network", "cloud.region"), ask=ask)
    assert testbed.network.resolver == UNREACHABLE_RESOLVER


def test_ask_without_a_terminal_is_refused_in_one_line(tmp_path: Path) -> None:
    path = write_testbed(tmp_path / "tb.yaml", with_password("%ASK{ESA admin password}"))
    # start_new_session: no controlling terminal, as in CI or cron
    done = subprocess.run([sys.executable, "-m", "harness.cli", "doctor", "--testbed", str(path)],
                          env=env_without(), capture_output=True, text=True, timeout=60, start_new_session=True,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert done.stderr == (f"{path}: testbed.credentials.default.password: %ASK{{ESA admin password}} needs a "
                           "terminal to ask on (no terminal to ask on); run the command in a terminal, or write "
                           "%ENV{NAME} and set the variable\n")


def _talk(fd: int, expect: bytes, deadline: float) -> bytes:
    seen = b""
    while expect not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"waited for {expect!r}, saw {seen!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_ask_on_a_terminal_reads_without_echo(tmp_path: Path) -> None:
    path = write_testbed(tmp_path / "tb.yaml", with_password("%ASK{ESA admin password}"))
    script = ("from harness.testbed import load_testbed; "
              f"t = load_testbed({str(path)!r}); again = load_testbed({str(path)!r}); "
              "print('same', again.devices['esa1'].password == t.devices['esa1'].password); "
              "print('length', len(t.devices['esa1'].password))")
    pid, fd = pty.fork()
    if pid == 0:  # the child: a session whose controlling terminal is the pty
        os.execve(sys.executable, [sys.executable, "-c", script], env_without())
    deadline = time.monotonic() + 60
    try:
        _talk(fd, b"ESA admin password: ", deadline)
        os.write(fd, b"typed-on-the-tty\n")
        rest = _talk(fd, b"length 16", deadline)  # the second load (the plugin's, then the backend's) asks no more
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    assert b"typed-on-the-tty" not in rest  # getpass: no echo
    assert b"same True" in rest and b"password:" not in rest


# ---- ip: ----------------------------------------------------------------------------------------------------
def test_pyats_ip_gets_did_you_mean_host() -> None:
    data = sample_testbed()
    cli_conn = data["devices"]["esa1"]["connections"]["cli"]
    cli_conn["ip"] = cli_conn.pop("host")
    with pytest.raises(TestbedError) as info:
        validate_data(data, "tb.yaml", environ={})
    assert str(info.value) == ("tb.yaml: devices.esa1.connections.cli.ip: unknown field 'ip' (pyATS's name for it): "
                               "did you mean 'host'?")


def test_load_testbed_by_default_needs_every_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CTRLAB_UNSET_PW", raising=False)
    path = write_testbed(tmp_path / "tb.yaml", with_password("%ENV{CTRLAB_UNSET_PW}"))
    with pytest.raises(TestbedError, match="CTRLAB_UNSET_PW is not set"):
        load_testbed(path)


def test_validate_never_asks_and_says_when_ask_fields_are_asked(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def no_terminal(prompt: str) -> str:
        raise AssertionError("validate asked")

    monkeypatch.setattr("harness.testbed.envsubst.ask_on_terminal", no_terminal)
    path = write_testbed(tmp_path / "tb.yaml", with_password("%ASK{ESA admin password}"))
    assert cli.main(["testbed", "validate", str(path)]) == 0
    assert capsys.readouterr().out == (f"{path}: ok (1 device, region nam)\n"
                                       f"{path}: testbed.credentials.default.password: asked when a command uses it "
                                       "('ESA admin password', on the terminal)\n")
