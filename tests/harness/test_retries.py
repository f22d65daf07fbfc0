"""Cloud clients retry 5xx and 429 a bounded number of times, honouring Retry-After (issue 13, item 3)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from harness.cloud import SseAdmin, ThreatResponseClient
from harness.errors import ApiError, RateLimited
from harness.retries import RetryPolicy, retry_after
from harness.verdicts import LAB_FAULT, classify

from .scripted_http import Script, scripted_server

FAST = RetryPolicy(attempts=3, max_wait_s=5.0, base_s=0.05)


def ctr(url: str, retry: RetryPolicy = FAST) -> ThreatResponseClient:
    return ThreatResponseClient("client-1", "scripted-secret-1", base_url=url, intel_url=url, retry=retry)


def test_503_twice_then_200_succeeds_for_a_get() -> None:
    script = Script([(503, {}), (503, {}), (200, {})])
    with scripted_server(script) as url:
        assert ctr(url).whoami() == {"ok": True, "devices": [], "cloud_services": []}
    assert [m for m, _ in script.seen] == ["GET", "GET", "GET"]


def test_the_sse_admin_client_retries_429_with_retry_after() -> None:
    script = Script([(429, {"Retry-After": "0.4"}), (200, {})])
    with scripted_server(script) as url:
        sse = SseAdmin(url, "scripted-api-key", retry=FAST)
        t0 = time.monotonic()
        assert sse.devices() == []
        elapsed = time.monotonic() - t0
    assert 0.4 <= elapsed < 3, elapsed  # waited what the API asked
    assert len(script.seen) == 2


def test_retry_after_as_an_http_date_is_honoured() -> None:
    when = datetime.now(UTC) + timedelta(seconds=1.5)
    script = Script([(429, {"Retry-After": format_datetime(when, usegmt=True)}), (200, {})])
    with scripted_server(script) as url:
        t0 = time.monotonic()
        ctr(url).whoami()
        elapsed = time.monotonic() - t0
    assert 0.4 <= elapsed < 3, elapsed  # the date has whole seconds: somewhere between 0.5 and 1.5 s
    assert len(script.seen) == 2


def test_a_retry_after_beyond_the_budget_gives_up_at_once() -> None:
    script = Script([(429, {"Retry-After": "3557"})])
    with scripted_server(script) as url:
        t0 = time.monotonic()
        with pytest.raises(RateLimited, match="retry after 3557s") as info:
            ctr(url).whoami()
    assert time.monotonic() - t0 < 1
    assert classify(info.value).kind == LAB_FAULT


def test_a_steady_503_gives_up_after_the_attempts_and_is_a_lab_fault() -> None:
    script = Script([(503, {})])
    with scripted_server(script) as url:
        t0 = time.monotonic()
        with pytest.raises(ApiError) as info:
            ctr(url).whoami()
        elapsed = time.monotonic() - t0
    assert info.value.status == 503
    assert len(script.seen) == 1 + FAST.attempts
    assert elapsed < FAST.max_wait_s + 2
    verdict = classify(info.value)
    assert verdict.kind == LAB_FAULT and verdict.lab_down, verdict


def test_every_wait_is_bounded_by_max_wait() -> None:
    script = Script([(503, {})])
    policy = RetryPolicy(attempts=50, max_wait_s=0.6, base_s=0.2)
    with scripted_server(script) as url:
        t0 = time.monotonic()
        with pytest.raises(ApiError):
            ctr(url, policy).whoami()
    assert time.monotonic() - t0 < 0.6 + 1.0


def test_a_post_that_creates_is_not_repeated_after_a_5xx_but_is_after_a_429() -> None:
    script = Script([(503, {}), (200, {})])
    with scripted_server(script) as url:
        client = ctr(url)
        with pytest.raises(ApiError):
            client.create_casebook("ctrlab")
        assert [p for _, p in script.seen] == ["/ctia/casebook"]  # the API may have made it: not sent again
        script.answers = [(429, {"Retry-After": "0"}), (200, {})]
        client.create_casebook("ctrlab")
    assert len(script.seen) == 3


def test_a_read_only_post_is_retried_after_a_5xx() -> None:
    script = Script([(502, {}), (200, {})])
    with scripted_server(script) as url:
        ctr(url).inspect("1.2.3.4")
    assert len(script.seen) == 2


def test_full_jitter_stays_within_the_exponential_ceiling() -> None:
    policy = RetryPolicy(attempts=5, max_wait_s=10.0, base_s=0.5)
    ceilings = []
    policy.backoff(3, 10.0, rng=lambda lo, hi: ceilings.append((lo, hi)) or hi)
    policy.backoff(3, 1.0, rng=lambda lo, hi: ceilings.append((lo, hi)) or hi)
    assert ceilings == [(0.0, 4.0), (0.0, 1.0)]


def test_policy_from_the_testbed_block_and_defaults() -> None:
    assert RetryPolicy.from_config({"attempts": 5, "max_wait_s": 2}) == RetryPolicy(5, 2.0)
    assert RetryPolicy.from_config(None) == RetryPolicy()
    assert retry_after({"Retry-After": "garbage"}, default=1.5) == 1.5


def test_the_rest_driver_retries_a_get_after_503_but_not_a_post() -> None:
    from harness.appliance import AsyncOSRest

    script = Script([(503, {}), (200, {})])
    with scripted_server(script) as url:
        rest = AsyncOSRest(url, "admin", "scripted-password-1", auth="basic")
        rest.http.retry = FAST
        assert rest.health() == {"ok": True, "devices": [], "cloud_services": []}
        assert len(script.seen) == 2
        script.answers = [(503, {}), (200, {})]
        with pytest.raises(ApiError):
            rest.request("POST", "config/changes", json={})
    assert len(script.seen) == 3


def test_the_testbeds_policy_is_the_default_of_every_client_built_after_the_lab_is_ready() -> None:
    from harness.retries import configure_default

    script = Script([(503, {})])
    configure_default(RetryPolicy.from_config({"attempts": 0, "max_wait_s": 1}))  # what lab_ready does
    try:
        with scripted_server(script) as url, pytest.raises(ApiError):
            ThreatResponseClient("client-1", "scripted-secret-1", base_url=url, intel_url=url).whoami()
    finally:
        configure_default(RetryPolicy())
    assert len(script.seen) == 1  # attempts: 0, no retry
