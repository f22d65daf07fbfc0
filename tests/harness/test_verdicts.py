"""Honest classification of failed scenarios (issue 13, item 3) and the circuit breaker's counting (item 4)."""

from __future__ import annotations

import socket
from types import SimpleNamespace
from typing import Any

import pytest
from allure_commons.model2 import Status
from allure_pytest_bdd.utils import get_status

from harness.breaker import Breaker, gear_health, health_of
from harness.errors import ApiError, DriverTimeout, LabUnreachable, RateLimited
from harness.testbed import Device
from harness.verdicts import CONFORMANCE, HARNESS_ERROR, LAB_FAULT, LabFault, Verdict, classify, wrapped
from steps.expect import ConformanceError, expect

REQUEST: Any = SimpleNamespace(node=None)  # a scenario without @req tags


def api_error(status: int, what: str = "Threat Response (nam)") -> ApiError:
    return ApiError(what, "GET", "https://127.0.0.1:8443/iroh/profile/whoami", status, '{"error": "x"}')


@pytest.mark.parametrize("exc", [api_error(503), api_error(500), RateLimited("SSE admin (nam)", "GET", "u", 429, "x"),
                                 LabUnreachable("esa1 GUI", "https://127.0.0.1:8443", "ConnectionRefusedError"),
                                 DriverTimeout("esa1 CLI", "127.0.0.1:2222", "no prompt"), TimeoutError("read")])
def test_transport_5xx_and_429_are_lab_faults_that_count_for_the_breaker(exc: BaseException) -> None:
    verdict = classify(exc, "then")
    assert verdict.kind == LAB_FAULT and verdict.lab_down, verdict


def test_what_is_down_is_named() -> None:
    assert classify(api_error(503)).down == "Threat Response (nam) answers HTTP 503"
    unreachable = LabUnreachable("esa1 GUI", "https://127.0.0.1:8443", "refused")
    assert classify(unreachable).down == "esa1 GUI at https://127.0.0.1:8443 does not answer"


def test_a_control_plane_refusal_is_a_lab_fault_an_unexpected_4xx_a_harness_error() -> None:
    refused = classify(api_error(400, what="simulator control plane"))
    assert refused.kind == LAB_FAULT and not refused.lab_down
    assert classify(api_error(404), "then").kind == HARNESS_ERROR
    assert classify(KeyError("no such step value"), "when").kind == HARNESS_ERROR


def test_a_conformance_error_is_a_finding_in_when_and_then_but_not_in_a_given() -> None:
    error = ConformanceError("[REG-3] the appliance is not registered", ["REG-3"])
    assert classify(error, "then").kind == CONFORMANCE
    assert classify(error, "when").kind == CONFORMANCE
    given = classify(error, "given", "Given the appliance is registered")
    assert given.kind == LAB_FAULT and not given.lab_down  # the lab answered: the breaker does not count it
    assert "a Given could not establish its state (Given the appliance is registered)" in given.reason


def test_a_conformance_error_raised_while_handling_a_503_is_a_lab_fault() -> None:
    try:
        try:
            raise api_error(503)
        except ApiError:
            raise ConformanceError("module types not listed", [])  # noqa: B904 - a step's shape, on purpose
    except ConformanceError as exc:
        error = exc
    assert classify(error, "then").kind == LAB_FAULT


def test_expect_never_judges_a_lab_fault() -> None:
    with pytest.raises(LabFault, match=r"lab fault: ApiError: Threat Response .* HTTP 503"):
        expect(True, "the module is not saved", api_error(503), REQUEST)  # a 503 is no refusal
    with pytest.raises(LabFault):
        expect(False, "SSE generates the tokens", api_error(429, "SSE admin (nam)"), REQUEST)
    try:
        raise api_error(502)
    except ApiError:
        with pytest.raises(LabFault):
            expect(False, "Threat Response lists its modules", "no list", REQUEST)


def test_expect_still_reports_what_the_product_answered() -> None:
    with pytest.raises(ConformanceError, match="document expects: a 4xx refusal"):
        expect(False, "a 4xx refusal", api_error(200), REQUEST)
    with pytest.raises(ConformanceError):
        expect(False, "the module is saved", api_error(400), REQUEST)
    expect(True, "a 4xx refusal", api_error(400), REQUEST)


