"""The named faults of the control plane (issue 16 item 3) and one appliance's scoped reset (issue 13
item 2): each fault changes what the lab's protocols show and clearing it restores them; the catalogue
in docs/simulators.md is the one the lab serves; a reset cleans what the appliance left in the cloud."""

from __future__ import annotations

import re
from pathlib import Path

from virtual_appliances.asyncos.model import RegState
from virtual_appliances.faults import CATALOGUE, markdown_table
from virtual_appliances.lab import Lab

from .support import control, run_lab

DOCS = Path(__file__).resolve().parents[3] / "docs" / "simulators.md"
SSE_API = "api-sse.cisco.com"


def test_docs_carry_the_catalogue_the_lab_serves() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert markdown_table() in text, "docs/simulators.md: paste python -m virtual_appliances.faults"
    for fault in CATALOGUE:
        assert re.fullmatch(r"[A-Z]+-\d+", fault.requirement), fault.name


def test_the_catalogue_is_served_and_faults_set_and_clear(tmp_path: Path) -> None:
    async def body(lab: Lab) -> None:
        status, listing = await control(lab, "GET", "/_sim/faults")
        assert status == 200 and [f["name"] for f in listing["faults"]] == [f.name for f in CATALOGUE]
        assert listing["active"] == []

        status, answer = await control(lab, "POST", "/_sim/faults/firewall-drop", {"fqdn": SSE_API})
        assert status == 200 and answer["params"] == {"fqdn": SSE_API, "port": 443}
        rules = lab.netlab.state()["firewall"]["rules"]
        assert {"fqdn": SSE_API, "port": lab.netlab.https_port, "action": "drop"} in rules
        status, _ = await control(lab, "POST", "/_sim/faults/ctr-api-status", {"region": "eu"})
        assert lab.ctr.region_state("eu").faults.api_status == 503
        status, _ = await control(lab, "POST", "/_sim/faults/appliance-commit-refused", {"appliance": "esa1"})
        assert lab.fleet["esa1"].faults.refuse_commit
        status, listing = await control(lab, "GET", "/_sim/faults")
        assert [a["name"] for a in listing["active"]] == ["firewall-drop", "ctr-api-status", "appliance-commit-refused"]

        status, answer = await control(lab, "DELETE", "/_sim/faults/firewall-drop", {})
        assert status == 200 and answer["cleared"] == 1
        assert lab.netlab.state()["firewall"]["rules"] == []
        await control(lab, "DELETE", "/_sim/faults/ctr-api-status", {"region": "eu"})
        assert lab.ctr.region_state("eu").faults.api_status is None
        await control(lab, "DELETE", "/_sim/faults/appliance-commit-refused", {"appliance": "esa1"})
        assert not lab.fleet["esa1"].faults.refuse_commit

    run_lab(tmp_path, body)


def test_bad_fault_requests_name_what_is_wrong(tmp_path: Path) -> None:
    async def body(lab: Lab) -> None:
        cases = [
            ("POST", "/_sim/faults/firewall-melt", {}, 404, "no fault named 'firewall-melt'"),
            ("POST", "/_sim/faults/firewall-drop", {}, 400, "parameter 'fqdn' is required"),
            ("POST", "/_sim/faults/firewall-drop", {"fqdn": SSE_API, "colour": 1}, 400, "unknown parameter 'colour'"),
            ("POST", "/_sim/faults/ctr-api-status", {"status": 200}, 400, "HTTP error status"),
            ("POST", "/_sim/faults/sse-tokens-expire", {"region": "mars"}, 400, "must be one of nam, eu, apjc"),
            ("POST", "/_sim/faults/firewall-drop", {"fqdn": "example.org"}, 404, "unknown fqdn 'example.org'"),
            ("POST", "/_sim/faults/appliance-slow-replies", {"appliance": "esa9"}, 404, "no appliance named 'esa9'"),
        ]
        for method, path, payload, want_status, want_text in cases:
            status, answer = await control(lab, method, path, payload)
            assert status == want_status and want_text in answer["error"], (path, payload, answer)
            assert "\n" not in answer["error"]

    run_lab(tmp_path, body)


def test_an_appliance_reset_cleans_what_it_left_in_the_cloud_and_nothing_else(tmp_path: Path) -> None:
    async def body(lab: Lab) -> None:
        esa1, esa2 = lab.fleet["esa1"], lab.fleet["esa2"]
        ids = {a.spec.name: a.registration.device_id for a in (esa1, esa2)}
        # A stale record of esa1 in another region (REG-6: registered there before a region switch).
        lab.sse.region_state("eu").add_device({"name": esa1.spec.hostname, "type": "ESA", "version": "13.0.0",
                                               "serial": esa1.spec.serial}, lab.clock.now())
        await control(lab, "POST", "/_sim/faults/appliance-slow-replies", {"appliance": "esa1", "ms": 1})
        status, answer = await control(lab, "POST", "/_sim/appliances/esa1/reset")
        assert status == 200 and answer["state"] == "disabled", answer
        assert answer["cleaned"] == {"connector_jobs": 0, "events": 0, "sse_devices": 2, "ctr_modules": 1}
        for region in ("nam", "eu", "apjc"):
            names = [d.name for d in lab.sse.region_state(region).devices.values()]
            assert esa1.spec.hostname not in names, region
        modules = [m.device_id for m in lab.ctr.region_state("nam").modules.values()]
        assert modules == [ids["esa2"]], "esa2's module stays; esa1's is gone"
        assert esa1.faults.slow_reply_ms == 0
        assert (await control(lab, "GET", "/_sim/faults"))[1]["active"] == []
        assert esa2.state is RegState.REGISTERED

    run_lab(tmp_path, body, appliances=2, integrated=True)


def test_an_appliance_reset_cancels_its_registration_in_flight(tmp_path: Path) -> None:
    async def body(lab: Lab) -> None:
        esa1 = lab.fleet["esa1"]
        esa1.set_enabled(True)
        esa1.commit("test")
        await control(lab, "POST", "/_sim/clock", {"advance_to_next": True, "owner": "esa1"})
        esa1.register(lab.sse.region_state("nam").generate_tokens(1, "1h", lab.clock.now()).tokens[0])
        status, answer = await control(lab, "POST", "/_sim/appliances/esa1/reset")
        assert status == 200 and answer["cleaned"]["connector_jobs"] == 1
        clock = (await control(lab, "GET", "/_sim/clock"))[1]
        assert [e for e in clock["pending"] if e["owner"] == "esa1"] == []

    run_lab(tmp_path, body)
