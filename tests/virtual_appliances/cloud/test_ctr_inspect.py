"""Investigate syntax (VER-6), wrong syntax (TS-2) and free text through iroh-inspect."""

from __future__ import annotations

import pytest
from threatresponse import ThreatResponse

from .specs import assert_array_of, assert_valid
from .support import CloudLab

SHA = "8fda14f91e27afec5c1b1f71d708775c9b6e2af31e8331bbf26751bc0583dc7e"
VER6 = [  # the table of seeds 002/004
    ('ip:"4.2.2.2"', "ip", "4.2.2.2"),
    ('domain:"cisco.com"', "domain", "cisco.com"),
    ('email:"noreply@cisco.com"', "email", "noreply@cisco.com"),
    ('email_messageid:"123-abc-456@cisco.com"', "email_messageid", "123-abc-456@cisco.com"),
    ('email_subject:"Invoice Due"', "email_subject", "Invoice Due"),
    ('cisco_mid:"12345"', "cisco_mid", "12345"),
    (f'sha256:"{SHA}"', "sha256", SHA),
    ('file_name:"invoice.pdf"', "file_name", "invoice.pdf"),
]


@pytest.mark.parametrize(("query", "kind", "value"), VER6)
def test_every_investigate_form_yields_its_observable(lab: CloudLab, query: str, kind: str, value: str) -> None:
    reply = lab.api("nam", ["inspect:read"]).post("/iroh/iroh-inspect/inspect", json={"content": query})
    assert reply.status_code == 200
    assert reply.json() == [{"type": kind, "value": value}]
    assert_array_of("iroh-inspect", "Observable", reply.json())


@pytest.mark.parametrize("query", [
    "email_subject=test test", "email_subject:test test", 'email_subject: "test test"', 'email_subject "test test"',
    "email_subject:\u201ctest test\u201d", 'email_subject:""', 'Email_Subject:"test test"',
])
def test_wrong_syntax_yields_no_email_subject(lab: CloudLab, query: str) -> None:
    """TS-2: "the query syntax is wrong" means no email_subject observable, hence no data."""
    found = lab.api("nam", ["inspect:read"]).post("/iroh/iroh-inspect/inspect", json={"content": query}).json()
    assert all(o["type"] != "email_subject" for o in found), found


def test_free_text_observables_in_order_of_appearance(lab: CloudLab) -> None:
    text = (f"mail from bad@evil.example via 10.1.2.3 with {SHA} linking http://evil.example/x/y. "
            "See www.cisco.com, not invoice.pdf")
    found = lab.api("nam", ["inspect:read"]).post("/iroh/iroh-inspect/inspect", json={"content": text}).json()
    assert found == [
        {"type": "email", "value": "bad@evil.example"}, {"type": "ip", "value": "10.1.2.3"},
        {"type": "sha256", "value": SHA}, {"type": "url", "value": "http://evil.example/x/y"},
        {"type": "domain", "value": "www.cisco.com"},
    ]


def test_several_forms_in_one_query_are_unique(lab: CloudLab) -> None:
    query = 'ip:"4.2.2.2" email_subject:"test test" ip:"4.2.2.2" 4.2.2.2'
    found = lab.api("nam", ["inspect:read"]).post("/iroh/iroh-inspect/inspect", json={"content": query}).json()
    assert found == [{"type": "ip", "value": "4.2.2.2"}, {"type": "email_subject", "value": "test test"}]


def test_a_missing_content_is_the_spec_400(lab: CloudLab) -> None:
    api = lab.api("nam", ["inspect:read"])
    reply = api.post("/iroh/iroh-inspect/inspect", json={"text": "x"})
    assert reply.status_code == 400 and reply.json() == {"content": "missing-required-key"}
    assert_valid("iroh-inspect", "400", reply.json())
    assert api.post("/iroh/iroh-inspect/inspect", json={"content": "x", "extra": 1}).status_code == 400


@pytest.mark.usefixtures("tr_env")
def test_the_official_client_inspects(lab: CloudLab) -> None:
    client_id, secret = lab.new_client("nam", ["inspect:read"])
    client = ThreatResponse(client_id, secret, environment=lab.environment("nam"), timeout=10)
    assert client.inspect.inspect({"content": 'email_subject:"test test"'}) == [
        {"type": "email_subject", "value": "test test"}]
    assert client.inspect.inspect({"content": "anotheratqcdata.com"})[0] == {
        "type": "domain", "value": "anotheratqcdata.com"}
    # Tokens last 600 simulated seconds; the client fetches a new one on the 401 and retries.
    lab.clock.advance(601)
    assert client.inspect.inspect({"content": SHA}) == [{"type": "sha256", "value": SHA}]
