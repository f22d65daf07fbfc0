"""Bounded testbed loading: size, alias expansion and depth limits, and values that must be what they
name (a host, a readable path, a PEM certificate bundle), each refused in one line naming file and field."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import pytest

from harness.testbed import TestbedError, load_testbed, parse_testbed, validate_data
from harness.testbed.loader import MAX_BYTES, MAX_DEPTH, MAX_NODES

from .support import sample_testbed, self_signed_pem


def one_line(run: Any) -> str:
    started = time.perf_counter()
    with pytest.raises(TestbedError) as info:
        run()
    elapsed = time.perf_counter() - started
    lines = str(info.value).splitlines()
    assert len(lines) == 1, lines[:5]
    assert elapsed < 2.0, f"took {elapsed:.2f} s"
    return lines[0]


def billion_laughs(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_testbed_is_refused_in_milliseconds(tmp_path: Path) -> None:
    text = billion_laughs(8)
    assert len(text) < 4096
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    started = time.perf_counter()
    line = one_line(lambda: load_testbed(path))
    assert time.perf_counter() - started < 0.2
    assert line == f"{path}: more than {MAX_NODES:,} values once its aliases (*name) are expanded (the limit; " \
                   "a YAML alias bomb?)"


def test_a_self_referencing_alias_is_refused() -> None:
    assert "aliases (*name) are expanded" in one_line(lambda: parse_testbed("a: &a [*a]\n", "tb.yaml"))


def test_ordinary_aliases_still_work() -> None:
    text = ("creds: &creds {default: {username: admin, password: pw}}\n"
            "testbed: {credentials: *creds}\n")
    with pytest.raises(TestbedError) as info:
        parse_testbed(text, "tb.yaml")
    assert "aliases" not in str(info.value) and "devices: required field is missing" in str(info.value)


@pytest.mark.parametrize("text", [
    "a: " + "[" * 50_000 + "]" * 50_000 + "\n",
    "a: " + "{b: " * 50_000 + "1" + "}" * 50_000 + "\n",
    "a:\n" + "- " * 50_000 + "x\n",
], ids=["flow-lists", "flow-maps", "block-lists"])
def test_50000_deep_nesting_is_one_line_not_a_recursion_error(text: str) -> None:
    line = one_line(lambda: parse_testbed(text, "deep.yaml"))
    assert line.startswith("deep.yaml: line ") and line.endswith(f"nested deeper than {MAX_DEPTH} levels (the limit)")


def test_a_file_over_the_size_cap_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("# padding\n" * (MAX_BYTES // 10 + 1))
    assert one_line(lambda: load_testbed(path)) == f"{path}: larger than 1024 KiB (the limit for a testbed file)"


def with_field(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(sample_testbed())
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    node[last] = value
    return data


@pytest.mark.parametrize(("field", "value"), [
    ("devices.esa1.connections.cli.host", "127.0.0.1\n"),
    ("devices.esa1.connections.cli.host", "esa1;rm -rf /"),
    ("devices.esa1.connections.gui.host", "$(touch /tmp/x)"),
    ("devices.esa1.connections.cli.host", "esa1\x1b[2J"),
    ("devices.esa1.connections.cli.host", "-oProxyCommand=x"),
    ("devices.esa1.hostname", "esa1 example com"),
])
def test_a_hostname_must_be_a_host_name_or_an_ip(field: str, value: str) -> None:
    line = one_line(lambda: validate_data(with_field(field, value), "tb.yaml", environ={}))
    assert line.startswith(f"tb.yaml: {field}: must be a host name (RFC 1123")


@pytest.mark.parametrize("value", ["127.0.0.1", "::1", "esa1.example.com", "localhost", "c100v-1.lab"])
def test_real_host_names_and_addresses_are_accepted(value: str) -> None:
    testbed = validate_data(with_field("devices.esa1.connections.cli.host", value), "tb.yaml", environ={})
    assert testbed.devices["esa1"].connections.cli.host == value  # type: ignore[union-attr]


def test_a_url_host_is_checked_too() -> None:
    data = with_field("cloud.ctr.nam.base_url", "https://evil`id`.example/")
    assert one_line(lambda: validate_data(data, "tb.yaml", environ={})).startswith(
        "tb.yaml: cloud.ctr.nam.base_url: the host of the URL must be a host name")


def test_a_resolver_host_is_checked() -> None:
    data = sample_testbed(network={"resolver": "1.2.3.4|x:53"})
    assert one_line(lambda: validate_data(data, "tb.yaml", environ={})).startswith(
        "tb.yaml: network.resolver: must be a host name")


def test_ca_bundle_must_be_a_pem_with_a_certificate(tmp_path: Path) -> None:
    (tmp_path / "notpem.txt").write_text("hello\n")
    line = one_line(lambda: validate_data(sample_testbed(network={"ca_bundle": "notpem.txt"}), "tb.yaml",
                                          environ={}, base_dir=tmp_path))
    assert line == f"tb.yaml: network.ca_bundle: is not a PEM file of certificates (no readable -----BEGIN " \
                   f"CERTIFICATE----- block): {tmp_path / 'notpem.txt'}"
    (tmp_path / "broken.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    assert "is not a PEM file" in one_line(lambda: validate_data(
        sample_testbed(network={"ca_bundle": "broken.pem"}), "tb.yaml", environ={}, base_dir=tmp_path))
    (tmp_path / "ca.pem").write_bytes(self_signed_pem())
    ok = validate_data(sample_testbed(network={"ca_bundle": "ca.pem"}), "tb.yaml", environ={}, base_dir=tmp_path)
    assert ok.network.ca_bundle == str(tmp_path / "ca.pem")


def test_a_path_with_control_characters_is_refused(tmp_path: Path) -> None:
    line = one_line(lambda: validate_data(sample_testbed(network={"ca_bundle": "ca\n.pem"}), "tb.yaml", environ={},
                                          base_dir=tmp_path))
    assert line.startswith("tb.yaml: network.ca_bundle: must be a file path without control characters")
