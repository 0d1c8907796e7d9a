"""Closing postings a source stopped listing: only after a clean, complete crawl."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

import db
from pipeline.expiry import CrawlOutcome, close_unseen, closing_verdict
from pipeline.models import CrawlRun, Posting
from pipeline.store import store_batch
from tests.factories import T0, posting

LATER = T0 + timedelta(days=1)


def _seed(engine):
    with db.session_scope(engine) as s:
        store_batch(
            s,
            [
                posting(source="acme", external_id="a1", url=None),
                posting(
                    source="acme",
                    external_id="a2",
                    url=None,
                    city="Toledo",
                    region="US-OH",
                    latitude=None,
                ),
                # a2's job is also listed elsewhere: closing acme's sighting must not close it
                posting(
                    source="other",
                    external_id="o2",
                    url=None,
                    city="Toledo",
                    region="US-OH",
                    latitude=None,
                ),
            ],
            now=T0,
        )
        s.add(
            CrawlRun(source="acme", kind="greenhouse", started_at=T0, status="finished", fetched=10)
        )
    with db.session_scope(engine) as s:
        # the new crawl sees only a1
        store_batch(s, [posting(source="acme", external_id="a1", url=None)], now=LATER)


def _statuses(engine):
    with db.session_scope(engine) as s:
        return {p.city: p.status for p in s.execute(select(Posting)).scalars()}


def test_clean_crawl_closes_what_it_did_not_see_but_not_jobs_listed_elsewhere(engine):
    _seed(engine)
    outcome = CrawlOutcome("finished", seen=9, errors=0, started_at=LATER)
    with db.session_scope(engine) as s:
        assert closing_verdict(s, "acme", outcome) is None
        assert (
            close_unseen(s, "acme", since=LATER, now=LATER) == 0
        )  # Toledo still listed by "other"
    with db.session_scope(engine) as s:
        assert close_unseen(s, "other", since=LATER + timedelta(seconds=1), now=LATER) == 1
    assert _statuses(engine) == {"Dearborn": "open", "Toledo": "closed"}


def test_failed_cut_short_or_erroring_crawls_close_nothing(engine):
    _seed(engine)
    with db.session_scope(engine) as s:
        for outcome, why in [
            (CrawlOutcome("shutdown", 9, 0, LATER), "did not finish cleanly"),
            (CrawlOutcome("closespider_timeout", 9, 0, LATER), "did not finish cleanly"),
            (CrawlOutcome("finished", 9, 2, LATER), "error"),
            (CrawlOutcome("finished", 3, 0, LATER), "too few"),
            (CrawlOutcome("finished", 9, 0, LATER, shared=True), "shared"),
        ]:
            verdict = closing_verdict(s, "acme", outcome)
            assert verdict is not None
            assert why in verdict
    assert _statuses(engine) == {"Dearborn": "open", "Toledo": "open"}


def test_a_closed_job_seen_again_reopens(engine):
    _seed(engine)
    with db.session_scope(engine) as s:
        close_unseen(s, "acme", since=LATER, now=LATER)
        close_unseen(s, "other", since=LATER + timedelta(seconds=1), now=LATER)
    with db.session_scope(engine) as s:
        res = store_batch(
            s,
            [
                posting(
                    source="other",
                    external_id="o2",
                    url=None,
                    city="Toledo",
                    region="US-OH",
                    latitude=None,
                )
            ],
            now=LATER + timedelta(days=1),
        )
    assert res.reopened == 1
    assert _statuses(engine)["Toledo"] == "open"
