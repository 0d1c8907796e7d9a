"""Match a page of due searches against the postings of their windows, and what each may get.

The postings of the page's windows are read once and kept, as a `WindowIndex`, while the next
pages' windows fall inside them: a day's run reads and indexes one day of postings once, and
each distinct query, place and filter value becomes a column over that window once, whichever
pages have it; a search is the AND of its columns. At 08:00 in a big timezone thousands of
searches fall due over the same day of new postings; one SQL full-text query per search would
scan that day thousands of times, and matching each page's searches posting by posting would
decide the same query for the same posting on every page.

What a search may get of its matches (`Page.ranked`) is decided in memory: first seen in its
window (the postings read are open and unexpired at the run's moment), never delivered to this
subscriber and not one they marked applied, nor a copy of one. The last two are read for the
whole page in one query each (`_excluded`); the claims of the run add what they deliver, so a
subscriber's second search does not pick what the first took. A concurrent sender may still
deliver a posting meanwhile: the deliveries' unique key keeps it to one, and the claim's
insert skips it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import numpy as np
from sqlalchemy import and_, exists, select
from sqlmodel import Session, col

from alerts.digests.due import Due
from alerts.digests.rows import live
from alerts.digests.summary import LATE_COMMIT_SLACK
from alerts.models import ClosedNotice, Delivery, Digest, Feedback
from alerts.subscriptions import spec_of
from db import id_in
from pipeline.models import Posting
from search.filters import PostingDoc
from search.matcher import Match, SavedSearchSpec
from search.query import QueryError
from search.window import Ranked, WindowIndex

Pair = tuple[int, int]  # (subscriber id, posting id)


@dataclass(slots=True)
class Page:
    """A page's matches and what its searches may not get."""

    matches: dict[int, Ranked]  # per search id, best first
    broken: dict[int, str]  # search id -> why its query cannot run
    first_seen: dict[int, datetime]  # posting id -> first_seen_at, for every posting read
    excluded: set[Pair]  # delivered before, applied to, or taken earlier in this run
    closed: dict[int, list[int]] = field(default_factory=dict)  # search -> closed since sent
    # The first_seen_at bounds (low, high] of every posting read; None: unknown
    read: tuple[datetime, datetime] | None = None
    # Writes a match's reason (the window's index): only the matches a digest takes get one
    explain: Explainer | None = None
    excluding: set[int] = field(init=False)  # the subscribers `excluded` names
    skips: dict[int, set[int]] = field(init=False)  # `excluded` by subscriber

    def __post_init__(self) -> None:
        self.skips = {}
        for sub, posting in self.excluded:
            self.skips.setdefault(sub, set()).add(posting)
        self.excluding = set(self.skips)

    def ranked(self, d: Due) -> list[Match]:
        """The search's eligible matches, best first (the matcher's order)."""
        r = self.matches.get(d.search_id)
        if r is None:
            return []
        return [self._match(r, k) for k in self._eligible(d, r)]

    def top(self, d: Due, cap: int) -> tuple[list[Match], int]:
        """The search's `cap` best eligible matches, and how many are eligible (`ranked`'s
        first `cap` and its length, without writing every eligible match's reason)."""
        r = self.matches.get(d.search_id)
        if r is None:
            return [], 0
        read = self.read
        low, high = d.window_start - LATE_COMMIT_SLACK, d.occurrence
        if read is None or not (low <= read[0] and read[1] <= high):
            eligible = self._eligible(d, r)
            return [self._match(r, k) for k in eligible[:cap]], len(eligible)
        skip = self.skips.get(d.subscriber.id)  # type: ignore[arg-type]  # ids are set once stored
        if not skip:
            return [self._match(r, k) for k in range(min(cap, len(r)))], len(r)
        # Every match is in the window: only the subscriber's skips leave (a subscriber's later
        # search skips what the earlier ones took, and has hundreds of matches).
        kept = np.flatnonzero(~np.isin(r.ids, np.fromiter(skip, np.int64, len(skip))))
        return [self._match(r, k) for k in kept[:cap].tolist()], len(kept)

    def _eligible(self, d: Due, r: Ranked) -> list[int]:
        """Which of the search's matches (by rank) are in its window and not skipped."""
        low, high = d.window_start - LATE_COMMIT_SLACK, d.occurrence
        sub, seen, excluded = d.subscriber.id, self.first_seen, self.excluded
        read = self.read
        ids = r.ids.tolist()
        if read is not None and low <= read[0] and read[1] <= high and sub not in self.excluding:
            # The usual case, a window that holds every posting read and a subscriber with
            # nothing to skip: every match is eligible (the filter below would keep them all).
            return list(range(len(ids)))
        return [
            k
            for k, posting in enumerate(ids)
            if low < seen[posting] <= high and (sub, posting) not in excluded
        ]

    def _match(self, r: Ranked, k: int) -> Match:
        assert self.explain is not None, "a page with matches has their index"
        return self.explain.match(r, k)

    def take(self, subscriber_id: int, posting_ids: Iterable[int]) -> None:
        """These postings went (or would go) to this subscriber: later searches skip them."""
        taken = list(posting_ids)
        self.excluded.update((subscriber_id, p) for p in taken)
        self.skips.setdefault(subscriber_id, set()).update(taken)
        self.excluding.add(subscriber_id)


class Explainer(Protocol):
    """What writes a ranked match out (`WindowIndex`)."""

    def match(self, ranked: Ranked, k: int) -> Match: ...


@dataclass(slots=True)
class _Window:
    low: datetime
    high: datetime
    index: WindowIndex
    first_seen: dict[int, datetime]


