"""Faults injected through the control plane change every GUI and API reply."""

from __future__ import annotations

import time

from .support import SimAppliance, basic_auth


def test_http_status_fault(esa: SimAppliance) -> None:
    client = esa.gui()
    esa.call(setattr, esa.appliance.faults, "http_status", 503)
    assert client.get("/network/cloud_service_settings").status_code == 503
    assert client.get("/login").status_code == 503
    response = esa.api().get("/esa/api/v2.0/health", headers=basic_auth("admin", esa.password))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "503"
    esa.call(esa.appliance.faults.clear)
    assert client.get("/network/cloud_service_settings").status_code == 200


def test_slow_reply_fault(esa: SimAppliance) -> None:
    esa.call(setattr, esa.appliance.faults, "slow_reply_ms", 300)
    started = time.monotonic()
    assert esa.api().get("/esa/api/v2.0/health", headers=basic_auth("admin", esa.password)).status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert esa.gui(login=False).get("/login").status_code == 200
    assert time.monotonic() - started >= 0.3
