"""What the check reads from a testbed, and how it refuses one it cannot use."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.net import NetSettings, ProxySpec, SettingsError
from harness.net.__main__ import main as netcheck_main
from harness.net.settings import parse_resolver


@pytest.mark.parametrize(("value", "expected"), [
    ("127.0.0.1:5353", ("127.0.0.1", 5353)),
    ("10.0.0.53", ("10.0.0.53", 53)),
    ("[::1]:5353", ("::1", 5353)),
    ({"host": "10.0.0.1", "port": 54}, ("10.0.0.1", 54)),
    (("10.0.0.1", "55"), ("10.0.0.1", 55)),
    (None, None),
])
def test_resolver_forms(value: object, expected: tuple[str, int] | None) -> None:
    assert parse_resolver(value) == expected


def test_a_bad_resolver_port_is_refused() -> None:
    with pytest.raises(SettingsError, match="host:port"):
        parse_resolver("127.0.0.1:dns")


def test_from_a_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETCHECK_TEST_PW", "s3cret")
    settings = NetSettings.from_testbed({
        "cloud": {"region": "EU"},
        "network": {"resolver": "127.0.0.1:5353", "ca_bundle": "/tmp/ca.pem", "https_port": 8443,
                    "proxy": "http://user:%ENV{NETCHECK_TEST_PW}@127.0.0.1:3128"}})
    assert settings.region == "eu" and settings.https_port == 8443 and settings.ca_bundle == "/tmp/ca.pem"
    assert settings.proxy == ProxySpec("127.0.0.1", 3128, "user", "s3cret")
    assert settings.proxy.display == "http://127.0.0.1:3128"  # never the credentials
    assert "s3cret" not in repr(settings)


def test_a_missing_environment_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NETCHECK_NOT_SET", raising=False)
    with pytest.raises(SettingsError, match="NETCHECK_NOT_SET"):
        NetSettings.from_testbed({"network": {"proxy": "http://u:%ENV{NETCHECK_NOT_SET}@p:3128"}})


def test_a_proxy_that_is_not_http_is_refused() -> None:
    with pytest.raises(SettingsError, match="http://"):
        ProxySpec.parse("socks5://u:pw@proxy:1080")


def test_the_command_line_refuses_an_unusable_testbed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert netcheck_main(["--testbed", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml" in capsys.readouterr().err
    assert netcheck_main(["--testbed", str(tmp_path / "missing.yaml"), "--timeout", "0"]) == 2
