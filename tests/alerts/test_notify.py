"""Confirmation and operator emails: what they say, where they go, and which mailer sends them."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from alerts.mailers import FileMailer
from alerts.models import SavedSearch, Subscriber
from alerts.notify import send_confirmation, send_operator_alert
from alerts.tokens import read_token
from config import Settings


def _outbox(settings: Settings) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(Path(settings.outbox).glob("*.eml"))
    ]


def _pending() -> tuple[Subscriber, SavedSearch]:
    sub = Subscriber(id=41, email="pat@example.com", status="pending")
    saved = SavedSearch(
        id=7, subscriber_id=41, name="Plant jobs", query='"plant manager"', location="Toledo, OH",
        within_miles=25, cadence="weekly", weekday=0, send_hour=8, timezone="America/New_York",
    )  # fmt: skip
    return sub, saved


def test_confirmation_goes_to_the_subscriber_with_a_signed_link_and_the_search(settings):
    sub, saved = _pending()
    send_confirmation(settings, sub, saved)
    [msg] = _outbox(settings)
    assert msg["To"] == "pat@example.com"
    assert msg["Subject"] == "Confirm your andon job alert"
    assert msg["List-Unsubscribe"] is None  # nothing to leave yet
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert '"plant manager"' in text
    assert "within 25 mi of Toledo, OH" in text
    assert "weekly on Mon at 08:00 America/New_York" in text
    assert "7 days" in text
    link = next(w for w in text.split() if w.startswith("https://andon.example/confirm/"))
    token = link.rsplit("/", 1)[-1]
    assert read_token(settings.secret(), "confirm", token, max_age=settings.confirm_max_age_s) == 41


def test_confirmation_uses_a_given_mailer_and_leaves_it_open(settings, tmp_path):
    other = tmp_path / "elsewhere"

    class Counting(FileMailer):
        closed = 0

        def close(self) -> None:
            Counting.closed += 1

    sub, saved = _pending()
    mailer = Counting(other)
    send_confirmation(settings, sub, saved, mailer=mailer)
    assert len(list(other.glob("*.eml"))) == 1
    assert not Path(settings.outbox).exists()
    assert Counting.closed == 0


def test_operator_alert_is_plain_text_to_the_operator(settings):
    settings.operator_email = "ops@example.com"
    assert send_operator_alert(
        settings, "SendGrid refused our key", ["401 from SendGrid", "run stopped"]
    )
    [msg] = _outbox(settings)
    assert msg["To"] == "ops@example.com"
    assert msg["Subject"] == "[andon] SendGrid refused our key"
    assert not msg.is_multipart()
    assert "401 from SendGrid" in msg.get_content()


def test_operator_alert_without_an_operator_is_a_no_op(settings):
    assert settings.operator_email is None
    assert send_operator_alert(settings, "anything", ["line"]) is False
    assert not Path(settings.outbox).exists()
