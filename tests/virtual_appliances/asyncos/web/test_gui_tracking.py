"""Monitor > Message Tracking (VER-4, seed 004): search by subject "Begins With" and the result list."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from virtual_appliances.asyncos import messages as msg

from .support import SimAppliance, make_mail, page_text

TRACKING = "/monitor_email_tracking/message_tracking"


def search(sim: SimAppliance, **params: str) -> str:
    query = {"action": "Search", **params}
    return sim.gui().get(f"{TRACKING}?{urlencode(query)}").text


def test_search_form(esa: SimAppliance) -> None:
    html = esa.gui().get(TRACKING).text
    text = page_text(html)
    for label in ("Envelope Sender:", "Envelope Recipient:", "Subject:", "Message Received:", "Last Day",
                  "Last Week", "Custom Range", "Search", "Available Time Range:"):
        assert label in text
    for op in ("sender_match", "recipient_match", "subject_match"):
        options = re.search(rf'<select id="{op}".*?</select>', html, re.S).group(0)  # type: ignore[union-attr]
        assert re.findall(r">([^<]+)</option>", options) == ["Begins With", "Is", "Contains"]
        assert '<option value="match_begins" selected>' in options
    assert "Displaying" not in text  # no search yet


def test_subject_begins_with_finds_the_test_mail(esa: SimAppliance) -> None:
    esa.send_mail(make_mail("test test"), "mgmt01@cisco.com", ["testingBren@cisco.com"])
    esa.send_mail(make_mail("other subject"), "mgmt01@cisco.com", ["testingBren@cisco.com"])
    text = page_text(search(esa, subject_match="match_begins", subject="test te"))
    assert text.count("Displaying 1 \u2014 1 of 1 items.") == 2
    assert "MID: 1" in text and "Show Details" in text
    assert "SENDER: mgmt01@cisco.com" in text
    assert "RECIPIENT: testingBren@cisco.com" in text
    assert "SUBJECT: test test" in text
    assert "LAST STATE: Message 1 to testingBren@cisco.com received remote SMTP response 'ok'" in text
    assert re.search(r"\d\d \w{3} \d{4} \d\d:\d\d:\d\d \(GMT \+00:00\) MID: 1", text)
    assert "other subject" not in text


def test_is_and_contains_operators_and_sender_filter(esa: SimAppliance) -> None:
    esa.send_mail(make_mail("Invoice Due"), "noreply@cisco.com", ["a@example.com"])
    esa.send_mail(make_mail("Your Invoice"), "billing@example.org", ["a@example.com"])
    assert "of 2 items" in page_text(search(esa, subject_match="match_contains", subject="invoice"))
    assert "of 1 items" in page_text(search(esa, subject_match="match_is", subject="invoice due"))
    text = page_text(search(esa, sender_match="match_begins", sender="billing@"))
    assert "of 1 items" in text and "Your Invoice" in text


def test_no_results(esa: SimAppliance) -> None:
    assert msg.TRACKING_NO_RESULTS in page_text(search(esa, subject="nothing like this"))


def test_time_range_excludes_old_mail(esa: SimAppliance) -> None:
    esa.send_mail(make_mail("old news"), "a@example.com", ["b@example.com"])
    esa.advance(2 * 86400)
    assert msg.TRACKING_NO_RESULTS in page_text(search(esa, subject="old", received="last_day"))
    assert "of 1 items" in page_text(search(esa, subject="old", received="last_week"))


def test_custom_range_and_bad_dates(esa: SimAppliance) -> None:
    esa.send_mail(make_mail("custom"), "a@example.com", ["b@example.com"])
    now = esa.clock.now()
    day = now.strftime("%m/%d/%Y")
    text = page_text(search(esa, subject="custom", received="custom", date_from=day, time_from="00:00",
                            date_to=day, time_to=now.strftime("%H:%M")))
    assert "of 1 items" in text
    client = esa.gui()
    response = client.get(f"{TRACKING}?{urlencode({'action': 'Search', 'received': 'custom', 'date_from': 'x'})}")
    assert response.status_code == 400
    assert "MM/DD/YYYY" in page_text(response.text)


def test_paging(esa: SimAppliance) -> None:
    for i in range(23):
        esa.send_mail(make_mail(f"bulk {i}"), "a@example.com", ["b@example.com"])
    first = page_text(search(esa, subject="bulk"))
    assert "Displaying 1 \u2014 20 of 23 items." in first and "Next" in first
    second = page_text(search(esa, subject="bulk", page="2"))
    assert "Displaying 21 \u2014 23 of 23 items." in second


def test_show_details(esa: SimAppliance) -> None:
    message = make_mail("details please", attachments=[("invoice.pdf", b"pdf")], message_id="<abc@cisco.com>")
    esa.send_mail(message, "a@example.com", ["b@example.com"])
    client = esa.gui()
    html = client.get(f"{TRACKING}?{urlencode({'action': 'Search', 'subject': 'details'})}").text
    link = re.search(r'href="([^"]*details\?mid=1)"', html).group(1)  # type: ignore[union-attr]
    text = page_text(client.get(link.replace("&amp;", "&")).text)
    assert "MID: 1" in text and "invoice.pdf" in text and "<abc@cisco.com>" in text
    assert "Message 1 received from 127.0.0.1" in text
    assert client.get(f"{TRACKING}/details?mid=999").status_code == 404
