"""What falls due at a moment: the due searches, page by page, with their windows and occurrences.

A run reads the due searches in keyset pages of `BATCH` (ordered by subscriber, then search),
so its memory is bounded by the page, not by the number of subscribers; `match.py` matches
each page against the postings of its windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, true, tuple_
from sqlmodel import Session, col

from alerts import cadence as cad
from alerts.digests.summary import MAX_WINDOW
from alerts.models import SavedSearch, Subscriber

# Due searches per page: matched, checked and claimed together. Each page matches every posting
# of its window again, so bigger pages match faster (10k postings: 4,000 a page take ~15% less CPU
# a search than 2,000) and hold more. Pages of 8,000 were tried at the full bench size: no faster
# within the run-to-run noise (match + claim 246 s against 230 s at 4,000, on a slower run), peak
# RSS of `andon digest` 714 MB against 511 MB.
BATCH = 4000


@dataclass(slots=True)
class Due:
    """One due search: its subscriber, the occurrence it serves and its window."""

    search: SavedSearch
    subscriber: Subscriber
    occurrence: datetime  # the scheduled instant this digest serves (window end)
    period_key: str
    window_start: datetime
    next_due_at: datetime
    seen_due_at: datetime  # next_due_at as read: the claim only wins if it is unchanged

    @property
    def search_id(self) -> int:
        assert self.search.id is not None
        return self.search.id


def due_query(at: datetime) -> Any:
    """Due searches of active subscribers at `at`, in (subscriber, search) order."""
    return (
        select(SavedSearch, Subscriber)
        .join(Subscriber, Subscriber.id == SavedSearch.subscriber_id)  # type: ignore[arg-type]
        .where(
            col(SavedSearch.active) == true(),
            col(SavedSearch.next_due_at) <= at,
            col(Subscriber.status) == "active",
        )
        .order_by(col(SavedSearch.subscriber_id), col(SavedSearch.id))
    )


def due_searches(session: Session, at: datetime) -> list[tuple[SavedSearch, Subscriber]]:
    """Active searches of active subscribers with `next_due_at <= at` (the due index)."""
    return [(s, sub) for s, sub in session.execute(due_query(at)).all()]


def due_page(
    session: Session, at: datetime, after: tuple[int, int] | None, limit: int = BATCH
) -> list[Due]:
    """The next `limit` due searches after `after` (subscriber id, search id), in that order."""
    stmt = due_query(at)
    if after is not None:
        stmt = stmt.where(
            tuple_(col(SavedSearch.subscriber_id), col(SavedSearch.id)) > tuple_(*after)
        )
    return [_due(search, sub, at) for search, sub in session.execute(stmt.limit(limit)).all()]


def due_between(session: Session, at: datetime, low: int, high: int) -> list[Due]:
    """The due searches of subscribers with ids in [low, high), in order."""
    subscriber = col(SavedSearch.subscriber_id)
    stmt = due_query(at).where(subscriber >= low, subscriber < high)
    return [_due(search, sub, at) for search, sub in session.execute(stmt).all()]


def count_due(session: Session, at: datetime) -> int:
    """How many searches are due at `at` (for progress only: claims move on meanwhile)."""
    query = due_query(at).order_by(None).with_only_columns(func.count())
    return int(session.execute(query).scalar_one())


def _schedule(search: SavedSearch, at: datetime) -> tuple[datetime, datetime]:
    """(the latest scheduled occurrence at or before `at`, the one after it)."""
    kw: dict[str, Any] = {
        "cadence": search.cadence,
        "hour": search.send_hour,
        "weekday": search.weekday,
        "timezone": search.timezone,
    }
    occurrence = search.next_due_at
    assert occurrence is not None
    # Jump near `at` first: a search that has not run for months needs no day-by-day walk.
    near = cad.next_due(**kw, after=at - timedelta(days=8))
    if occurrence < near <= at:
        occurrence = near
    while (following := cad.next_due(**kw, after=occurrence)) <= at:
        occurrence = following
    return occurrence, following


def _due(search: SavedSearch, sub: Subscriber, at: datetime) -> Due:
    """A due search with the occurrence it serves and the window it covers."""
    occurrence, following = _schedule(search, at)
    start = search.last_digest_at or (search.created_at - cad.lookback(search.cadence))
    start = max(start, occurrence - MAX_WINDOW)
    key = cad.period_key(cadence=search.cadence, due_at=occurrence, timezone=search.timezone)
    seen = search.next_due_at
    assert seen is not None
    return Due(search, sub, occurrence, key, start, following, seen)
