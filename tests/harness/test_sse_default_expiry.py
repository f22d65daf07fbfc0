"""REG-1 "default 1 hour": asking for tokens without an expiry must leave the choice to SSE, so a scenario
can see SSE's own default rather than the harness's."""

from __future__ import annotations

from typing import Any

import pytest

from harness.cloud.sse import SseAdmin


def _recorded(monkeypatch: pytest.MonkeyPatch) -> tuple[SseAdmin, list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []

    def fake_call(self: SseAdmin, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        sent.append(kwargs.get("json") or {})
        return {"batch_id": "b", "tokens": ["0" * 32], "expiration": "1h", "valid_hours": 1}

    monkeypatch.setattr(SseAdmin, "_call", fake_call)
    return SseAdmin("https://127.0.0.1:1", "key"), sent


def test_no_expiry_sends_no_expiration_field(monkeypatch: pytest.MonkeyPatch) -> None:
    sse, sent = _recorded(monkeypatch)
    sse.generate_tokens(1)
    sse.generate_tokens(2, None)
    assert sent == [{"devices": 1}, {"devices": 2}]


def test_a_chosen_expiry_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    sse, sent = _recorded(monkeypatch)
    sse.generate_tokens(1, "4h")
    assert sent == [{"devices": 1, "expiration": "4h"}]
