"""The testbed file: loading, credential inheritance, %ENV{NAME}, and one clear line per problem."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest

from harness.testbed import Testbed, TestbedError, load_testbed, parse_testbed, validate_data

from .support import (
    CTR_SECRET,
    DOCS_ENV,
    ESA_PASSWORD,
    SSE_API_KEY,
    docs_example_text,
    sample_testbed,
    self_signed_pem,
)


def problems(data: dict[str, Any] | str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(TestbedError) as info:
        if isinstance(data, str):
            parse_testbed(data, "tb.yaml", environ=environ or {})
        else:
            validate_data(data, "tb.yaml", environ=environ or {})
    assert "Traceback" not in str(info.value)
    return str(info.value).splitlines()


def change(path: str, value: Any, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """A copy of the base testbed with one field set (``value`` ``...`` deletes it)."""
    data = copy.deepcopy(data or sample_testbed())
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return data


# ---- valid testbeds -----------------------------------------------------------------------------------
def test_the_documented_example_loads(tmp_path: Path) -> None:
    testbed = parse_testbed(docs_example_text(), "testbed.md", environ=DOCS_ENV, check_files=False)
    esa1 = testbed.devices["esa1"]
    assert (esa1.kind, esa1.model, esa1.version, esa1.hostname) == ("esa", "C100V", "13.0.0-392", "esa1.example.com")
    assert esa1.connections.cli is not None and (esa1.connections.cli.host, esa1.connections.cli.port) == \
        ("10.0.0.5", 22)
    assert esa1.connections.names() == ["cli", "gui", "api", "smtp"]
    assert testbed.region == "nam" and testbed.is_simulator
    assert testbed.ctr_for("nam").client_id == "client-abcdef"  # type: ignore[union-attr]
    assert testbed.network.resolver_address == ("127.0.0.1", 53)
    assert testbed.deadlines.get("registration") == 600 and testbed.deadlines.poll_interval == 5


def test_device_credentials_override_the_testbed_default() -> None:
    testbed = parse_testbed(docs_example_text(), "testbed.md", environ=DOCS_ENV, check_files=False)
    assert testbed.devices["esa1"].credential().password == "esa1-own-pw"
    assert testbed.devices["esa1"].username == "admin"


def test_credentials_are_inherited_field_by_field() -> None:
    data = sample_testbed()
    data["devices"]["esa1"]["credentials"] = {"default": {"password": "only-the-password"},
                                              "enable": {"username": "root", "password": "enable-pw"}}
    testbed = validate_data(data, environ={})
    device = testbed.devices["esa1"]
    assert (device.username, device.password) == ("admin", "only-the-password")
    assert device.credential("enable").username == "root"
    assert device.credential("no-such-set").password == "only-the-password"  # pyATS: falls back to default


def test_sections_have_documented_defaults() -> None:
    data = sample_testbed()
    del data["deadlines"]
    testbed = validate_data(data, environ={})
    assert testbed.deadlines.model_dump() == {"cloud_ready": 600, "registration": 600, "deregistration": 300,
                                             "mail_tracked": 120, "poll_interval": 5}
    assert testbed.network.https_port == 443 and testbed.network.proxy is None
    assert testbed.deviations == {} and not testbed.is_simulator


def test_secrets_are_collected_for_masking() -> None:
    data = sample_testbed(network={"proxy": "http://user:proxy-pw-777@proxy.example.com:3128"})
    secrets = validate_data(data, environ={}).secrets()
    assert {ESA_PASSWORD, SSE_API_KEY, CTR_SECRET, "proxy-pw-777"} <= secrets
    assert "client-0001" not in secrets  # client IDs are identifiers, not secrets (unless read from %ENV)


def test_a_cluster_peer_password_written_in_the_testbed_is_a_secret_from_the_start() -> None:
    data = sample_testbed()
    data["deviations"] = {"cluster_peer": {"host": "198.18.0.9", "username": "admin", "password": "peer-pw-4242"}}
    assert "peer-pw-4242" in validate_data(data, environ={}).secrets()


def test_with_region_switches_to_a_described_region() -> None:
    data = sample_testbed()
    data["cloud"]["sse"]["eu"] = {"token": "eu-token-xyz"}
    testbed = validate_data(data, "tb.yaml", environ={})
    eu = testbed.with_region("eu")
    assert eu.region == "eu" and testbed.region == "nam"
    assert eu.source == "tb.yaml" and eu.secrets() == testbed.secrets()
    with pytest.raises(TestbedError, match=r"tb.yaml: cloud.sse: no entry for region 'apjc'"):
        testbed.with_region("apjc")


def test_simulator_block_keeps_fields_the_harness_does_not_know_yet() -> None:
    data = sample_testbed(simulator=True)
    data["testbed"]["simulator"]["proxy_url"] = "http://127.0.0.1:3128"
    data["testbed"]["simulator"]["new_service"] = "http://127.0.0.1:1"
    simulator = validate_data(data, environ={}).simulator
    assert simulator is not None and simulator.proxy_url == "http://127.0.0.1:3128"
    assert simulator.model_extra == {"new_service": "http://127.0.0.1:1"}


def test_ca_bundle_is_resolved_against_the_testbed_file(tmp_path: Path, tb_file: Any) -> None:
    (tmp_path / "ca.pem").write_bytes(self_signed_pem())
    path = tb_file(sample_testbed(network={"ca_bundle": "ca.pem"}))
    assert load_testbed(path).network.ca_bundle == str(tmp_path / "ca.pem")


# ---- %ENV{NAME} -----------------------------------------------------------------------------------------
def test_env_markup_resolves_anywhere_in_a_string() -> None:
    data = sample_testbed(network={"proxy": "http://proxyuser:%ENV{PROXY_PW}@proxy.example.com:%ENV{PROXY_PORT}"})
    data["devices"]["esa1"]["connections"]["cli"]["port"] = "%ENV{SSH_PORT}"
    testbed = validate_data(data, environ={"PROXY_PW": "pw-from-env", "PROXY_PORT": "3128", "SSH_PORT": "2200"})
    assert testbed.network.proxy == "http://proxyuser:pw-from-env@proxy.example.com:3128"
    assert testbed.devices["esa1"].connections.cli.port == 2200  # type: ignore[union-attr]
    assert {"pw-from-env", "3128", "2200"} <= testbed.secrets()  # every %ENV value is masked


def test_every_missing_variable_is_named_with_its_field() -> None:
    lines = problems(docs_example_text(), environ={"ESA_PASSWORD": "x" * 8})
    assert lines == [
        "tb.yaml: devices.esa1.credentials.default.password: environment variable ESA1_PASSWORD is not set",
        "tb.yaml: cloud.sse.nam.api_key: environment variable SSE_API_KEY is not set",
        "tb.yaml: cloud.ctr.nam.client_id: environment variable CTR_CLIENT_ID is not set",
        "tb.yaml: cloud.ctr.nam.client_secret: environment variable CTR_CLIENT_SECRET is not set",
    ]


def test_load_testbed_reads_os_environ(tb_file: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tb_file(change("testbed.credentials.default.password", "%ENV{CTRLAB_UNIT_PW}"))
    monkeypatch.delenv("CTRLAB_UNIT_PW", raising=False)
    with pytest.raises(TestbedError) as info:
        load_testbed(path)
    assert str(info.value) == (f"{path}: testbed.credentials.default.password: environment variable "
                               "CTRLAB_UNIT_PW is not set")
    monkeypatch.setenv("CTRLAB_UNIT_PW", "from-the-environment")
    assert load_testbed(path).devices["esa1"].password == "from-the-environment"


def test_malformed_markup_is_an_error() -> None:
    assert problems(change("testbed.credentials.default.password", "%ENV{not a name}")) == [
        "tb.yaml: testbed.credentials.default.password: malformed '%ENV{not a name}': write %ENV{NAME} with NAME a "
        "variable name (letters, digits, underscore)"]


# ---- malformed testbeds: one line per problem, naming file and field -----------------------------------
MALFORMED: list[tuple[str, dict[str, Any], str]] = [
    ("port not a number", change("devices.esa1.connections.cli.port", "abc"),
     "tb.yaml: devices.esa1.connections.cli.port: must be an integer between 1 and 65535 (got 'abc')"),
    ("port out of range", change("devices.esa1.connections.gui.port", 70000),
     "tb.yaml: devices.esa1.connections.gui.port: must be an integer between 1 and 65535 (got 70000)"),
    ("port a boolean", change("devices.esa1.connections.gui.port", True),
     "tb.yaml: devices.esa1.connections.gui.port: must be an integer between 1 and 65535 (got True)"),
    ("unknown kind", change("devices.esa1.kind", "wsa"),
     "tb.yaml: devices.esa1.kind: must be one of 'esa', 'sma' or 'gateway' (got 'wsa')"),
    ("misspelt field", change("devices.esa1.hostnme", "x"),
     "tb.yaml: devices.esa1.hostnme: unknown field: did you mean 'hostname'?"),
    ("misspelt secret field", change("testbed.credentials.default.pasword", "x"),
     "tb.yaml: testbed.credentials.default.pasword: unknown field: did you mean 'password'?"),
    ("unknown top-level section", change("devicez", {}),
     "tb.yaml: devicez: unknown field: did you mean 'devices'?"),
    ("missing hostname", change("devices.esa1.hostname", ...),
     "tb.yaml: devices.esa1.hostname: required field is missing"),
    ("missing cloud", change("cloud", ...), "tb.yaml: cloud: required field is missing"),
    ("no devices", change("devices", {}), "tb.yaml: devices: must not be empty"),
    ("devices not a mapping", change("devices", ["esa1"]), "tb.yaml: devices: must be a mapping (got a list)"),
    ("bad version", change("devices.esa1.version", "thirteen"),
     "tb.yaml: devices.esa1.version: must be an AsyncOS version like 13.0.0-392 (got 'thirteen')"),
    ("version as a YAML number", change("devices.esa1.version", 13.0),
     "tb.yaml: devices.esa1.version: must be text (got 13.0); quote it in the YAML file"),
    ("bad device name", change("devices", {"1st esa": sample_testbed()["devices"]["esa1"]}),
     "tb.yaml: devices: name '1st esa': must start with a letter and use only letters, digits, '_', '.' and '-'"),
    ("wrong protocol", change("devices.esa1.connections.cli.protocol", "telnet"),
     "tb.yaml: devices.esa1.connections.cli.protocol: must be one of 'ssh' (got 'telnet')"),
    ("no connections", change("devices.esa1.connections", {}),
     "tb.yaml: devices.esa1.connections: needs at least one of cli, gui, api, smtp"),
    ("unknown connection", change("devices.esa1.connections.console", {"host": "h", "port": 1}),
     "tb.yaml: devices.esa1.connections.console: unknown field (expected: cli, gui, api, smtp)"),
    ("empty host", change("devices.esa1.connections.cli.host", " "),
     "tb.yaml: devices.esa1.connections.cli.host: must not be empty"),
    ("no password anywhere", change("testbed.credentials.default.password", ...),
     "tb.yaml: devices.esa1: credentials.default has no password: set it under this device or under "
     "testbed.credentials.default"),
    ("region unknown", change("cloud.region", "us"), "tb.yaml: cloud.region: must be one of 'nam', 'eu' or 'apjc' "
     "(got 'us')"),
    ("region without SSE", change("cloud.region", "eu"),
     "tb.yaml: cloud.sse: no entry for the testbed's region 'eu' (cloud.region)"),
    ("SSE half configured", change("cloud.sse", {"nam": {"admin_url": "https://admin.sse.itd.cisco.com"}}),
     "tb.yaml: cloud.sse.nam: needs admin_url and api_key (the SSE admin API) or token (a registration token "
     "made in the portal); missing: api_key"),
    ("SSE both ways", change("cloud.sse", {"nam": {"token": "t" * 8, "api_key": "k" * 8,
                                                    "admin_url": "https://a.example.com"}}),
     "tb.yaml: cloud.sse.nam: give either admin_url and api_key (the SSE admin API) or token (a registration "
     "token made in the portal), not both"),
    ("SSE region key unknown", change("cloud.sse", {"nam": {"token": "t" * 8}, "us": {"token": "t" * 8}}),
     "tb.yaml: cloud.sse: must be one of 'nam', 'eu' or 'apjc' (got 'us')"),
    ("URL without scheme", change("cloud.ctr.nam.base_url", "visibility.amp.cisco.com"),
     "tb.yaml: cloud.ctr.nam.base_url: must be an http:// or https:// URL with a host (got "
     "'visibility.amp.cisco.com')"),
    ("resolver without port", sample_testbed(network={"resolver": "10.0.0.53"}),
     "tb.yaml: network.resolver: must be host:port, e.g. 127.0.0.1:53 (got '10.0.0.53')"),
    ("missing CA bundle", sample_testbed(network={"ca_bundle": "/nonexistent/ca.pem"}),
     "tb.yaml: network.ca_bundle: file not found: /nonexistent/ca.pem"),
    ("negative deadline", change("deadlines.registration", -5),
     "tb.yaml: deadlines.registration: must be a number of seconds greater than 0 (got -5)"),
    ("unknown deadline", change("deadlines.registation", 5),
     "tb.yaml: deadlines.registation: unknown field: did you mean 'registration'?"),
    ("poll interval too long", change("deadlines.poll_interval", 30),
     "tb.yaml: deadlines: poll_interval (30 s) is longer than the cloud_ready deadline (5 s)"),
    ("simulator without control URL", sample_testbed(testbed={"simulator": {"version": "1"}}),
     "tb.yaml: testbed.simulator.control_url: required field is missing"),
]


@pytest.mark.parametrize(("data", "expected"), [pytest.param(d, e, id=i) for i, d, e in MALFORMED])
def test_malformed_testbed_gives_one_clear_line(data: dict[str, Any], expected: str) -> None:
    assert expected in problems(data)


def test_all_problems_are_reported_at_once() -> None:
    data = change("devices.esa1.kind", "wsa", change("devices.esa1.connections.cli.port", "abc"))
    lines = problems(data)
    assert len(lines) == 2 and all(line.startswith("tb.yaml: devices.esa1.") for line in lines)


def test_a_secret_is_never_quoted_in_an_error() -> None:
    lines = problems(change("testbed.credentials.default.password", 12345678))
    assert lines == ["tb.yaml: testbed.credentials.default.password: must be text (got a number, value hidden); "
                     "quote it in the YAML file"]
    lines = problems(change("cloud.sse.nam.api_key", ["a-secret-list-value"]))
    assert "a-secret-list-value" not in "\n".join(lines)


def test_an_env_value_is_never_quoted_in_an_error() -> None:
    data = change("devices.esa1.connections.cli.port", "%ENV{SSH_PORT}")
    lines = problems(data, environ={"SSH_PORT": "not-a-port-but-secret"})
    assert lines == ["tb.yaml: devices.esa1.connections.cli.port: must be an integer between 1 and 65535 "
                     "(value hidden)"]


# ---- YAML-level problems ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("", "tb.yaml: the file is empty: a testbed needs at least devices and cloud", id="empty"),
    pytest.param("- just\n- a list\n", "tb.yaml: must be a mapping with testbed, devices, cloud, ... (got a list)",
                 id="not-a-mapping"),
    pytest.param("devices:\n  esa1: {kind: [esa\n", "tb.yaml: line 3, column 1: YAML syntax error: while parsing a "
                 "flow sequence: expected ',' or ']', but got '<stream end>'", id="unclosed-flow"),
    pytest.param("devices:\n  esa1:\n    kind: esa\n  esa1:\n    kind: sma\n",
                 "tb.yaml: line 4, column 3: YAML syntax error: duplicate key 'esa1' (first written on line 2)",
                 id="duplicate-device"),
    pytest.param("devices:\n\tesa1: {}\n", "tb.yaml: line 2, column 1: YAML syntax error", id="tab"),
])
def test_yaml_problems_name_the_line(text: str, expected: str) -> None:
    lines = problems(text)
    assert len(lines) == 1 and lines[0].startswith(expected), lines


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(TestbedError, match=r"nope.yaml: no such file$"):
        load_testbed(tmp_path / "nope.yaml")
    with pytest.raises(TestbedError, match=r"is a directory, not a testbed file$"):
        load_testbed(tmp_path)


def test_error_names_the_file_as_the_user_wrote_it(tb_file: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tb_file(change("devices.esa1.kind", "wsa"))
    monkeypatch.chdir(path.parent)
    with pytest.raises(TestbedError) as info:
        load_testbed("tb.yaml")
    assert str(info.value).startswith("tb.yaml: devices.esa1.kind: ")
    assert info.value.source == "tb.yaml" and len(info.value.problems) == 1


def test_testbed_is_not_collected_as_a_test_class() -> None:
    assert Testbed.__test__ is False and TestbedError.__test__ is False  # type: ignore[attr-defined]
    assert os.environ.get("PYTEST_CURRENT_TEST")  # sanity: we are inside pytest
