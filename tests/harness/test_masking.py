"""The Masker and where it hooks in: strings, JSON, bytes, log records, streams, pytest's longrepr."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass, field

import pytest

from harness.report import masking
from harness.report.masking import MASK, Masker, MaskingFilter, MaskingStream, mask_object


@pytest.fixture
def masker() -> Masker:
    m = Masker()
    m.add("hunter2-password", "tok/en+with=chars", None, "abc")  # "abc": too short to mask
    return m


def test_mask_replaces_every_occurrence(masker: Masker) -> None:
    assert masker.mask("login hunter2-password twice hunter2-password") == f"login {MASK} twice {MASK}"
    assert masker.mask("abc stays") == "abc stays"
    assert len(Masker().mask("nothing registered")) == len("nothing registered")


def test_encoded_forms_are_masked_too(masker: Masker) -> None:
    assert masker.mask("token=tok%2Fen%2Bwith%3Dchars") == f"token={MASK}"  # a form body
    assert masker.mask("q=tok%2Fen%2Bwith%3Dchars&x=1") == f"q={MASK}&x=1"
    assert MASK in masker.mask(json.dumps({"t": "tok/en+with=chars"}))


def test_longest_secret_wins() -> None:
    m = Masker()
    m.add("secret", "secret-and-more")
    assert m.mask("secret-and-more") == MASK


def test_mask_data_masks_nested_structures(masker: Masker) -> None:
    data = {"a": ["x hunter2-password", {"hunter2-password": 1}], "n": 3, "t": ("hunter2-password",)}
    assert masker.mask_data(data) == {"a": [f"x {MASK}", {MASK: 1}], "n": 3, "t": (MASK,)}


def test_binary_masking_keeps_the_length(masker: Masker) -> None:
    data = b"\x00\xffhunter2-password\x01"
    masked = masker.mask_bytes(data)
    assert len(masked) == len(data) and b"hunter2" not in masked and masked.startswith(b"\x00\xff****")


def test_leaks_lists_what_is_present(masker: Masker) -> None:
    assert masker.leaks("… hunter2-password …") == ["hunter2-password"]


def test_log_records_of_child_loggers_are_masked(masker: Masker, caplog: pytest.LogCaptureFixture) -> None:
    masking.push(masker)
    try:
        with masking.log_masking():
            logging.getLogger("harness.drivers.deep.child").warning("login with %s", "hunter2-password")
            try:
                raise RuntimeError("failed with hunter2-password")
            except RuntimeError:
                logging.getLogger("x").exception("boom")
    finally:
        masking.pop(masker)
    assert "hunter2" not in caplog.text and MASK in caplog.text
    assert all("hunter2" not in (r.exc_text or "") for r in caplog.records)


def test_masking_filter_for_handlers(masker: Masker) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskingFilter(lambda: masker))
    log = logging.getLogger("ctrlab-test-filter")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.error("password is %s", "hunter2-password")
    finally:
        log.removeHandler(handler)
    assert stream.getvalue() == f"password is {MASK}\n"


def test_masking_stream(masker: Masker) -> None:
    out = io.StringIO()
    stream = MaskingStream(out, lambda: masker)  # type: ignore[arg-type]
    assert stream.write("x hunter2-password\n") == len("x hunter2-password\n")
    stream.flush()
    assert out.getvalue() == f"x {MASK}\n" and stream.wrapped is out


@dataclass
class _Entry:
    lines: list[str]
    crash: tuple[str, int] = ("file.py", 1)


@dataclass(frozen=True)
class _Frozen:
    message: str


@dataclass
class _Chain:
    chain: list[tuple[_Entry, _Frozen, str | None]] = field(default_factory=list)


def test_mask_object_walks_longrepr_like_structures_in_place(masker: Masker) -> None:
    entry = _Entry(["E   assert 'hunter2-password' == 'x'"])
    frozen = _Frozen("AssertionError: hunter2-password")
    chain = _Chain([(entry, frozen, "during hunter2-password")])
    same = mask_object(chain, masker)
    assert same is chain
    assert chain.chain[0][0].lines == [f"E   assert '{MASK}' == 'x'"]
    assert chain.chain[0][1].message == f"AssertionError: {MASK}"
    assert chain.chain[0][2] == f"during {MASK}"


def test_mask_object_survives_cycles(masker: Masker) -> None:
    a: dict[str, object] = {"s": "hunter2-password"}
    a["self"] = a
    mask_object(a, masker)
    assert a["s"] == MASK


def test_current_masker_is_a_stack() -> None:
    outer, inner = Masker(), Masker()
    masking.push(outer)
    masking.push(inner)
    try:
        masking.add_secret("only-in-the-inner-session")
        assert "only-in-the-inner-session" in inner and "only-in-the-inner-session" not in outer
    finally:
        masking.pop(inner)
        masking.pop(outer)


def test_attachments_are_masked_as_text_or_byte_wise(masker: Masker) -> None:
    from harness.report.allure_results import mask_attachment

    masking.push(masker)
    try:
        assert mask_attachment("pw hunter2-password") == f"pw {MASK}".encode()
        pcap = b"\xd4\xc3\xb2\xa1\xff" + b"hunter2-password" + b"\x00"
        masked = mask_attachment(pcap)
        assert len(masked) == len(pcap) and b"hunter2" not in masked
    finally:
        masking.pop(masker)
