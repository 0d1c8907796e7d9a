"""A posting whose date is only a bound ("Posted 30+ Days Ago") reads "30+ days ago" everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import db
from pipeline.store import store_batch
from search.definitions import build_filters
from search.sql import listings, search_postings
from tests.factories import posting


def _store_bound(engine) -> None:
    now = datetime.now(UTC)
    with db.session_scope(engine) as s:
        store_batch(
            s,
            [
                posting(external_id="old", title="Plant Manager", posted_at=now - timedelta(days=30),
                        posted_or_earlier=True),
                posting(external_id="new", title="Production Supervisor", company="Beta",
                        url="https://jobs.example/new", posted_at=now - timedelta(days=3)),
            ],
            now=now,
        )  # fmt: skip


def test_the_listing_json_carries_the_bound_and_jobs_pages_show_30_plus_days(engine, client):
    _store_bound(engine)
    with db.session_scope(engine) as s:
        rows = listings(s, search_postings(s, None, build_filters(), limit=10, offset=0))
    flags = {r["title"]: r["posted_or_earlier"] for r in rows}
    assert flags == {"Plant Manager": True, "Production Supervisor": False}
    page = client.get("/jobs")
    assert page.status_code == 200, page.text
    assert "posted 30+ days ago" in page.text
    assert page.text.count("days ago") == 1  # the exact date stays a date
    [old] = [r for r in rows if r["posted_or_earlier"]]
    detail = client.get(f"/jobs/{old['id']}")
    assert detail.status_code == 200 and "Posted 30+ days ago" in detail.text
