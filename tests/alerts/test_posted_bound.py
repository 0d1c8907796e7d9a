"""Digests show a date that is only a bound as "30+ days ago", never as an exact day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerts.formatting import posted
from alerts.render import DigestJob, render_digest
from config import MARKET_PAY_USD
from tests.alerts.conftest import make_context

NOW = datetime(2026, 11, 30, 8, tzinfo=UTC)


def test_posted_reads_a_bound_as_days_or_more():
    at = NOW - timedelta(days=30)
    assert posted(at, True, now=NOW) == "30+ days ago"
    assert posted(at.isoformat(), True, now=NOW + timedelta(days=2)) == "32+ days ago"
    assert posted(at, False, now=NOW) == "Oct 31, 2026"
    assert posted(None, True) == "" and posted("garbage", True) == ""


def test_a_digest_shows_30_plus_days_ago_for_a_bound():
    listing = {
        "id": 5, "title": "Plant Manager", "company": "Acme", "url": "https://x.example/5",
        "location": {"text": "Toledo, OH", "country": "US"}, "workplace": "onsite",
        "salary": None, "seniority": "manager",
        "posted_at": (datetime.now(UTC) - timedelta(days=30)).isoformat(),
        "posted_or_earlier": True,
    }  # fmt: skip
    job = DigestJob.from_listing(listing, why="title matches", market_table=MARKET_PAY_USD)
    rendered = render_digest(make_context(jobs=[job], total_matches=1))
    assert "Posted 30+ days ago" in rendered.text
    assert "Posted 30+ days ago" in rendered.html
