"""The SMTP listener records what message tracking and Threat Response report (VER-4, VER-6)."""

from __future__ import annotations

import hashlib
import smtplib

from .support import TIMEOUT, SimAppliance, make_mail


def test_banner_names_the_appliance(esa: SimAppliance) -> None:
    with smtplib.SMTP("127.0.0.1", esa.smtp_port, timeout=TIMEOUT) as smtp:
        code, _ = smtp.ehlo("client.example.com")
        assert code == 250
        assert smtp.docmd("NOOP")[0] == 250
    with smtplib.SMTP(timeout=TIMEOUT) as raw:
        code, greeting = raw.connect("127.0.0.1", esa.smtp_port)
        assert code == 220 and greeting.decode().startswith(esa.appliance.spec.hostname)


def test_mail_is_tracked_with_every_identifier(esa: SimAppliance) -> None:
    pdf = b"%PDF-1.4 invoice\n" * 50
    zip_data = bytes(range(256)) * 4
    message = make_mail("Invoice Due", attachments=[("invoice.pdf", pdf), ("data.zip", zip_data)],
                        message_id="<123-abc-456@cisco.com>")
    code, reply = esa.send_mail(message, "noreply@cisco.com", ["alice@example.com", "bob@example.com"])
    assert code == 250, reply
    tracked = esa.call(esa.appliance.tracking.all)
    assert len(tracked) == 1
    m = tracked[0]
    assert f"Message {m.mid} accepted" in reply.decode()
    assert m.sender == "noreply@cisco.com"
    assert m.recipients == ["alice@example.com", "bob@example.com"]
    assert m.subject == "Invoice Due"
    assert m.message_id == "123-abc-456@cisco.com"
    assert m.sender_ip == "127.0.0.1"
    assert [(a.name, a.sha256) for a in m.attachments] == [
        ("invoice.pdf", hashlib.sha256(pdf).hexdigest()),
        ("data.zip", hashlib.sha256(zip_data).hexdigest()),
    ]
    assert m.last_state.startswith(f"Message {m.mid} to bob@example.com")


def test_a_message_id_is_added_when_missing(esa: SimAppliance) -> None:
    esa.send_mail(make_mail("no id"), "a@example.com", ["b@example.com"])
    m = esa.call(esa.appliance.tracking.all)[0]
    assert m.message_id.endswith("@" + esa.appliance.spec.hostname) and len(m.message_id) > 20


def test_encoded_subject_is_decoded(esa: SimAppliance) -> None:
    message = make_mail("Rechnung fällig – Übersicht")
    esa.send_mail(message, "a@example.com", ["b@example.com"])
    assert esa.call(esa.appliance.tracking.all)[0].subject == "Rechnung fällig – Übersicht"


def test_each_message_gets_its_own_mid(esa: SimAppliance) -> None:
    replies = [esa.send_mail(make_mail(f"m{i}"), "a@example.com", ["b@example.com"])[1] for i in range(3)]
    mids = [m.mid for m in esa.call(esa.appliance.tracking.all)]
    assert len(set(mids)) == 3
    assert [f"Message {mid} accepted" in r.decode() for mid, r in zip(mids, replies, strict=True)] == [True] * 3
