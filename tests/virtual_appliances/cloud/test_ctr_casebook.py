"""Casebooks in private intelligence (RIB-2, RIB-4, RIB-5): create, observables, texts, search."""

from __future__ import annotations

import re
from typing import Any

import pytest
from threatresponse import ThreatResponse

from .specs import assert_array_of, assert_valid
from .support import CloudLab, HttpClient

SHA = "8fda14f91e27afec5c1b1f71d708775c9b6e2af31e8331bbf26751bc0583dc7e"
RIB5 = [{"type": "ip", "value": "4.2.2.2"}, {"type": "domain", "value": "bit.ly"},
        {"type": "url", "value": "http://bit.ly/x"}, {"type": "sha256", "value": SHA}]


def casebooks(lab: CloudLab, region: str = "nam", scopes: list[str] | None = None) -> HttpClient:
    return lab.api(region, scopes or ["casebook", "private-intel", "inspect:read"], intel=True)


def create(api: HttpClient, **fields: Any) -> dict[str, Any]:
    reply = api.post("/ctia/casebook", json={"title": "New Case", **fields})
    assert reply.status_code == 201, reply.text
    assert_valid("ctia", "Casebook", reply.json())
    return dict(reply.json())


def short(casebook: dict[str, Any]) -> str:
    return str(casebook["id"]).rpartition("/")[2]


def test_a_new_case_has_a_full_uri_id(lab: CloudLab) -> None:
    case = create(casebooks(lab), description="from the pivot menu")
    assert re.fullmatch(r"https://private\.intel\.amp\.cisco\.com/ctia/casebook/casebook-[0-9a-f-]{36}", case["id"])
    assert case["type"] == "casebook" and case["observables"] == [] and case["texts"] == []
    assert case["created"] == case["modified"] and case["owner"]
    eu = create(casebooks(lab, "eu"))
    assert eu["id"].startswith("https://private.intel.eu.amp.cisco.com/ctia/casebook/casebook-")


def test_adding_and_removing_observables(lab: CloudLab) -> None:
    """RIB-4/RIB-5: the pivot menu adds IP, domain, URL and SHA-256 observables to a case."""
    api = casebooks(lab)
    case = create(api)
    path = f"/ctia/casebook/{short(case)}/observables"
    added = api.post(path, json={"operation": "add", "observables": RIB5})
    assert added.status_code == 200 and added.json()["observables"] == RIB5
    assert_valid("ctia", "Casebook", added.json())
    again = api.post(path, json={"operation": "add", "observables": RIB5[:1]}).json()
    assert again["observables"] == RIB5, "adding an observable twice keeps one"
    removed = api.post(path, json={"operation": "remove", "observables": RIB5[1:3]}).json()
    assert removed["observables"] == [RIB5[0], RIB5[3]]
    replaced = api.post(path, json={"operation": "replace", "observables": RIB5[2:3]}).json()
    assert replaced["observables"] == RIB5[2:3]
    assert api.get(f"/ctia/casebook/{short(case)}").json()["observables"] == RIB5[2:3]


def test_observable_and_operation_validation_name_the_field(lab: CloudLab) -> None:
    api = casebooks(lab)
    case = create(api)
    path = f"/ctia/casebook/{short(case)}/observables"
    bad_type = api.post(path, json={"operation": "add", "observables": [{"type": "colour", "value": "red"}]})
    assert bad_type.status_code == 400 and "observables[0]" in bad_type.json()["errors"]
    bad_op = api.post(path, json={"operation": "merge", "observables": []})
    assert bad_op.status_code == 400 and "operation" in bad_op.json()["errors"]
    bad_case = api.post("/ctia/casebook", json={"title": 5})
    assert bad_case.status_code == 400 and "title" in bad_case.json()["errors"]
    # CTIA accepts every CTIM type; RIB-5's list is the ribbon's, not the store's.
    email = api.post(path, json={"operation": "add", "observables": [{"type": "email", "value": "a@b.example"}]})
    assert email.status_code == 200


def test_title_description_and_notes(lab: CloudLab) -> None:
    api = casebooks(lab)
    case = create(api)
    patched = api.patch(f"/ctia/casebook/{short(case)}", json={"title": "Phishing wave", "description": "from SMA"})
    assert patched.status_code == 200 and patched.json()["title"] == "Phishing wave"
    notes = api.post(f"/ctia/casebook/{short(case)}/texts",
                     json={"operation": "add", "texts": [{"type": "notes", "text": "seen on esa03"}]})
    assert notes.status_code == 200 and notes.json()["texts"] == [{"type": "notes", "text": "seen on esa03"}]
    assert_valid("ctia", "Casebook", notes.json())
    assert api.post(f"/ctia/casebook/{short(case)}/texts", json={"operation": "add", "texts": [{"note": 1}]}
                    ).status_code == 400


def test_search_count_and_delete(lab: CloudLab) -> None:
    api = casebooks(lab)
    first = create(api, title="Phishing wave", observables=RIB5[:1])
    create(api, title="Malware drop", observables=RIB5[3:])
    found = api.get("/ctia/casebook/search", params={"query": "phishing"}).json()
    assert [c["id"] for c in found] == [first["id"]]
    assert_array_of("ctia", "Casebook", found)
    assert api.get("/ctia/casebook/search/count", params={"query": "*"}).json() == 2
    assert [c["title"] for c in api.get("/ctia/casebook/search", params={"query": SHA}).json()] == ["Malware drop"]
    assert api.delete(f"/ctia/casebook/{short(first)}").status_code == 204
    assert api.get(f"/ctia/casebook/{short(first)}").status_code == 404
    assert casebooks(lab, "eu").get("/ctia/casebook/search/count").json() == 0


def test_casebooks_need_the_casebook_or_private_intel_scope(lab: CloudLab) -> None:
    assert create(casebooks(lab, scopes=["casebook"]))
    assert create(casebooks(lab, scopes=["private-intel"]))
    read_only = casebooks(lab, scopes=["casebook:read"])
    assert read_only.get("/ctia/casebook/search").status_code == 200
    assert read_only.post("/ctia/casebook", json={"title": "x"}).status_code == 403
    assert casebooks(lab, scopes=["enrich", "response"]).get("/ctia/casebook/search").status_code == 403


@pytest.mark.usefixtures("tr_env")
def test_the_official_client_manages_a_case(lab: CloudLab) -> None:
    client_id, secret = lab.new_client("nam", ["casebook", "private-intel", "inspect:read"])
    client = ThreatResponse(client_id, secret, environment=lab.environment("nam"), timeout=10)
    case = client.private_intel.casebook.post({"title": "New Case", "observables": [], "texts": []})
    case_id = case["id"].rpartition("/")[-1]
    observables = client.inspect.inspect({"content": f"4.2.2.2 bit.ly {SHA}"})
    client.private_intel.casebook.observables(case_id, {"operation": "add", "observables": observables})
    client.private_intel.casebook.texts(case_id, {"operation": "add", "texts": [{"type": "notes", "text": "x"}]})
    stored = client.private_intel.casebook.get(case_id)
    assert stored["observables"] == observables and stored["texts"] == [{"type": "notes", "text": "x"}]
    # The full URI works too: the client percent-encodes it into one path segment.
    assert client.private_intel.casebook.get(case["id"])["id"] == case["id"]
    assert client.private_intel.casebook.delete(case_id).status_code == 204
