"""Phase 1 of a run: claim each due search's digest once, one short transaction per search.

A claim inserts the `Digest` outbox row for (search, period) — the unique constraint makes a
repeated or concurrent claim a no-op — picks the matching postings, inserts their `Delivery`
rows (unique per subscriber and posting, so a posting goes to a person once, ever, whichever
search matched it), and advances the search's `last_digest_at` / `next_due_at` with a
conditional UPDATE that only the first claimer wins. Nothing matched → the digest is `empty`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from alerts.digests.due import BATCH, Due, count_due, due_page
from alerts.digests.match import Page, PageMatcher
from alerts.digests.rows import insert_ignore, insert_ignore_many, set_digest
from alerts.digests.summary import ProgressFn
from alerts.models import ClosedNotice, Delivery, Digest, SavedSearch
from config import Settings
from db import session_scope, utcnow


@dataclass(slots=True)
class ClaimCounts:
    """What the claim phase did: searches due, and the new digests that are empty or failed."""

    due: int = 0
    empty: int = 0
    failed: int = 0


class _ClaimLost(Exception):
    """Another sender claimed this search since we read it: its claim stands, ours goes."""


def claim_due(
    settings: Settings, engine: Engine, at: datetime, progress: ProgressFn, batch: int = BATCH
) -> ClaimCounts:
    """Claim the digest of every search due at `at`, a page of `batch` searches at a time
    (memory bounded by the page); each claim is its own transaction."""
    counts = ClaimCounts()
    with session_scope(engine) as session:
        total = count_due(session, at)
    progress("claim", 0, total)
    matcher = PageMatcher(at)
    after: tuple[int, int] | None = None
    while True:
        with session_scope(engine) as session:
            due = due_page(session, at, after, batch)
            # Detached, so no later session reloads what was read mid-claim.
            session.expunge_all()
            if not due:
                return counts
            page = matcher.match(session, due)
        for d in due:
            status = claim_one(settings, engine, d, page)
            counts.due += 1
            counts.empty += status == "empty"
            counts.failed += status == "failed"
            progress("claim", counts.due, max(total, counts.due))
        after = (due[-1].search.subscriber_id, due[-1].search_id)
        del page, due  # before the next page's are built


def claim_one(settings: Settings, engine: Engine, d: Due, page: Page) -> str | None:
    """One transaction: the digest row, its deliveries, the search's next window.

    Returns the new digest's status, or None when there is no new digest (claimed elsewhere,
    or this period was served already).
    """
    try:
        with session_scope(engine) as session:
            _take(session, d)
            digest_id = _insert_digest(session, d)
            _advance(session, d, digest_id)
            if digest_id is None:
                return None
            broken = page.broken.get(d.search_id)
            if broken is not None:
                set_digest(session, digest_id, status="failed", error=broken)
                return "failed"
            return _fill(settings, session, d, digest_id, page)
    except _ClaimLost:
        return None


def _take(session: Session, d: Due) -> None:
    """Lock the search's row for this claim, or raise `_ClaimLost` if another sender holds it
    or has moved it on. Senders that start together walk the due searches in the same order:
    without SKIP LOCKED each would wait on every claim the first one makes, and lose it."""
    stmt = select(col(SavedSearch.next_due_at)).where(col(SavedSearch.id) == d.search_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    row = session.execute(stmt).first()
    if row is None or row[0] != d.seen_due_at:
        raise _ClaimLost


def _insert_digest(session: Session, d: Due) -> int | None:
    """The new digest's id, or None when this (search, period) has one already."""
    digest_id: int | None = insert_ignore(
        session,
        Digest.__table__,  # type: ignore[attr-defined]
        {
            "saved_search_id": d.search_id,
            "subscriber_id": d.subscriber.id,
            "period_key": d.period_key,
            "due_at": d.occurrence,
            "window_start": d.window_start,
            "window_end": d.occurrence,
            "status": "pending",
            "job_count": 0,
            "total_matches": 0,
            "attempts": 0,
            "created_at": utcnow(),
        },
        ["saved_search_id", "period_key"],
    )
    return digest_id


def _advance(session: Session, d: Due, digest_id: int | None) -> None:
    """Move the search to its next occurrence, or raise `_ClaimLost` if another sender did."""
    advance: dict[str, Any] = {"next_due_at": d.next_due_at}
    if digest_id is not None:
        # Only a digest that exists moves the window: a period already served (say the
        # hour was changed after today's digest) must not swallow its postings.
        advance["last_digest_at"] = max(d.occurrence, d.window_start)
    moved = session.execute(  # type: ignore[attr-defined]  # DML returns a CursorResult
        update(SavedSearch)
        .where(
            SavedSearch.id == d.search_id,  # type: ignore[arg-type]
            SavedSearch.next_due_at == d.seen_due_at,  # type: ignore[arg-type]
        )
        .values(**advance)
    ).rowcount
    if not moved:
        raise _ClaimLost


def _note_closed(session: Session, d: Due, digest_id: int, posting_ids: Sequence[int]) -> None:
    """List, once, the jobs this search sent before that have closed since (`alerts.liveness`)."""
    now = utcnow()
    rows = [
        {
            "subscriber_id": d.subscriber.id,
            "posting_id": p,
            "digest_id": digest_id,
            "created_at": now,
        }
        for p in posting_ids
    ]
    insert_ignore_many(
        session,
        ClosedNotice.__table__,  # type: ignore[attr-defined]
        rows,
        ["subscriber_id", "posting_id"],
    )


def _fill(settings: Settings, session: Session, d: Due, digest_id: int, page: Page) -> str:
    """Insert the digest's deliveries (best first, capped); its status: pending or empty."""
    ranked = page.ranked(d)
    chosen = ranked[: settings.digest_cap]
    subscriber_id = d.subscriber.id
    assert subscriber_id is not None
    now = utcnow()
    rows = [
        {
            "subscriber_id": subscriber_id,
            "posting_id": m.posting_id,
            "digest_id": digest_id,
            "rank": rank,
            "score": m.score,
            "why": m.why[:500],
            "created_at": now,
        }
        # In posting-id order: two senders filling two searches of one subscriber then take
        # the (subscriber, posting) keys in the same order and cannot deadlock.
        for rank, m in sorted(enumerate(chosen, 1), key=lambda rm: rm[1].posting_id)
    ]
    table = Delivery.__table__  # type: ignore[attr-defined]
    inserted = len(insert_ignore_many(session, table, rows, ["subscriber_id", "posting_id"]))
    # Taken either way: what was not inserted went to them already (another sender).
    page.take(subscriber_id, (m.posting_id for m in chosen))
    status = "pending" if inserted else "empty"
    if inserted:
        _note_closed(session, d, digest_id, page.closed.get(d.search_id, []))
    set_digest(
        session,
        digest_id,
        status=status,
        job_count=inserted,
        total_matches=max(len(ranked), inserted),
    )
    return status
