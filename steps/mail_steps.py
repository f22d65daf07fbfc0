"""Mail through the appliance (VER-4, VER-5): SMTP in, Message Tracking out."""

from __future__ import annotations

from pytest_bdd import step

from .text import sentence, table_dict
from .world import World


@step(sentence(r"I (?:send|sent) an email through the appliance:"))
def send_email(world: World, datatable: list[list[str]]) -> None:
    """Rows ``| field | value |``: from, to, subject, message-id, attachment (a file name)."""
    world.send_mail({k.lower(): world.text(v) for k, v in table_dict(datatable).items()})
    world.check(world.seen.mail.sent.get("mid") is not None, "the appliance accepts the message and names its MID",
                world.seen.mail.sent, "SMTP")


@step(sentence(r"I send a test email with subject {subject} through the appliance"))
def send_test_email(world: World, subject: str) -> None:
    world.send_mail({"from": "ctrlab@example.com", "to": "user@example.com", "subject": subject.strip("\"'")})
