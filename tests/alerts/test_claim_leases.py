"""On PostgreSQL the due searches come in leased buckets of subscribers: a bucket another
process holds is skipped, then waited for and re-read once; two runs started together match
each due search once between them, and every search is still claimed once."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import text

from alerts.digests import run_digests
from alerts.digests.due import Due
from alerts.digests.lease import LEASE_CLASS, due_pages
from tests.alerts.test_digests import RUN1, Recording, add_search, delivered, digests, job, store
from tests.alerts.test_digests import settings as settings_fixture  # noqa: F401  (pytest finds it)

lease_module = importlib.import_module("alerts.digests.lease")
match_module = importlib.import_module("alerts.digests.match")

on_postgres = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def _subscribers(engine: Any, n: int) -> list[int]:
    return [add_search(engine, f"p{i}@example.com", query="manager")[0] for i in range(n)]


def _subs(page: Sequence[Due]) -> list[int]:
    return [d.subscriber.id for d in page if d.subscriber.id is not None]


@on_postgres
def test_a_bucket_held_elsewhere_is_skipped_then_read_once_its_holder_lets_go(engine, monkeypatch):
    monkeypatch.setattr(lease_module, "BUCKET", 1)  # one subscriber per bucket
    subs = _subscribers(engine, 4)
    held = subs[1]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as other:
        other.execute(text("SELECT pg_advisory_lock(:c, :b)"), {"c": LEASE_CLASS, "b": held})
        pages = due_pages(engine, RUN1, batch=100)
        first = next(pages)
        assert _subs(first) == [subs[0], subs[2], subs[3]]
        # The holder stops without claiming (as a crashed process would): its bucket is read.
        other.execute(text("SELECT pg_advisory_unlock(:c, :b)"), {"c": LEASE_CLASS, "b": held})
        assert _subs(next(pages)) == [held]
        assert list(pages) == []


@on_postgres
def test_leases_go_back_after_each_page_and_when_the_reader_stops(engine, monkeypatch):
    monkeypatch.setattr(lease_module, "BUCKET", 1)
    subs = _subscribers(engine, 3)
    pages = due_pages(engine, RUN1, batch=1)
    assert _subs(next(pages)) == [subs[0]]
    assert _subs(next(pages)) == [subs[1]]  # the first page's lease is given back here
    pages.close()  # the caller stopped (an error): every lease it held goes back
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as other:
        for sub in subs:
            got = other.execute(
                text("SELECT pg_try_advisory_lock(:c, :b)"), {"c": LEASE_CLASS, "b": sub}
            ).scalar()
            assert got is True
        other.execute(text("SELECT pg_advisory_unlock_all()"))


@on_postgres
def test_two_runs_started_together_match_each_due_search_once(engine, settings, monkeypatch):
    monkeypatch.setattr(lease_module, "BUCKET", 1)
    monkeypatch.setattr(importlib.import_module("alerts.digests.claim"), "BATCH", 1)
    subs = _subscribers(engine, 6)
    store(engine, job(1, "Plant Manager"), job(2, "Production Manager"))
    matched: list[int] = []
    both_matching = threading.Barrier(2, timeout=20)
    first_call: set[int] = set()
    real_match = match_module.PageMatcher.match

    def counting_match(self: Any, session: Any, due: Sequence[Due]) -> Any:
        me = threading.get_ident()
        if me not in first_call:
            first_call.add(me)
            # Both runs hold a page at once: without leases they would hold the same one.
            both_matching.wait()
        matched.extend(d.search_id for d in due)
        return real_match(self, session, due)

    monkeypatch.setattr(match_module.PageMatcher, "match", counting_match)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            run_digests(settings, engine, at=RUN1, mailer=Recording())
        except BaseException as exc:  # the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(matched) == len(set(matched)) == len(subs)
    assert len(digests(engine)) == len(subs)
    assert sorted(s for s, _p, _d in delivered(engine)) == sorted(subs * 2)
