"""The one masking mechanism underneath: the escaped forms of a secret, and the matcher that finds all
forms of all secrets in one pass, built at most once per batch of new secrets."""

from __future__ import annotations

import base64
import json
import logging
import random
import threading

import pytest

from harness.report import matcher as matcher_module
from harness.report.masking import MASK, Masker
from harness.report.matcher import PatternMatcher
from harness.report.secret_forms import MIN_SECRET_LEN, credential_forms, forms, py_escape
from harness.transcript import Transcript

ODD = ["Pa&s<w>\"o%rd +x'é\\z", "uni\\u00e9-Pw\\x41", "nl-Pw\nsecond\tline", "\x00\u2028\U0001f600-x'\"", "plain-value"]


@pytest.mark.parametrize("value", ODD)
def test_py_escape_is_what_repr_and_ascii_print(value: str) -> None:
    both = value + "'\""  # with both quotes, repr and ascii use ' and escape it
    assert py_escape(both, "'") == repr(both)[1:-1]
    assert py_escape(both, "'", ascii_only=True) == ascii(both)[1:-1]
    if "'" in value and '"' not in value:
        assert py_escape(value, '"') == repr(value)[1:-1]  # the other quote style


@pytest.mark.parametrize("value", ODD)
def test_every_serialisation_of_a_secret_is_masked(value: str) -> None:
    masker = Masker()
    masker.add(value)
    shown = [repr(value), ascii(value), repr(value.encode()), json.dumps(value), json.dumps(value, ensure_ascii=False),
             json.dumps(repr(value)), repr(json.dumps(value)), repr({"pw": value}), json.dumps({"pw": [value]})]
    for text in shown:
        masked = masker.mask(f"before {text} after")
        assert masked.startswith("before ") and masked.endswith(" after") and MASK in masked, text
        assert not masker.leaks(masked), (text, masked)


def test_a_basic_header_is_masked_where_the_user_is_known() -> None:
    masker = Masker()
    masker.add_credentials("admin", "s3cret-pw")
    header = base64.b64encode(b"admin:s3cret-pw").decode()
    assert masker.mask(f"Authorization: Basic {header}") == f"Authorization: Basic {MASK}"
    assert base64.b64encode(b"admin:s3cret-pw").decode() in credential_forms("admin", "s3cret-pw")


def test_a_url_encoded_secret_is_masked_decoded_too() -> None:
    assert "p@ss/w0rd" in forms("p%40ss%2Fw0rd")  # a proxy URL's password is given encoded, sent decoded


def test_short_secrets_are_not_masked_and_say_so(caplog: pytest.LogCaptureFixture) -> None:
    masker = Masker()
    with caplog.at_level(logging.WARNING):
        masker.add("abc", "abc", "")
    assert masker.mask("abc stays, abcd too") == "abc stays, abcd too" and len(masker) == 0
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == [f"a secret of 3 characters is too short to mask (the minimum is {MIN_SECRET_LEN}): it may "
                        "appear in reports and logs"]  # once, and without the value


def test_overlapping_secrets_are_masked_whole() -> None:
    masker = Masker()
    masker.add("abcd1234", "1234wxyz")
    assert masker.mask("x abcd1234wxyz y") == f"x {MASK} y"  # leftmost-longest would leave "wxyz"
    assert masker.mask("abcd1234 1234wxyz") == f"{MASK} {MASK}"


def test_the_matcher_builds_at_most_once_per_batch() -> None:
    matcher = PatternMatcher()
    matcher.add(f"token-{i:04d}" for i in range(100))
    assert matcher.builds == 0  # nothing is built until a text is searched
    for _ in range(3):
        assert matcher.spans("x token-0042 y") == [(2, 12)]
    assert matcher.builds == 1
    matcher.add(["token-0042"])  # known: no rebuild
    matcher.spans("x")
    assert matcher.builds == 1
    matcher.add(["fresh-secret"])
    assert matcher.spans("a fresh-secret and token-0001") == [(2, 14), (19, 29)]
    assert matcher.builds == 2


def test_recent_patterns_are_folded_into_the_settled_tier(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matcher_module, "RECENT_MIN", 4)
    matcher = PatternMatcher()
    for batch in range(40):
        matcher.add([f"b{batch:02d}-s{i}" for i in range(3)])
        matcher.spans("x")
        assert len(matcher.recent) <= max(4, len(matcher.settled) // matcher_module.RECENT_SHARE)
    assert len(matcher.settled) + len(matcher.recent) == 120
    text = " ".join(f"b{batch:02d}-s1" for batch in range(40))
    assert _masker_with(matcher).mask(text) == " ".join([MASK] * 40)


def _masker_with(matcher: PatternMatcher) -> Masker:
    masker = Masker()
    masker._matcher = matcher
    return masker


def test_masking_is_thread_safe_while_secrets_are_added() -> None:
    masker = Masker()
    secrets = [f"{random.getrandbits(64):016x}" for _ in range(2000)]
    errors: list[str] = []

    def add() -> None:
        for i in range(0, len(secrets), 50):
            masker.add(*secrets[i:i + 50])

    def check() -> None:
        for _ in range(200):
            known = [s for s in secrets[:200] if s in masker]
            text = " ".join(known)
            if known and masker.mask(text) != " ".join([MASK] * len(known)):
                errors.append(text)

    threads = [threading.Thread(target=add), *(threading.Thread(target=check) for _ in range(3))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert masker.mask(" ".join(secrets)) == " ".join([MASK] * len(secrets))


def test_a_transcript_renders_and_masks_only_when_read() -> None:
    rendered: list[str] = []
    transcript = Transcript("t")

    def render() -> str:
        rendered.append("page")
        return "page with a-secret-learned-later"

    entry = transcript.record("http", "esa1 GUI", "https://esa1", "GET /", render)
    assert rendered == []  # recorded, not rendered
    transcript.add_secret("a-secret-learned-later")
    assert entry.response == f"page with {MASK}" and entry.response == f"page with {MASK}"
    assert rendered == ["page"]  # rendered once, when first read


def test_a_quiet_recent_tier_is_folded_so_each_text_is_searched_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matcher_module, "FOLD_AFTER_MIN", 5)
    monkeypatch.setattr(matcher_module, "FOLD_AFTER_SHARE", 1000)  # 600 settled: the minimum decides
    matcher = PatternMatcher()
    matcher.add(f"settled-{i:04d}" for i in range(600))
    matcher.spans("x")
    matcher.add(["recent-0001"])
    for _ in range(5):
        assert matcher.spans("a recent-0001 b") == [(2, 13)]
        assert matcher.recent == ("recent-0001",)  # searched 1..5 times since it changed
    matcher.spans("x")
    assert matcher.recent == () and "recent-0001" in matcher.settled
    assert matcher.spans("a recent-0001 b settled-0599") == [(2, 13), (16, 28)]