def test_allure_sees_broken_for_lab_faults_and_harness_errors_failed_for_findings() -> None:
    lab = wrapped(api_error(503), classify(api_error(503)))
    harness = wrapped(KeyError("x"), classify(KeyError("x")))
    finding = ConformanceError("x", [])
    assert get_status(lab) == Status.BROKEN and str(lab).startswith("lab fault: ")
    assert get_status(harness) == Status.BROKEN and str(harness).startswith("harness error: ")
    assert get_status(wrapped(finding, classify(finding, "then"))) == Status.FAILED
    given = ConformanceError("not registered", [])
    assert get_status(wrapped(given, classify(given, "given"))) == Status.BROKEN
    assert lab.__cause__ is not None  # the original stays in the report's trace


def _down(reason: str = "Threat Response (nam) answers HTTP 503") -> Verdict:
    return Verdict(LAB_FAULT, reason, lab_down=True, down=reason)


def test_the_breaker_opens_after_n_lab_faults_in_a_row() -> None:
    breaker = Breaker(threshold=3, health=lambda: None)
    assert breaker.record(_down()) is None
    assert breaker.record(None) is None  # a pass: the lab answered, the count starts again
    assert breaker.record(_down()) is None
    assert breaker.record(Verdict(LAB_FAULT, "a Given could not establish its state")) is None  # not counted
    assert breaker.record(_down()) is None
    reason = breaker.record(_down())
    assert reason == "ctrlab: stopping the run after 3 lab faults in a row: Threat Response (nam) answers HTTP 503"
    assert breaker.open and breaker.record(_down()) is None  # announced once


def test_a_conformance_failure_resets_the_count() -> None:
    breaker = Breaker(threshold=2, health=lambda: None)
    breaker.record(_down())
    breaker.record(Verdict(CONFORMANCE, "x"))
    assert breaker.record(_down()) is None


def test_the_breaker_opens_at_once_when_the_health_check_fails() -> None:
    breaker = Breaker(threshold=3, health=lambda: "the simulator lab's control plane http://x does not answer")
    assert breaker.record(Verdict(CONFORMANCE, "x")) is None  # the health check runs only after a lab fault
    assert breaker.record(_down()) == ("ctrlab: stopping the run, the lab is down: the simulator lab's control "
                                       "plane http://x does not answer")


def test_gear_health_names_the_appliance_that_refuses_connections() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        down = gear_health({"esa1": ("127.0.0.1", port)}, timeout=2)
    assert down is not None and down.startswith(f"esa1 (127.0.0.1:{port}) does not accept connections")


def test_on_several_labs_the_health_check_names_the_testbed_of_the_one_that_is_down() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        device = Device(kind="esa", model="C100V", version="13.0.0-392", hostname="esa1.example.com",
                        credentials={"default": {"username": "admin", "password": "x"}},
                        connections={"cli": {"host": "127.0.0.1", "port": port}})
        testbed = SimpleNamespace(simulator=None, source="labs/b.yaml", devices={"esa1": device})
        named, plain = health_of(testbed, named=True)(), health_of(testbed)()
    assert plain is not None and plain.startswith(f"esa1 (127.0.0.1:{port})")
    assert named == f"labs/b.yaml: {plain}"


def test_a_teardown_that_could_not_restore_an_unreachable_lab_is_a_lab_fault() -> None:
    with pytest.raises(pytest.fail.Exception) as info:
        pytest.fail("could not restore the lab after the scenario: delete the module: LabUnreachable: Threat "
                    "Response (nam) unreachable at https://127.0.0.1: refused", pytrace=False)
    assert classify(info.value, "teardown").kind == LAB_FAULT
    with pytest.raises(pytest.fail.Exception) as info:
        pytest.fail("could not restore the lab after the scenario: KeyError: 'id'", pytrace=False)
    assert classify(info.value, "teardown").kind == HARNESS_ERROR


def test_the_simulator_health_check_is_one_probe_and_one_line() -> None:
    import socket

    from harness.breaker import simulator_health

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        down = simulator_health(SimpleNamespace(simulator=SimpleNamespace(control_url=url)))
    assert down == (f"the simulator lab's control plane does not answer: {url}/_sim/health did not answer status "
                    "ok within 5 s (ConnectionError)")
    gone = SimpleNamespace(pid=4242, returncode=-9, poll=lambda: -9)
    assert simulator_health(SimpleNamespace(simulator=None), gone) == ("the simulator lab process (pid 4242) exited "
                                                                       "with code -9")
