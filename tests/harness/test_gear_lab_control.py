"""Real-gear lab control: set-ups a testbed describes become real actions, the rest skip naming the set-up."""

from __future__ import annotations

import sys

import pytest

from harness.labcontrol import GearLabControl

RIBBON = ["casebook", "enrich:read", "inspect:read"]


def test_an_api_client_listed_in_the_testbed_is_used() -> None:
    control = GearLabControl({"api_clients": [
        {"region": "eu", "scopes": RIBBON, "client_id": "client-eu", "client_secret": "s-eu"},
        {"region": "nam", "scopes": list(reversed(RIBBON)), "client_id": "client-nam", "client_secret": "s-nam"},
    ]})
    client_id, secret, undo = control.api_client("nam", RIBBON, "ctrlab ribbon")
    assert (client_id, secret) == ("client-nam", "s-nam")
    undo()  # a client made by a person stays


def test_no_client_with_those_scopes_skips_naming_the_manual_set_up() -> None:
    control = GearLabControl({"api_clients": [{"region": "nam", "scopes": RIBBON, "client_id": "c",
                                               "client_secret": "s"}]})
    with pytest.raises(pytest.skip.Exception, match=r"deviations\.api_clients"):
        control.api_client("nam", ["casebook"], "ctrlab ribbon")


def test_expired_tokens_through_a_lab_action() -> None:
    control = GearLabControl({"lab_actions": {"expire_tokens": {"apply": f"{sys.executable} -c pass"}}})
    control.expire_tokens("nam")()
    with pytest.raises(pytest.skip.Exception, match="past its expiry"):
        GearLabControl({}).expire_tokens("nam")


def test_a_factory_fresh_appliance_through_a_lab_action_or_named_as_a_manual_set_up(tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "reverted"
    script = f'import pathlib, sys; pathlib.Path("{marker}").write_text(sys.argv[1])'
    revert_vm = f"{sys.executable} -c '{script}' {{device}}"  # what a snapshot revert would be, with the device
    control = GearLabControl({"lab_actions": {"factory_fresh": {"apply": revert_vm}}})
    control.factory_fresh("esa1")
    assert marker.read_text() == "esa1"
    with pytest.raises(pytest.skip.Exception, match="as it left the factory"):
        GearLabControl({}).factory_fresh("esa1")


def test_joining_a_cluster_on_gear_needs_a_peer_and_a_way_back(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(pytest.skip.Exception, match=r"deviations\.cluster_peer.*lab_actions\.leave_cluster"):
        GearLabControl({"cluster_peer": {"host": "esa9.lab", "password": "x"}}).cluster_peer("esa1", "lab-cluster")
    left = tmp_path / "left"
    script = f'import pathlib, sys; pathlib.Path("{left}").write_text(sys.argv[1] + " " + sys.argv[2])'
    control = GearLabControl({
        "cluster_peer": {"host": "esa9.lab", "username": "clusteradmin", "password": "peer-secret"},
        "lab_actions": {"leave_cluster": {"apply": f"{sys.executable} -c '{script}' {{device}} {{cluster}}"}}})
    peer, leave = control.cluster_peer("esa1", "lab-cluster")
    assert (peer.host, peer.username, peer.password, peer.group) == ("esa9.lab", "clusteradmin", "peer-secret",
                                                                     "Main_Group")
    assert not left.exists()  # leaving is the undo, after the scenario
    leave()
    assert left.read_text() == "esa1 lab-cluster"
