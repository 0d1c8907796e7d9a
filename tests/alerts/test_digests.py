"""The digest run on SQLite and PostgreSQL: due times, the right jobs in the right inboxes once,
every mailer, provider failures, and a sender killed in the middle of a run."""

from __future__ import annotations

import email
import email.policy
import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col
from werkzeug import Request, Response

import db
from alerts.digests import render_digest_for, run_digests
from alerts.mailers import FileMailer, SendGridMailer, SendResult, TransientSendError
from alerts.message import OutgoingMessage
from alerts.models import Delivery, Digest, SavedSearch, Subscriber
from alerts.subscriptions import SearchInput, subscribe, unsubscribe
from config import Settings
from pipeline.store import close_postings, store_batch
from tests.alerts.kill_helper import SECRET
from tests.factories import posting

PROJECT = Path(__file__).resolve().parents[2]
SUB_AT = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)  # subscribed: first due Nov 20 08:00 UTC
SEEN = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
RUN1 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
SEEN2 = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
RUN2 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
SEND_PATH = "/v3/mail/send"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        secret_key=SECRET,
        base_url="https://andon.example",
        from_email="andon alerts <alerts@andon.example>",
        outbox=tmp_path / "outbox",
        postal_address="andon, 500 Griswold St, Detroit, MI 48226, USA",
        unsubscribe_mailto="unsubscribe@andon.example",
    )


# --- helpers ---------------------------------------------------------------------------------


def job(n: int, title: str, **changes: Any) -> Any:
    """A posting with its own id and a description that matches nothing by accident."""
    values: dict[str, Any] = {
        "source": "acme-greenhouse",
        "external_id": f"greenhouse:acme:{n}",
        "url": f"https://boards.greenhouse.io/acme/jobs/{n}",
        "apply_url": None,
        "title": title,
        "description_text": "Run the shift.",
        "company": f"Company {n}",
        # no salary unless a test gives one: a stated salary adds to the score
        "salary_min": None,
        "salary_max": None,
        "salary_currency": None,
        "salary_period": None,
        "annual_min_usd": None,
        "annual_max_usd": None,
    }
    values.update(changes)
    return posting(**values)


def store(engine: Engine, *items: Any, now: datetime = SEEN) -> dict[str, int]:
    with db.session_scope(engine) as s:
        result = store_batch(s, list(items), now=now)
    return {ext: pid for (_src, ext), pid in result.posting_ids.items()}


def add_search(
    engine: Engine,
    address: str,
    *,
    now: datetime = SUB_AT,
    confirmed: bool = True,
    **search: Any,
) -> tuple[int, int]:
    with db.session_scope(engine) as s:
        sub, saved, _ = subscribe(s, address, SearchInput(**search), confirmed=confirmed, now=now)
        return sub.id, saved.id  # type: ignore[return-value]


def outbox(settings: Settings) -> list[EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(Path(settings.outbox).glob("*.eml"))
    ]


def text_of(msg: EmailMessage) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def html_of(msg: EmailMessage) -> str:
    return msg.get_body(preferencelist=("html",)).get_content()


def digests(engine: Engine) -> list[Digest]:
    with db.session_scope(engine) as s:
        return list(s.execute(select(Digest).order_by(col(Digest.id))).scalars())


def delivered(engine: Engine) -> list[tuple[int, int, int]]:
    with db.session_scope(engine) as s:
        rows = s.execute(
            select(
                col(Delivery.subscriber_id), col(Delivery.posting_id), col(Delivery.digest_id)
            ).order_by(col(Delivery.id))
        ).all()
    return [tuple(r) for r in rows]


class Recording:
    """A mailer that keeps messages in memory and can fail on demand."""

    def __init__(self, fail: list[Exception] | None = None) -> None:
        self.sent: list[OutgoingMessage] = []
        self.fail = list(fail or [])
        self.lock = threading.Lock()

    def open(self) -> None:
        return None

    def close(self) -> None:
        return None

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, msg: OutgoingMessage) -> SendResult:
        with self.lock:
            if self.fail:
                raise self.fail.pop(0)
            self.sent.append(msg)
            return SendResult(f"rec-{len(self.sent)}")


