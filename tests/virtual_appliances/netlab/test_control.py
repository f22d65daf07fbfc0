"""The control plane at /_sim/netlab: state, validation, reset."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.loop import BackgroundLoop
from virtual_appliances.common.regions import all_fqdns

from .support import Lab, build_lab, serve_control, stop_lab


def test_state_describes_the_network(lab: Lab) -> None:
    status, state = lab.control("GET", "/")
    assert status == 200
    assert state["mode"] == "loopback"
    assert state["https_port"] == lab.port
    assert state["resolver"] == {"host": "127.0.0.1", "port": lab.netlab.resolver[1],
                                 "transports": ["udp", "tcp"]}
    assert set(all_fqdns()) <= set(state["addresses"])
    assert state["firewall"]["drop"] in ("nftables", "emulated") and state["firewall"]["rules"] == []
    assert state["dns"] == {"overrides": {}} and state["intercept"] == []
    assert state["proxy"]["url"] == lab.netlab.proxy_url and state["proxy"]["auth"] is None
    assert lab.control("GET", "")[1] == state  # /_sim/netlab without the slash too


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/firewall", {"port": 443, "action": "drop"}, "fqdn"),
    ("/firewall", {"fqdn": "api-sse.cisco.com", "action": "block"}, "action"),
    ("/firewall", {"fqdn": "api-sse.cisco.com"}, "action"),
    ("/firewall", {"fqdn": "api-sse.cisco.com", "port": "443", "action": "drop"}, "port"),
    ("/firewall", {"fqdn": "api-sse.cisco.com", "port": 70000, "action": "drop"}, "port"),
    ("/firewall", {"fqdn": "api-sse.cisco.com", "action": "drop", "ports": [443]}, "ports"),
    ("/dns", {"fqdn": "api-sse.cisco.com"}, "answer"),
    ("/dns", {"fqdn": "api-sse.cisco.com", "answer": "not-an-ip"}, "answer"),
    ("/dns", {"fqdn": "api-sse.cisco.com", "answer": "8.8.8.8"}, "answer"),
    ("/dns", {"fqdn": "api-sse.cisco.com", "answer": 127}, "answer"),
    ("/intercept", {"fqdn": "api-sse.cisco.com", "enabled": "yes"}, "enabled"),
    ("/proxy", {"deny": "api-sse.cisco.com"}, "deny"),
    ("/proxy", {"auth": {"username": "u"}}, "auth"),
    ("/proxy", {"auth": {"username": "a:b", "password": "p"}}, "auth"),
    ("/proxy", {"connect_timeout": 0}, "connect_timeout"),
])
def test_bad_fields_are_400_naming_the_field(lab: Lab, path: str, body: dict[str, object], field: str) -> None:
    status, reply = lab.control("POST", path, body)
    assert status == 400, reply
    assert reply["field"] == field and reply["error"]


def test_a_body_that_is_not_an_object_is_400(lab: Lab) -> None:
    assert lab.control("POST", "/firewall", ["api-sse.cisco.com"])[0] == 400


@pytest.mark.parametrize(("path", "body"), [
    ("/firewall", {"fqdn": "www.cisco.com", "action": "drop"}),
    ("/dns", {"fqdn": "www.cisco.com", "answer": None}),
    ("/intercept", {"fqdn": "www.cisco.com", "enabled": True}),
    ("/proxy", {"deny": ["api-sse.cisco.com", "www.cisco.com"]}),
])
def test_unknown_fqdn_is_404_naming_it(lab: Lab, path: str, body: dict[str, object]) -> None:
    status, reply = lab.control("POST", path, body)
    assert status == 404
    assert reply["fqdn"] == "www.cisco.com" and "www.cisco.com" in reply["error"]
    assert lab.netlab.state()["proxy"]["deny"] == []  # a failed request changes nothing


def test_reset_restores_the_initial_state(lab: Lab) -> None:
    initial = lab.control("GET", "/")[1]
    lab.post("/firewall", {"fqdn": "api-sse.cisco.com", "action": "reject"})
    lab.post("/dns", {"fqdn": "est.sco.cisco.com", "answer": None})
    lab.post("/intercept", {"fqdn": "api.eu.sse.itd.cisco.com", "enabled": True})
    lab.post("/proxy", {"deny": ["est.sco.cisco.com"], "auth": {"username": "u", "password": "pw-1234"},
                        "connect_timeout": 5})
    assert lab.control("GET", "/")[1] != initial
    assert lab.post("/reset", {}) == initial


def test_a_lab_without_proxy(bg_loop: BackgroundLoop, tmp_path: Path) -> None:
    lab = build_lab(bg_loop, tmp_path, sites=["api-sse.cisco.com"], proxy=False)
    try:
        assert lab.netlab.proxy_url is None and lab.netlab.state()["proxy"] is None
        status, reply = lab.control("POST", "/proxy", {"deny": []})
        assert status == 409 and "without a proxy" in reply["error"]
    finally:
        stop_lab(lab)


def test_before_start_the_control_plane_says_so(bg_loop: BackgroundLoop, tmp_path: Path) -> None:
    lab = build_lab(bg_loop, tmp_path, sites=["api-sse.cisco.com"])
    stop_lab(lab)
    bg_loop.run(lab.netlab.stop())  # stopping twice is harmless
    lab.netlab.reset()  # so is resetting a stopped lab
    lab.control_url, lab._stop_control = bg_loop.run(serve_control(lab.netlab))
    try:
        status, reply = lab.control("GET", "/")
        assert status == 503 and "not started" in reply["error"]
    finally:
        bg_loop.run(lab._stop_control())