class PageMatcher:
    """Matches page after page at one moment, reading the window's postings again only when a
    page's windows reach outside the ones read."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self._window: _Window | None = None
        self._carry: set[Pair] = set()  # the last page's takes of its last subscriber

    def match(self, session: Session, due: Sequence[Due]) -> Page:
        """The page's matches (its searches in order of subscriber) and their exclusions."""
        specs: list[SavedSearchSpec] = []
        broken: dict[int, str] = {}
        for d in due:
            try:
                specs.append(spec_of(d.search))
            except QueryError as exc:
                # Saved before the query language changed: say so on the digest, keep going.
                broken[d.search_id] = f"the saved query no longer parses: {exc.one_line()}"
        if not due:
            return Page({}, broken, {}, set())
        low = min(d.window_start for d in due) - LATE_COMMIT_SLACK
        high = max(d.occurrence for d in due)
        window = self._read(session, low, high)
        matches = window.index.rank(specs) if specs else {}
        subscribers = sorted({d.subscriber.id for d in due if d.subscriber.id is not None})
        excluded = _excluded(session, subscribers, low, high) | self._carry
        closed = _closed_since_sent(session, [d.search_id for d in due])
        read = (window.low, window.high)
        return Page(matches, broken, window.first_seen, excluded, closed, read, window.index)

    def done(self, page: Page, last: Due) -> None:
        """Carry the page's takes of its last subscriber, whose searches may go on next page
        (a dry run writes nothing the next page's query would read)."""
        self._carry = {pair for pair in page.excluded if pair[0] == last.subscriber.id}

    def _read(self, session: Session, low: datetime, high: datetime) -> _Window:
        w = self._window
        if w is None or low < w.low or high > w.high:
            self._window = None  # let the old one go before reading the new one
            docs, first_seen = _docs(session, low, high, self.at)
            w = self._window = _Window(low, high, WindowIndex(docs), first_seen)
        return w


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a page's matches are made and claimed: hundreds of
    thousands of tuples that hold no cycles (reference counting frees them), which each
    automatic collection would walk again; measured, a third of the matching time. What cycles
    a page makes (sessions, ORM states) wait for the next collection after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
    col(Posting.first_seen_at),
)


def _docs(
    session: Session, low: datetime, high: datetime, at: datetime
) -> tuple[list[PostingDoc], dict[int, datetime]]:
    """The live postings first seen in (low, high], and when each was first seen."""
    rows = session.execute(
        select(*_DOC_COLUMNS).where(
            col(Posting.first_seen_at) > low,
            col(Posting.first_seen_at) <= high,
            live(at),
        )
    )
    docs: list[PostingDoc] = []
    first_seen: dict[int, datetime] = {}
    for r in rows:
        first_seen[r.id] = r.first_seen_at
        docs.append(
            PostingDoc(
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
        )
    return docs, first_seen


def _excluded(
    session: Session, subscribers: Sequence[int], low: datetime, high: datetime
) -> set[Pair]:
    """(subscriber, posting) of the window's postings sent to them before or marked applied
    (a posting with the applied one's company and title is a copy of it)."""
    in_window = and_(col(Posting.first_seen_at) > low, col(Posting.first_seen_at) <= high)
    copy_of = (col(Feedback.posting_id) == col(Posting.id)) | and_(
        col(Feedback.company_key) != "",
        col(Feedback.company_key) == col(Posting.company_key),
        col(Feedback.title_key) == col(Posting.title_key),
    )
    # the page's subscribers as one parameter (`id_in`): no list to keep short
    delivered = (
        select(col(Delivery.subscriber_id), col(Delivery.posting_id))
        .join(Posting, col(Posting.id) == col(Delivery.posting_id))
        .where(id_in(col(Delivery.subscriber_id), subscribers, session), in_window)
    )
    applied = (
        select(col(Feedback.subscriber_id), col(Posting.id))
        .join(Posting, copy_of)
        .where(
            id_in(col(Feedback.subscriber_id), subscribers, session),
            col(Feedback.action) == "applied",
            col(Feedback.undone_at).is_(None),
            in_window,
        )
    )
    out: set[Pair] = set()
    for query in (delivered, applied):
        out.update((s, p) for s, p in session.execute(query))
    return out


def _closed_since_sent(session: Session, search_ids: Sequence[int]) -> dict[int, list[int]]:
    """Per search: the postings its sent digests carried that closed after they went out and
    were never listed under "No longer open" (`alerts.liveness.closed_since_sent`, per page)."""
    noticed = exists().where(
        col(ClosedNotice.subscriber_id) == col(Delivery.subscriber_id),
        col(ClosedNotice.posting_id) == col(Posting.id),
    )
    rows = session.execute(
        select(col(Digest.saved_search_id), col(Posting.id))
        .join(Delivery, col(Delivery.posting_id) == col(Posting.id))
        .join(Digest, col(Digest.id) == col(Delivery.digest_id))
        .where(
            id_in(col(Digest.saved_search_id), search_ids, session),
            col(Delivery.subscriber_id) == col(Digest.subscriber_id),
            col(Digest.status) == "sent",
            col(Posting.status) == "closed",
            col(Posting.closed_at) > col(Digest.sent_at),
            ~noticed,
        )
        .order_by(col(Digest.saved_search_id), col(Posting.closed_at), col(Posting.id))
    )
    out: dict[int, list[int]] = {}
    for search_id, posting_id in rows:
        out.setdefault(search_id, []).append(posting_id)
    return out