# --- due times -------------------------------------------------------------------------------


def _local(day: str, hhmm: str, tz: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


@pytest.mark.parametrize(
    ("subscribed", "days"),
    [
        # the November fall-back (Nov 1, 2026): 12:00 UTC, then 13:00 UTC
        ("2026-10-30T18:00:00+00:00", ["2026-10-31", "2026-11-01", "2026-11-02"]),
        # the March spring-forward (Mar 14, 2027): 13:00 UTC, then 12:00 UTC
        ("2027-03-12T18:00:00+00:00", ["2027-03-13", "2027-03-14", "2027-03-15"]),
    ],
)
def test_daily_8am_new_york_across_dst(engine, settings, subscribed, days):
    tz = "America/New_York"
    _, search_id = add_search(
        engine, "ny@example.com", now=datetime.fromisoformat(subscribed), timezone=tz
    )
    expected_utc = []
    for day in days:
        early, on_time = _local(day, "07:59", tz), _local(day, "08:00", tz)
        assert run_digests(settings, engine, at=early, mailer=Recording()).due == 0
        assert run_digests(settings, engine, at=on_time, mailer=Recording()).due == 1
        expected_utc.append(on_time)
    rows = digests(engine)
    assert [d.period_key for d in rows] == days
    assert [d.due_at for d in rows] == expected_utc
    assert [t.hour for t in expected_utc] in ([12, 13, 13], [13, 12, 12])
    # each window starts where the previous one ended
    assert [d.window_start for d in rows[1:]] == [d.window_end for d in rows[:-1]]
    with db.session_scope(engine) as s:
        search = s.get(SavedSearch, search_id)
        assert search.next_due_at == _local(days[-1], "08:00", tz) + timedelta(days=1)


def test_weekly_monday_in_kolkata(engine, settings):
    tz = "Asia/Kolkata"
    add_search(
        engine, "in@example.com", now=datetime(2026, 11, 18, 6, tzinfo=UTC), cadence="weekly",
        weekday="mon", timezone=tz,
    )  # fmt: skip
    for not_yet in ("2026-11-22T23:59", "2026-11-23T07:59"):
        day, hhmm = not_yet.split("T")
        assert run_digests(settings, engine, at=_local(day, hhmm, tz), mailer=Recording()).due == 0
    monday = _local("2026-11-23", "08:00", tz)
    assert monday == datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
    assert run_digests(settings, engine, at=monday, mailer=Recording()).due == 1
    assert run_digests(settings, engine, at=monday + timedelta(days=6), mailer=Recording()).due == 0
    assert run_digests(settings, engine, at=monday + timedelta(days=7), mailer=Recording()).due == 1
    rows = digests(engine)
    assert [d.period_key for d in rows] == ["2026-W48", "2026-W49"]
    assert rows[0].window_start == datetime(2026, 11, 11, 6, tzinfo=UTC)  # one week back


def test_a_run_at_0759_sends_nothing_and_at_0800_sends(engine, settings):
    evening = datetime(2026, 11, 19, 20, tzinfo=UTC)  # after that day's 08:00 in Chicago
    add_search(
        engine, "pat@example.com", query="plant manager", timezone="America/Chicago", now=evening
    )
    store(engine, job(1, "Plant Manager"))
    at = _local("2026-11-20", "08:00", "America/Chicago")
    early = run_digests(settings, engine, at=at - timedelta(minutes=1))
    assert (early.due, early.sent) == (0, 0)
    assert outbox(settings) == []
    on_time = run_digests(settings, engine, at=at)
    assert (on_time.due, on_time.sent) == (1, 1)
    assert len(outbox(settings)) == 1


def test_a_late_run_serves_the_scheduled_occurrence_and_missed_days_coalesce(engine, settings):
    add_search(engine, "pat@example.com", query="plant manager")
    store(engine, job(1, "Plant Manager"))
    # the scheduler was down for two days and a half
    summary = run_digests(settings, engine, at=RUN1 + timedelta(days=2, hours=12))
    assert (summary.due, summary.sent) == (1, 1)
    [d] = digests(engine)
    assert d.period_key == "2026-11-22"
    assert d.due_at == d.window_end == RUN1 + timedelta(days=2)
    with db.session_scope(engine) as s:
        [search] = s.execute(select(SavedSearch)).scalars()
        assert search.next_due_at == RUN1 + timedelta(days=3)
        assert search.last_digest_at == d.window_end


# --- the right jobs in the right inboxes, once -------------------------------------------------


def _two_subscribers(engine: Engine) -> dict[str, int]:
    add_search(engine, "pat@example.com", query="plant manager", name="Plant jobs")
    add_search(
        engine, "sam@example.com", query="supervisor", workplaces=["remote"], name="Remote sup"
    )
    return store(
        engine,
        job(1, "Plant Manager", salary_min=120000, salary_max=150000, annual_min_usd=120000,
            annual_max_usd=150000, salary_currency="USD", salary_period="year"),
        job(2, "Assistant Plant Manager", seniority="assistant"),
        job(3, "Production Supervisor", workplace="remote", seniority="supervisor",
            source="himalayas", external_id="himalayas:3", url="https://himalayas.app/jobs/3",
            attribution="Himalayas"),
        job(4, "Production Supervisor", company="Onsite Co", workplace="onsite"),
        job(5, "Quality Engineer"),
    )  # fmt: skip


def test_file_mailer_puts_the_right_jobs_in_the_right_inboxes(engine, settings):
    ids = _two_subscribers(engine)
    summary = run_digests(settings, engine, at=RUN1)
    assert (summary.due, summary.sent, summary.empty, summary.failed) == (2, 2, 0, 0)
    by_to = {m["To"]: m for m in outbox(settings)}
    assert set(by_to) == {"pat@example.com", "sam@example.com"}

    pat = by_to["pat@example.com"]
    assert pat["Subject"] == "2 new production jobs for “Plant jobs”"
    text = text_of(pat)
    assert "1. Plant Manager" in text
    assert "2. Assistant Plant Manager" in text  # best first: the salary bonus ranks #1 higher
    assert "Supervisor" not in text
    assert "Quality Engineer" not in text
    assert "$120,000–$150,000 / year" in text
    assert "US median for production managers: $90,000 (BLS OES May 2023)" in text
    assert "US median for assistant production managers: $70,000" in text
    assert "Why: plant, manager in title" in text
    assert "Posted Nov 20, 2026" in text
    assert "Dearborn, MI · On-site" in text

    https, mailto = (part.strip(" <>") for part in pat["List-Unsubscribe"].split(","))
    assert https.startswith("https://andon.example/unsubscribe/")
    assert mailto.startswith("mailto:unsubscribe@andon.example?subject=unsubscribe-")
    assert pat["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert https in text

    sam = by_to["sam@example.com"]
    assert sam["Subject"] == "1 new production job for “Remote sup”"
    sam_text = text_of(sam)
    assert "Production Supervisor" in sam_text
    assert "Company 3" in sam_text
    assert "Onsite Co" not in sam_text
    assert "via Himalayas" in sam_text
    assert 'href="https://himalayas.app/jobs/3"' in html_of(sam)

    rows = digests(engine)
    assert {d.status for d in rows} == {"sent"}
    assert all(d.provider_message_id and d.sent_at and d.attempts == 1 for d in rows)
    with db.session_scope(engine) as s:
        pat_id = s.execute(
            select(col(Subscriber.id)).where(col(Subscriber.email) == "pat@example.com")
        ).scalar_one()
    assert sorted((sub, p) for sub, p, _ in delivered(engine) if sub == pat_id) == [
        (pat_id, ids["greenhouse:acme:1"]),
        (pat_id, ids["greenhouse:acme:2"]),
    ]
    pat_digest = next(d for d in rows if d.subscriber_id == pat_id)
    assert pat["Message-ID"] == f"<andon.digest.{pat_digest.id}.2026-11-20@andon.example>"


def test_a_second_run_at_the_same_moment_sends_nothing(engine, settings):
    _two_subscribers(engine)
    run_digests(settings, engine, at=RUN1)
    again = run_digests(settings, engine, at=RUN1)
    assert (again.due, again.sent, again.empty, again.failed) == (0, 0, 0, 0)
    assert len(outbox(settings)) == 2
    assert len(digests(engine)) == 2


def test_a_later_run_sends_only_new_postings(engine, settings):
    add_search(engine, "pat@example.com", query="plant manager")
    store(engine, job(1, "Plant Manager"))
    run_digests(settings, engine, at=RUN1)
    store(engine, job(1, "Plant Manager"), job(2, "Senior Plant Manager"), now=SEEN2)  # 1 again
    second = run_digests(settings, engine, at=RUN2)
    assert (second.due, second.sent) == (1, 1)
    latest = outbox(settings)[-1]
    assert latest["Subject"].startswith("1 new production job ")
    assert "Senior Plant Manager" in text_of(latest)
    assert text_of(latest).count("Plant Manager") == 1


def test_a_posting_matched_by_two_searches_of_one_subscriber_goes_out_once(engine, settings):
    add_search(engine, "pat@example.com", query="plant", name="Plant")
    add_search(engine, "pat@example.com", query="manager", name="Manager")
    store(engine, job(1, "Plant Manager"), job(2, "Production Manager"))
    summary = run_digests(settings, engine, at=RUN1)
    assert summary.due == 2
    texts = [text_of(m) for m in outbox(settings)]
    assert sum(t.count("Plant Manager") for t in texts) == 1
    assert sum("Production Manager" in t for t in texts) == 1
    assert len(delivered(engine)) == 2


def test_a_search_added_later_does_not_resend_what_an_older_one_sent(engine, settings):
    add_search(engine, "pat@example.com", query="plant")
    store(engine, job(1, "Plant Manager"))
    run_digests(settings, engine, at=RUN1)
    # the new search's first window reaches a day back, over the posting already sent
    add_search(engine, "pat@example.com", query="manager", now=RUN1 + timedelta(hours=1))
    second = run_digests(settings, engine, at=RUN2)
    assert (second.due, second.sent, second.empty) == (2, 0, 2)
    assert len(outbox(settings)) == 1


def test_a_reposted_job_is_not_sent_again(engine, settings):
    add_search(engine, "pat@example.com", query="plant manager")
    first = store(engine, job(1, "Plant Manager"))
    run_digests(settings, engine, at=RUN1)
    # the same job under a new id and URL on another board: the store merges it
    again = store(
        engine,
        job(1, "Plant Manager", source="acme-lever", external_id="lever:acme:9",
            url="https://jobs.lever.co/acme/9"),
        now=SEEN2,
    )  # fmt: skip
    assert again["lever:acme:9"] == first["greenhouse:acme:1"]
    second = run_digests(settings, engine, at=RUN2)
    assert (second.sent, second.empty) == (0, 1)
    assert len(outbox(settings)) == 1


def test_closed_and_expired_postings_never_go_out(engine, settings):
    add_search(engine, "pat@example.com", query="manager")
    ids = store(
        engine,
        job(1, "Plant Manager"),
        job(2, "Production Manager", valid_through=RUN1 - timedelta(minutes=1)),
        job(3, "Operations Manager"),
        job(4, "Shift Manager", valid_through=RUN1 + timedelta(days=30)),
    )
    with db.session_scope(engine) as s:
        close_postings(s, [ids["greenhouse:acme:3"]], now=SEEN)
    run_digests(settings, engine, at=RUN1)
    [msg] = outbox(settings)
    text = text_of(msg)
    assert "Plant Manager" in text
    assert "Shift Manager" in text
    assert "Production Manager" not in text
    assert "Operations Manager" not in text


def test_postings_closed_between_claim_and_send_are_dropped_and_all_gone_is_empty(engine, settings):
    add_search(engine, "pat@example.com", query="manager")
    add_search(engine, "sam@example.com", query="plant")
    ids = store(engine, job(1, "Plant Manager"), job(2, "Production Manager"))
    flaky = Recording(fail=[TransientSendError("451 try later")] * 2)
    first = run_digests(settings, engine, at=RUN1, mailer=flaky)
    assert (first.sent, first.retry) == (0, 2)
    assert {d.status for d in digests(engine)} == {"pending"}
    with db.session_scope(engine) as s:
        close_postings(s, [ids["greenhouse:acme:1"]], now=RUN1)
    mailer = Recording()
    second = run_digests(settings, engine, at=RUN1 + timedelta(minutes=5), mailer=mailer)
    assert (second.due, second.sent, second.empty, second.resumed) == (0, 1, 1, 2)
    [msg] = mailer.sent
    assert msg.to == "pat@example.com"
    assert "Production Manager" in msg.text
    assert "Plant Manager" not in msg.text
    assert msg.subject.startswith("1 new production job ")


@pytest.mark.parametrize("status", ["pending", "unsubscribed", "bounced", "complained"])
def test_only_active_subscribers_get_digests(engine, settings, status):
    sub_id, _ = add_search(engine, "pat@example.com", query="plant", confirmed=status != "pending")
    store(engine, job(1, "Plant Manager"))
    if status != "pending":
        with db.session_scope(engine) as s:
            unsubscribe(s, s.get(Subscriber, sub_id), status=status, reason="test")  # type: ignore[arg-type]
    summary = run_digests(settings, engine, at=RUN1)
    assert (summary.due, summary.sent) == (0, 0)
    assert outbox(settings) == []
    assert digests(engine) == []


def test_a_subscriber_who_leaves_between_claim_and_send_gets_nothing(engine, settings):
    sub_id, _ = add_search(engine, "pat@example.com", query="plant")
    store(engine, job(1, "Plant Manager"))
    run_digests(settings, engine, at=RUN1, mailer=Recording(fail=[TransientSendError("busy")]))
    with db.session_scope(engine) as s:
        unsubscribe(s, s.get(Subscriber, sub_id), reason="one-click")  # type: ignore[arg-type]
    mailer = Recording()
    summary = run_digests(settings, engine, at=RUN1 + timedelta(minutes=5), mailer=mailer)
    assert (summary.sent, summary.skipped, summary.failed) == (0, 1, 0)
    assert mailer.sent == []
    [d] = digests(engine)
    assert d.status == "failed"
    assert d.error == "not sent: subscriber is unsubscribed"


def test_nothing_matched_means_an_empty_digest_and_no_email(engine, settings):
    _, search_id = add_search(engine, "pat@example.com", query="brewery")
    store(engine, job(1, "Plant Manager"))
    summary = run_digests(settings, engine, at=RUN1)
    assert (summary.due, summary.sent, summary.empty) == (1, 0, 1)
    assert outbox(settings) == []
    [d] = digests(engine)
    assert (d.status, d.job_count, d.total_matches) == ("empty", 0, 0)
    with db.session_scope(engine) as s:
        assert s.get(SavedSearch, search_id).last_digest_at == RUN1


def test_the_cap_keeps_the_best_and_counts_them_all(engine, settings):
    settings.digest_cap = 2
    add_search(engine, "pat@example.com", query="manager")
    store(
        engine,
        job(1, "Manager"),
        job(2, "Plant Manager", salary_min=90000, salary_max=100000, annual_min_usd=90000,
            annual_max_usd=100000, salary_currency="USD", salary_period="year"),
        job(3, "Production Manager"),
    )  # fmt: skip
    run_digests(settings, engine, at=RUN1)
    [msg] = outbox(settings)
    assert msg["Subject"] == "3 new production jobs for “manager”"
    text = text_of(msg)
    assert "Here are the best 2." in text
    assert "1. Plant Manager" in text  # the stated salary ranks it first
    assert "See all 3 matches: https://andon.example/jobs?q=manager" in text
    [d] = digests(engine)
    assert (d.job_count, d.total_matches) == (2, 3)
    assert len(delivered(engine)) == 2


def test_dry_run_writes_and_sends_nothing(engine, settings):
    _two_subscribers(engine)
    add_search(engine, "pat@example.com", query="plant", name="Overlap")
    mailer = Recording()
    summary = run_digests(settings, engine, at=RUN1, dry_run=True, mailer=mailer)
    assert summary.due == 3
    assert mailer.sent == []
    assert digests(engine) == []
    assert delivered(engine) == []
    planned = {(p.email, p.search_name): p for p in summary.planned}
    assert planned["pat@example.com", "Plant jobs"].job_count == 2
    assert planned["sam@example.com", "Remote sup"].titles == ("Production Supervisor · Company 3",)
    # the overlapping search would get nothing: its postings went into the first one
    assert ("pat@example.com", "Overlap") not in planned
    assert summary.empty == 1
    with db.session_scope(engine) as s:
        assert all(x.last_digest_at is None for x in s.execute(select(SavedSearch)).scalars())
    real = run_digests(settings, engine, at=RUN1)
    assert (real.sent, real.empty) == (2, 1)


def test_render_digest_for_rebuilds_a_sent_digest(engine, settings):
    add_search(engine, "pat@example.com", query="plant manager")
    store(engine, job(1, "Plant Manager"))
    run_digests(settings, engine, at=RUN1)
    [d] = digests(engine)
    with db.session_scope(engine) as s:
        rendered = render_digest_for(s, settings, d.id)  # type: ignore[arg-type]
        assert rendered.subject == outbox(settings)[0]["Subject"]
        assert rendered.html is not None
        assert "Plant Manager" in rendered.html
        with pytest.raises(LookupError):
            render_digest_for(s, settings, 999)


def test_a_search_whose_query_no_longer_parses_fails_its_digest_only(engine, settings):
    _, broken_id = add_search(engine, "pat@example.com", query="plant")
    add_search(engine, "sam@example.com", query="manager")
    store(engine, job(1, "Plant Manager"))
    with db.session_scope(engine) as s:
        s.get(SavedSearch, broken_id).query = "title:(plant"
    summary = run_digests(settings, engine, at=RUN1)
    assert (summary.due, summary.sent, summary.failed) == (2, 1, 1)
    failed = next(d for d in digests(engine) if d.status == "failed")
    assert failed.error.startswith("the saved query no longer parses")


# --- provider outcomes -----------------------------------------------------------------------


def test_transient_errors_retry_next_run_and_fail_after_five_attempts(engine, settings):
    add_search(engine, "pat@example.com", query="plant")
    store(engine, job(1, "Plant Manager"))
    at = RUN1
    for attempt in range(1, 6):
        summary = run_digests(
            settings, engine, at=at, mailer=Recording(fail=[TransientSendError("503 down")])
        )
        [d] = digests(engine)
        assert d.attempts == attempt
        assert d.error == "503 down"
        if attempt < 5:
            assert (d.status, summary.retry, summary.failed) == ("pending", 1, 0)
        else:
            assert (d.status, summary.retry, summary.failed) == ("failed", 0, 1)
        at += timedelta(minutes=5)


def test_smtp_delivers_each_digest_over_loopback(engine, settings, smtp_server):
    controller, handler = smtp_server
    settings.mailer = "smtp"
    settings.smtp_url = SecretStr(f"smtp://127.0.0.1:{controller.port}?starttls=off")
    _two_subscribers(engine)
    summary = run_digests(settings, engine, at=RUN1)
    assert summary.sent == 2
    assert sorted(rcpts[0] for _from, rcpts in handler.envelopes) == [
        "pat@example.com",
        "sam@example.com",
    ]
    assert len(handler.connections) == 1  # one connection per run
    parsed = [email.message_from_bytes(m, policy=email.policy.default) for m in handler.messages]
    pat = next(m for m in parsed if m["To"] == "pat@example.com")
    assert pat["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Assistant Plant Manager" in text_of(pat)
    assert run_digests(settings, engine, at=RUN1).sent == 0
    assert len(handler.messages) == 2


def _sendgrid_settings(settings: Settings, httpserver: HTTPServer) -> Settings:
    settings.mailer = "sendgrid"
    settings.sendgrid_api_key = SecretStr("SG.test-key_ABCDEFGHIJ.klmnop")
    settings.sendgrid_host = httpserver.url_for("/").rstrip("/")
    return settings


def test_sendgrid_400_fails_that_digest_with_the_providers_message(
    engine, settings, httpserver: HTTPServer
):
    _sendgrid_settings(settings, httpserver)
    _two_subscribers(engine)
    accepted: list[dict[str, Any]] = []

    def handler(request: Request) -> Response:
        body = request.get_json()
        if body["personalizations"][0]["to"][0]["email"] == "sam@example.com":
            errors = {"errors": [{"message": "The to email does not contain a valid address."}]}
            return Response(json.dumps(errors), status=400, content_type="application/json")
        accepted.append(body)
        return Response("", status=202, headers={"X-Message-Id": "sg-pat-1"})

    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(handler)
    summary = run_digests(settings, engine, at=RUN1)
    assert (summary.sent, summary.failed) == (1, 1)
    by_status = {d.status: d for d in digests(engine)}
    assert by_status["sent"].provider_message_id == "sg-pat-1"
    assert by_status["failed"].error == (
        "SendGrid rejected the message (400): The to email does not contain a valid address."
    )
    [body] = accepted
    assert body["custom_args"] == {
        "andon_kind": "digest",
        "andon_digest_id": str(by_status["sent"].id),
    }
    assert run_digests(settings, engine, at=RUN1).failed == 0  # failed for good, not retried


def test_sendgrid_429_then_202_sends_once(engine, settings, httpserver: HTTPServer):
    _sendgrid_settings(settings, httpserver)
    add_search(engine, "pat@example.com", query="plant")
    store(engine, job(1, "Plant Manager"))
    httpserver.expect_ordered_request(SEND_PATH).respond_with_response(
        Response("", status=429, headers={"X-RateLimit-Reset": "0"})
    )
    httpserver.expect_ordered_request(SEND_PATH).respond_with_response(
        Response("", status=202, headers={"X-Message-Id": "sg-after-429"})
    )
    waits: list[float] = []
    mailer = SendGridMailer(
        settings.sendgrid_api_key.get_secret_value(),
        settings.sendgrid_host,
        sleep=waits.append,
    )
    summary = run_digests(settings, engine, at=RUN1, mailer=mailer)
    assert summary.sent == 1
    assert len(httpserver.log) == 2
    assert len(waits) == 1
    [d] = digests(engine)
    assert (d.status, d.provider_message_id, d.attempts) == ("sent", "sg-after-429", 1)
    httpserver.check_assertions()


def test_sendgrid_auth_failure_stops_the_run_and_leaves_digests_pending(
    engine, settings, httpserver: HTTPServer, caplog
):
    _sendgrid_settings(settings, httpserver)
    settings.operator_email = "ops@example.com"
    _two_subscribers(engine)
    httpserver.expect_request(SEND_PATH).respond_with_json(
        {"errors": [{"message": "The provided authorization grant is invalid"}]}, status=401
    )
    summary = run_digests(settings, engine, at=RUN1)
    assert summary.stopped is not None
    assert "authorization grant is invalid" in summary.stopped
    assert (summary.sent, summary.failed) == (0, 0)
    # one call for the first digest, one for the operator alert through the same provider
    assert len(httpserver.log) == 2
    rows = digests(engine)
    assert [(d.status, d.attempts) for d in rows] == [("pending", 0), ("pending", 0)]
    assert "digest run stopped" in caplog.text


def test_a_misconfigured_mailer_fails_before_any_claim(engine, settings):
    from alerts.mailers import MailerConfigError

    settings.mailer = "smtp"
    add_search(engine, "pat@example.com", query="plant")
    with pytest.raises(MailerConfigError):
        run_digests(settings, engine, at=RUN1)
    assert digests(engine) == []


# --- concurrency and crashes -----------------------------------------------------------------


def _many(engine: Engine, n: int) -> list[str]:
    addresses = [f"user{i}@example.com" for i in range(n)]
    for address in addresses:
        add_search(engine, address, query="plant")
    store(engine, job(1, "Plant Manager"))
    return addresses


def test_two_senders_at_once_send_each_digest_once(engine, settings):
    addresses = _many(engine, 12)
    mailer = Recording()
    summaries: list[Any] = []
    barrier = threading.Barrier(2)

    def sender() -> None:
        barrier.wait()
        summaries.append(run_digests(settings, engine, at=RUN1, mailer=mailer))

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(summaries) == 2
    assert sorted(m.to for m in mailer.sent) == sorted(addresses)
    assert sum(s.sent for s in summaries) == 12
    assert sum(s.due for s in summaries) >= 12
    assert len(digests(engine)) == 12


@pytest.mark.parametrize("where", ["before", "after"])
def test_killed_mid_run_the_next_run_sends_the_rest_once(engine, db_url, settings, where):
    addresses = _many(engine, 6)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANDON_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.alerts.kill_helper", db_url, str(settings.outbox),
         RUN1.isoformat(), "2", where],
        cwd=PROJECT, env={**env, "PYTHONPATH": str(PROJECT)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline()
        assert line.strip() == "blocked", proc.stderr.read()
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    states = Counter(d.status for d in digests(engine))
    assert states == {"sent": 2, "sending": 1, "pending": 3}
    in_flight = next(d for d in digests(engine) if d.status == "sending")
    with db.session_scope(engine) as s:
        in_flight_to = s.get(Subscriber, in_flight.subscriber_id).email

    # the next run: sending rows count as abandoned at once here (the default waits 10 min)
    summary = run_digests(
        settings, engine, at=RUN1 + timedelta(minutes=1), mailer=FileMailer(settings.outbox),
        resend_sending_after=timedelta(0),
    )  # fmt: skip
    assert (summary.due, summary.sent, summary.resumed) == (0, 4, 4)
    assert {d.status for d in digests(engine)} == {"sent"}
    per_inbox = Counter((m["To"], m["Message-ID"]) for m in outbox(settings))
    assert {to for to, _ in per_inbox} == set(addresses)  # nothing lost
    repeated = {to: n for (to, _), n in per_inbox.items() if n > 1}
    # at most the one message in flight went out twice, with the same Message-ID
    assert repeated == ({in_flight_to: 2} if where == "after" else {})
    assert run_digests(settings, engine, at=RUN1 + timedelta(minutes=2)).sent == 0


def test_a_fresh_sending_row_is_left_to_its_sender(engine, settings):
    """Another sender may be in the provider call right now: only a stale row is resent."""
    add_search(engine, "pat@example.com", query="plant")
    store(engine, job(1, "Plant Manager"))
    run_digests(settings, engine, at=RUN1, mailer=Recording(fail=[TransientSendError("busy")]))
    with db.session_scope(engine) as s:
        d = s.execute(select(Digest)).scalar_one()
        d.status, d.sending_at = "sending", db.utcnow()
    mailer = Recording()
    summary = run_digests(settings, engine, at=RUN1 + timedelta(minutes=1), mailer=mailer)
    assert (summary.sent, summary.waiting) == (0, 1)
    assert mailer.sent == []
    [d] = digests(engine)
    assert d.status == "sending"
