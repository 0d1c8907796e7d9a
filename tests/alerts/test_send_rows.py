"""The send phase's one-statement reads against the general path: `stored_jobs` gives the jobs
`select(Delivery, Posting)` + `listings()` gave; `take_next` locks like a take."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.dialects import postgresql
from sqlmodel import col

import db
from alerts.digests import run_digests
from alerts.digests.rows import is_live
from alerts.digests.send_rows import (
    _JOBS,
    _claimable_unindexed,
    claimable,
    stored_jobs,
    take_next,
)
from alerts.liveness import closed_jobs
from alerts.mailers import TransientSendError
from alerts.models import ClosedNotice, Delivery, Digest, Subscriber
from alerts.render import DigestJob
from config import Settings
from pipeline.models import Posting
from pipeline.store import close_postings
from search.sql import listings
from tests.alerts.test_digests import RUN1, Recording, add_search, digests, job, store
from tests.alerts.test_digests import settings as settings  # the fixture

FACTS = {
    "shifts": [{"value": "night", "quote": "nights, 3 on 4 off"}],
    "union": {"value": "union", "quote": "UAW plant"},
}
MARKET = {"manager": {"US": 130000}}


def _pending_digest(engine, settings: Settings) -> int:
    """One claimed, unsent digest of six varied postings; one of them closed after the claim."""
    add_search(engine, "pat@example.com", query="manager")
    ids = store(
        engine,
        job(1, "Plant Manager", salary_min=90000.5, salary_max=120000, salary_currency="USD",
            salary_period="year", annual_min_usd=90000.5, annual_max_usd=120000, facts=FACTS,
            seniority="manager", country="US"),
        job(2, "Production Manager", source="himalayas", attribution="Himalayas",
            posted_or_earlier=True, workplace="remote", location_text=None),
        job(3, "Operations Manager", url=None, apply_url="https://apply.example/3"),
        job(4, "Shift Manager", valid_through=RUN1 + timedelta(days=30), salary_min=25,
            salary_max=None, salary_currency="EUR", salary_period="hour", annual_min_usd=None),
        job(5, "Quality Manager", source="acme-lever", attribution="Lever jobs"),
        job(6, "Maintenance Manager", posted_at=None),
    )  # fmt: skip
    # job 5 seen again under another source: a posting with two sources
    store(engine, job(5, "Quality Manager", source="acme-greenhouse", external_id="gh:5"))
    failing = Recording(fail=[TransientSendError("451 later")])
    run_digests(settings, engine, at=RUN1, mailer=failing)
    with db.session_scope(engine) as s:
        close_postings(s, [ids["greenhouse:acme:3"]], now=RUN1)
    [digest] = digests(engine)
    assert digest.status == "pending" and digest.id is not None
    return digest.id


def test_stored_jobs_are_the_listing_path_jobs(engine, settings: Settings) -> None:
    digest_id = _pending_digest(engine, settings)
    with db.session_scope(engine) as s:
        general = s.execute(
            select(Delivery, Posting)
            .join(Posting, col(Posting.id) == col(Delivery.posting_id))
            .where(col(Delivery.digest_id) == digest_id)
            .order_by(col(Delivery.rank), col(Delivery.id))
        ).all()
        shaped = listings(s, [p for _, p in general])
        fast, any_closed = stored_jobs(s, digest_id)
    assert len(fast) == len(general) == 6
    assert not any_closed
    assert any(len(item["sources"]) == 2 for item in shaped)
    for ours, (delivery, p), theirs in zip(fast, general, shaped, strict=True):
        assert ours.why == delivery.why and ours.attribution == p.attribution
        for key in ours.listing:
            if key == "location":
                assert ours.listing[key] == {k: theirs[key][k] for k in ("text", "country")}
            else:
                assert ours.listing[key] == theirs[key], key
        for at in (None, RUN1, RUN1 + timedelta(days=31)):
            assert ours.is_live(at) == is_live(p, at)
        as_job = {"why": delivery.why, "attribution": p.attribution, "market_table": MARKET}
        assert DigestJob.from_listing(ours.listing, **as_job) == DigestJob.from_listing(
            theirs, **as_job
        )
    assert [j.is_live(RUN1) for j in fast].count(False) == 1  # the one closed after the claim


def test_stored_jobs_says_when_the_digest_lists_closed_jobs(engine, settings: Settings) -> None:
    digest_id = _pending_digest(engine, settings)
    with db.session_scope(engine) as s:
        assert stored_jobs(s, digest_id)[1] is False
        assert closed_jobs(s, digest_id, "UTC") == []
        digest = s.get(Digest, digest_id)
        assert digest is not None
        closed = s.execute(select(col(Posting.id)).where(col(Posting.status) == "closed"))
        s.add(ClosedNotice(subscriber_id=digest.subscriber_id, posting_id=closed.scalar_one(),
                           digest_id=digest_id))  # fmt: skip
    with db.session_scope(engine) as s:
        assert stored_jobs(s, digest_id)[1] is True
        assert [c.title for c in closed_jobs(s, digest_id, "UTC")] == ["Operations Manager"]


def test_take_next_reads_them_fresh(engine, settings: Settings) -> None:
    digest_id = _pending_digest(engine, settings)
    cutoff = RUN1
    with db.session_scope(engine) as s:
        taken = take_next(s, digest_id - 1, digest_id, cutoff)
        assert taken is not None
        digest, subscriber, search = taken
        assert subscriber is not None and search is not None
        assert (digest.id, subscriber.id, search.id) == (
            digest_id, digest.subscriber_id, digest.saved_search_id,
        )  # fmt: skip
        assert subscriber.status == "active"
        with db.session_scope(engine) as other:
            other.execute(update(Subscriber).values(status="unsubscribed"))
        s.commit()
        again = take_next(s, digest_id - 1, digest_id, cutoff)
        assert again is not None and again[1] is not None
        assert again[1].status == "unsubscribed"  # not the session's cached row
        s.execute(update(Digest).values(status="sent"))
        assert take_next(s, digest_id - 1, digest_id, cutoff) is None


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_take_next_skips_a_digest_another_sender_holds(engine, settings: Settings) -> None:
    digest_id = _pending_digest(engine, settings)
    with db.session_scope(engine) as first, db.session_scope(engine) as second:
        assert take_next(first, 0, digest_id, RUN1) is not None
        assert take_next(second, 0, digest_id, RUN1) is None
        # the lock is on the digest alone: the other sender may still read its subscriber
        assert second.get(Subscriber, 1) is not None
    with db.session_scope(engine) as third:
        assert take_next(third, 0, digest_id, RUN1) is not None


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_take_next_passes_over_held_digests_to_the_next_free_one(engine, settings) -> None:
    for address in ("pat@example.com", "sam@example.com", "kim@example.com"):
        add_search(engine, address, query="manager")
    store(engine, job(1, "Plant Manager"))
    run_digests(settings, engine, at=RUN1, mailer=Recording(fail=[TransientSendError("451")] * 3))
    ids = [d.id for d in digests(engine)]
    assert len(ids) == 3 and all(i is not None for i in ids)
    first_id, second_id, third_id = (int(i) for i in ids if i is not None)
    with db.session_scope(engine) as a, db.session_scope(engine) as b:
        held = take_next(a, 0, third_id, RUN1)
        assert held is not None and held[0].id == first_id
        nxt = take_next(b, 0, third_id, RUN1)
        assert nxt is not None and nxt[0].id == second_id  # not first_id: a holds it
        assert take_next(b, second_id, second_id, RUN1) is None  # an empty range
    with db.session_scope(engine) as c:
        assert take_next(c, first_id, third_id, RUN1) is not None


def _six_digests(engine, settings: Settings) -> list[int]:
    """Six claimed digests (one per subscriber), left pending by a failing mailer."""
    for n in range(6):
        add_search(engine, f"s{n}@example.com", query="manager")
    store(engine, job(1, "Plant Manager"))
    run_digests(settings, engine, at=RUN1, mailer=Recording(fail=[TransientSendError("451")] * 6))
    ids = sorted(int(d.id) for d in digests(engine) if d.id is not None)
    assert len(ids) == 6
    return ids


def test_the_takes_claimable_case_is_claimable(engine, settings: Settings) -> None:
    """The take's CASE (no status index can serve it) picks the rows `claimable` picks."""
    ids = _six_digests(engine, settings)
    cutoff = RUN1 + timedelta(hours=1)
    states = [
        ("pending", None), ("sending", cutoff - timedelta(minutes=1)),
        ("sending", cutoff + timedelta(minutes=1)), ("sending", None), ("sent", None),
        ("failed", cutoff - timedelta(minutes=1)),
    ]  # fmt: skip
    with db.session_scope(engine) as s:
        for digest_id, (status, sending_at) in zip(ids, states, strict=True):
            s.execute(
                update(Digest)
                .where(col(Digest.id) == digest_id)
                .values(status=status, sending_at=sending_at)
            )
    with db.session_scope(engine) as s:
        plain = s.execute(select(col(Digest.id)).where(claimable(cutoff))).scalars().all()
        ours = s.execute(select(col(Digest.id)).where(_claimable_unindexed(cutoff)))
        assert sorted(ours.scalars().all()) == sorted(plain) == ids[:2]
        taken: list[int] = []
        while (row := take_next(s, taken[-1] if taken else 0, ids[-1], cutoff)) is not None:
            assert row[0].id is not None
            taken.append(row[0].id)
        assert taken == ids[:2]


