"""What falls due at a moment: the due searches, their windows and occurrences, and their matches.

Matching runs in the percolator direction: the due searches go into one `SearchIndex`, the
union of their windows is read once, and each posting is matched once against the searches
whose anchors it contains. At 08:00 in a big timezone thousands of searches fall due over the
same day of new postings; one SQL full-text query per search would scan that day thousands
of times. SQL then checks each search's matches for its window, open status, expiry, and
"never delivered to this subscriber" (`eligible`) inside the claim transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select, true
from sqlmodel import Session, col

from alerts import cadence as cad
from alerts.digests.rows import live
from alerts.digests.summary import LATE_COMMIT_SLACK, MAX_WINDOW
from alerts.feedback import not_applied
from alerts.models import Delivery, SavedSearch, Subscriber
from alerts.subscriptions import spec_of
from pipeline.models import Posting
from search.filters import PostingDoc
from search.matcher import Match, SavedSearchSpec, SearchIndex
from search.query import QueryError

_ID_CHUNK = 2000  # ids per IN (...) list: far below SQLite's and PostgreSQL's limits


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


def due_searches(session: Session, at: datetime) -> list[tuple[SavedSearch, Subscriber]]:
    """Active searches of active subscribers with `next_due_at <= at` (the due index)."""
    rows = session.execute(
        select(SavedSearch, Subscriber)
        .join(Subscriber, Subscriber.id == SavedSearch.subscriber_id)  # type: ignore[arg-type]
        .where(
            col(SavedSearch.active) == true(),
            col(SavedSearch.next_due_at) <= at,
            col(Subscriber.status) == "active",
        )
        .order_by(col(SavedSearch.subscriber_id), col(SavedSearch.id))
    ).all()
    return [(s, sub) for s, sub in rows]


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


def due_at(session: Session, at: datetime) -> list[Due]:
    """Every search due at `at`, with the occurrence it serves and the window it covers."""
    out = []
    for search, sub in due_searches(session, at):
        occurrence, following = _schedule(search, at)
        start = search.last_digest_at or (search.created_at - cad.lookback(search.cadence))
        start = max(start, occurrence - MAX_WINDOW)
        key = cad.period_key(cadence=search.cadence, due_at=occurrence, timezone=search.timezone)
        seen = search.next_due_at
        assert seen is not None
        out.append(Due(search, sub, occurrence, key, start, following, seen))
    return out


def match_all(
    session: Session, due: Sequence[Due], at: datetime
) -> tuple[dict[int, list[Match]], dict[int, str]]:
    """Matches per search id over the union of the windows; and searches that cannot run."""
    specs: list[SavedSearchSpec] = []
    broken: dict[int, str] = {}
    for d in due:
        try:
            specs.append(spec_of(d.search))
        except QueryError as exc:
            # Saved before the query language changed: say so on the digest, keep the run going.
            broken[d.search_id] = f"the saved query no longer parses: {exc.one_line()}"
    if not specs:
        return {}, broken
    low = min(d.window_start for d in due) - LATE_COMMIT_SLACK
    high = max(d.occurrence for d in due)
    index = SearchIndex.build(specs)
    return index.match_many(_docs(session, low, high, at)), broken


_DOC_COLUMNS = (
    col(Posting.id),
    col(Posting.title),
    col(Posting.company),
    col(Posting.description_text),
    col(Posting.city),
    col(Posting.region),
    col(Posting.country),
    col(Posting.latitude),
    col(Posting.longitude),
    col(Posting.workplace),
    col(Posting.employment_type),
    col(Posting.annual_min_usd),
    col(Posting.annual_max_usd),
    col(Posting.seniority),
    col(Posting.industries),
    col(Posting.skills),
    col(Posting.location_text),
    col(Posting.shifts),
    col(Posting.standards),
    col(Posting.team_size),
)


def _docs(session: Session, low: datetime, high: datetime, at: datetime) -> Iterable[PostingDoc]:
    rows = session.execute(
        select(*_DOC_COLUMNS).where(
            col(Posting.first_seen_at) > low,
            col(Posting.first_seen_at) <= high,
            live(at),
        )
    )
    for r in rows:
        yield PostingDoc(
            id=r.id,
            title=r.title,
            company=r.company,
            description=r.description_text or "",
            city=r.city,
            region=r.region,
            country=r.country,
            latitude=r.latitude,
            longitude=r.longitude,
            workplace=r.workplace,
            employment_type=r.employment_type,
            annual_min_usd=r.annual_min_usd,
            annual_max_usd=r.annual_max_usd,
            seniority=r.seniority,
            industries=tuple(r.industries or ()),
            skills=tuple(r.skills or ()),
            location_text=r.location_text,
            shifts=tuple(r.shifts or ()),
            standards=tuple(r.standards or ()),
            team_size=r.team_size,
        )


def eligible(session: Session, d: Due, posting_ids: Sequence[int], at: datetime) -> set[int]:
    """Of these matched postings: in the window, open, unexpired, never sent to this person,
    not one they marked applied (nor a copy of one)."""
    already = exists().where(
        col(Delivery.subscriber_id) == d.subscriber.id,
        col(Delivery.posting_id) == col(Posting.id),
    )
    out: set[int] = set()
    for i in range(0, len(posting_ids), _ID_CHUNK):
        chunk = list(posting_ids[i : i + _ID_CHUNK])
        out.update(
            session.execute(
                select(col(Posting.id)).where(
                    col(Posting.id).in_(chunk),
                    col(Posting.first_seen_at) > d.window_start - LATE_COMMIT_SLACK,
                    col(Posting.first_seen_at) <= d.occurrence,
                    live(at),
                    ~already,
                    not_applied(d.subscriber.id),
                )
            ).scalars()
        )
    return out


def ranked_matches(session: Session, d: Due, matches: Sequence[Match], at: datetime) -> list[Match]:
    """The eligible matches, best first (the matcher's order)."""
    ok = eligible(session, d, [m.posting_id for m in matches], at)
    return [m for m in matches if m.posting_id in ok]
