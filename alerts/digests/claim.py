"""Phase 1 of a run: claim each due search's digest once, in short transactions of `CHUNK`
searches.

A claim inserts the `Digest` outbox row for (search, period) — the unique constraint makes a
repeated or concurrent claim a no-op — picks the matching postings, inserts their `Delivery`
rows (unique per subscriber and posting, so a posting goes to a person once, ever, whichever
search matched it), and advances the search's `last_digest_at` / `next_due_at`. A chunk's
transaction first locks its searches' rows (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so senders
share the work without waiting on each other; SQLite: the database's write lock) and claims only
those still at the occurrence it read: only the first claimer wins. Each step is one statement
for the whole chunk. Nothing matched → the digest is `empty`.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from alerts.digests.due import BATCH, Due, count_due
from alerts.digests.lease import due_pages
from alerts.digests.match import Page, PageMatcher, gc_paused
from alerts.digests.rows import insert_columns, insert_ignore_many
from alerts.digests.summary import ProgressFn
from alerts.models import ClosedNotice, Delivery, Digest, SavedSearch
from config import Settings
from db import id_in, session_scope, utcnow
from search.matcher import Match

CHUNK = 500  # due searches claimed in one transaction (its deliveries: one statement)
# Core tables: an UPDATE with one parameter set per row is an executemany (ORM would not take it)
_SEARCHES: Any = SavedSearch.__table__  # type: ignore[attr-defined]
_DIGESTS: Any = Digest.__table__  # type: ignore[attr-defined]


@dataclass(slots=True)
class ClaimCounts:
    """What the claim phase did: searches due, and the new digests that are empty or failed."""

    due: int = 0
    empty: int = 0
    failed: int = 0


def claim_due(
    settings: Settings, engine: Engine, at: datetime, progress: ProgressFn, batch: int | None = None
) -> ClaimCounts:
    """Claim the digest of every search due at `at`, a page of `batch` searches at a time
    (memory bounded by the page), `CHUNK` searches per transaction."""
    counts = ClaimCounts()
    with session_scope(engine) as session:
        total = count_due(session, at)
    progress("claim", 0, total)
    matcher = PageMatcher(at)
    # On PostgreSQL the pages are leased: processes started together each match other pages.
    for due in due_pages(engine, at, batch or BATCH):
        # The collector waits until the page's matches are gone (`gc_paused`): resumed between
        # matching and claiming, its next collection would walk every one of them once more.
        with gc_paused():
            with session_scope(engine) as session:
                page = matcher.match(session, due)
            for i in range(0, len(due), CHUNK):
                statuses = claim_chunk(settings, engine, due[i : i + CHUNK], page)
                counts.due += len(statuses)
                counts.empty += statuses.count("empty")
                counts.failed += statuses.count("failed")
                progress("claim", counts.due, max(total, counts.due))
            del page, due  # before the collector resumes, and the next page's are built
    return counts


@dataclass(slots=True)
class _Claim:
    """A search this transaction won, and the digest it makes."""

    due: Due
    chosen: list[Match]  # the matches it delivers, best first (capped)
    ranked: int  # how many it could have delivered
    status: str  # pending, empty or failed
    error: str | None
    digest_id: int | None = None


def claim_chunk(
    settings: Settings, engine: Engine, chunk: Sequence[Due], page: Page
) -> list[str | None]:
    """One transaction: claim these searches (each new digest's status, in order; None for
    a search another sender claimed first or whose period was served already)."""
    with gc_paused(), session_scope(engine) as session:
        won = _lock(session, chunk)
        claims = [_plan(settings, d, page) for d in chunk if d.search_id in won]
        _insert_digests(session, claims)
        made = [c for c in claims if c.digest_id is not None]
        _advance(session, claims)
        _deliver(session, made)
        _note_closed(session, made, page)
    by_search = {c.due.search_id: c.status for c in made}
    return [by_search.get(d.search_id) for d in chunk]


def _lock(session: Session, chunk: Sequence[Due]) -> set[int]:
    """Lock the chunk's search rows; the ids still at the occurrence we read (ours to claim).

    PostgreSQL skips rows another sender has locked: senders that start together walk the due
    searches in the same order, and without SKIP LOCKED each would wait on the first one's
    claims and then lose them. SQLite has one writer at a time: a first write takes the lock,
    and what we read after it stays so until we commit.
    """
    ids = [d.search_id for d in chunk]
    if not ids:
        return set()
    stmt = select(col(SavedSearch.id), col(SavedSearch.next_due_at)).where(
        id_in(col(SavedSearch.id), ids, session)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    else:
        session.execute(
            update(SavedSearch)
            .where(col(SavedSearch.id) == ids[0])
            .values(next_due_at=SavedSearch.next_due_at)
        )
    seen = {d.search_id: d.seen_due_at for d in chunk}
    return {i for i, due_at in session.execute(stmt) if due_at == seen[i]}


def _plan(settings: Settings, d: Due, page: Page) -> _Claim:
    """What the search's digest will hold; its postings are taken at once, so the subscriber's
    next search (maybe in this chunk) picks others."""
    broken = page.broken.get(d.search_id)
    if broken is not None:
        return _Claim(d, [], 0, "failed", broken)
    chosen, ranked = page.top(d, settings.digest_cap)
    assert d.subscriber.id is not None
    # Taken even if another sender delivers some first: then they went to this person already.
    page.take(d.subscriber.id, (m.posting_id for m in chosen))
    return _Claim(d, chosen, ranked, "pending" if chosen else "empty", None)


def _advance(session: Session, claims: Sequence[_Claim]) -> None:
    """Move each search to its next occurrence (the rows are ours: locked above) and, where its
    digest exists, its window past this one, in one UPDATE of each row. Only a digest that
    exists moves the window: a period already served (say the hour was changed after today's
    digest) must not swallow its postings."""
    if claims:
        session.execute(
            update(_SEARCHES)
            .where(_SEARCHES.c.id == bindparam("sid"))
            .values(
                next_due_at=bindparam("nxt"),
                last_digest_at=func.coalesce(bindparam("last"), _SEARCHES.c.last_digest_at),
            ),
            [
                {
                    "sid": c.due.search_id,
                    "nxt": c.due.next_due_at,
                    "last": None
                    if c.digest_id is None
                    else max(c.due.occurrence, c.due.window_start),
                }
                for c in claims
            ],
        )


def _insert_digests(session: Session, claims: Sequence[_Claim]) -> None:
    """The new digests, with what they will hold; a (search, period) served already gets none."""
    now = utcnow()
    rows = [
        {
            "saved_search_id": c.due.search_id,
            "subscriber_id": c.due.subscriber.id,
            "period_key": c.due.period_key,
            "due_at": c.due.occurrence,
            "window_start": c.due.window_start,
            "window_end": c.due.occurrence,
            "status": c.status,
            "error": c.error,
            "job_count": len(c.chosen),
            "total_matches": c.ranked,
            "attempts": 0,
            "created_at": now,
        }
        for c in claims
    ]
    table = Digest.__table__  # type: ignore[attr-defined]
    made = dict(insert_ignore_many(session, table, rows, ["saved_search_id", "period_key"],
                                   returning=[table.c.saved_search_id, table.c.id]))  # fmt: skip
    for c in claims:
        c.digest_id = made.get(c.due.search_id)


def _deliver(session: Session, made: Sequence[_Claim]) -> None:
    """Insert the deliveries; a digest some of whose postings another sender delivered first
    holds fewer (or is empty)."""
    rows = [
        (c.due.subscriber.id, m.posting_id, c.digest_id, rank, m.score, m.why[:500])
        for c in made
        for rank, m in enumerate(c.chosen, 1)
    ]
    # In (subscriber, posting) order: two senders filling two searches of one subscriber then
    # take the keys in the same order and cannot deadlock.
    rows.sort(key=_SUBSCRIBER_POSTING)
    table = Delivery.__table__  # type: ignore[attr-defined]
    if rows:
        names = ("subscriber_id", "posting_id", "digest_id", "rank", "score", "why")
        columns = dict(zip(names, map(list, zip(*rows, strict=True)), strict=True))
        columns["created_at"] = [utcnow()] * len(rows)
        insert_columns(session, table, columns, ["subscriber_id", "posting_id"])
    got: dict[int, int] = {}
    ids = [c.digest_id for c in made if c.chosen and c.digest_id is not None]
    if ids:
        got = dict(
            session.execute(
                select(col(Delivery.digest_id), func.count())
                .where(id_in(col(Delivery.digest_id), ids, session))
                .group_by(col(Delivery.digest_id))
            ).all()
        )
    short = [c for c in made if c.status == "pending" and _got(got, c) < len(c.chosen)]
    for c in short:
        c.status = "pending" if _got(got, c) else "empty"
    if short:
        session.execute(
            update(_DIGESTS)
            .where(_DIGESTS.c.id == bindparam("did"))
            .values(status=bindparam("st"), job_count=bindparam("n"), total_matches=bindparam("t")),
            [
                {
                    "did": c.digest_id,
                    "st": c.status,
                    "n": _got(got, c),
                    "t": max(c.ranked, _got(got, c)),
                }
                for c in short
            ],
        )


_SUBSCRIBER_POSTING = operator.itemgetter(0, 1)


def _got(got: dict[int, int], c: _Claim) -> int:
    return got.get(c.digest_id or 0, 0)


def _note_closed(session: Session, made: Sequence[_Claim], page: Page) -> None:
    """List, once, the jobs each search sent before that have closed since (`alerts.liveness`),
    on its new digest when it has jobs."""
    now = utcnow()
    rows = [
        {"subscriber_id": c.due.subscriber.id, "posting_id": p, "digest_id": c.digest_id,
         "created_at": now}
        for c in made
        if c.status == "pending"
        for p in page.closed.get(c.due.search_id, ())
    ]  # fmt: skip
    table = ClosedNotice.__table__  # type: ignore[attr-defined]
    insert_ignore_many(session, table, rows, ["subscriber_id", "posting_id"])