def _parallel_for_free(session: Any) -> None:
    """Make a parallel plan cost nothing to start, for the rest of the transaction."""
    for knob in ("parallel_setup_cost", "parallel_tuple_cost", "min_parallel_table_scan_size",
                 "min_parallel_index_scan_size"):  # fmt: skip
        session.execute(text(f"SET LOCAL {knob} = 0"))


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_digests_jobs_are_never_read_by_a_parallel_plan(engine, settings: Settings) -> None:
    """Without statistics on deliveries the planner chose a parallel plan (a worker's start
    cost ~10 ms a digest); the row lock rules one out. With parallel plans made free, the
    same statement without the lock gets a Gather."""
    digest_id = _pending_digest(engine, settings)
    unlocked = _JOBS._clone()
    unlocked._for_update_arg = None
    with db.session_scope(engine) as s:
        _parallel_for_free(s)
        plans = {
            name: "\n".join(s.execute(explain_of(stmt.params(digest_id_=digest_id))).scalars())
            for name, stmt in (("ours", _JOBS), ("unlocked", unlocked))
        }
        assert "Gather" in plans["unlocked"]  # the knob works: this one would go parallel
        assert "Gather" not in plans["ours"]
        assert len(stored_jobs(s, digest_id)[0]) == 6


def explain_of(stmt: Any) -> Any:
    """`EXPLAIN` of a statement with its parameters' values written in."""
    sql = stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    return text(f"EXPLAIN {sql}")
