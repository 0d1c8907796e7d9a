"""Closing postings: those a source stopped listing (after a clean crawl only) and expired ones;
the daily sweep (expired postings, crawl runs whose process died, old crawl runs)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from config import Settings
from db import session_scope
from pipeline.models import CrawlRun, Posting, PostingSource
from pipeline.store import close_expired, close_postings

log = logging.getLogger(__name__)

# A crawl that saw fewer than this share of the items of the last good crawl closes nothing.
MIN_SHARE_OF_LAST_GOOD = 0.5


@dataclass
class CrawlOutcome:
    """How a crawl ended, as the spider and Scrapy's stats tell it."""

    finish_reason: str | None
    seen: int  # items the spider yielded (kept or dropped)
    errors: int  # source errors (404 board, bad JSON, ...) and ERROR log lines
    started_at: datetime
    shared: bool = False  # crawled together with other processes (scrapy-redis)


def closing_verdict(session: Session, source: str, outcome: CrawlOutcome) -> str | None:
    """None if the crawl may close what it did not see; otherwise why it may not."""
    if outcome.shared:
        # each process saw only its share of the source, and may finish before its peers have
        # stored theirs; closing here would close live jobs
        return (
            "crawl was shared with other processes through Redis; nothing closed "
            "(a single-process crawl or valid_through closes postings)"
        )
    if outcome.finish_reason != "finished":
        return f"crawl did not finish cleanly ({outcome.finish_reason}); nothing closed"
    if outcome.errors:
        return f"crawl had {outcome.errors} error(s); nothing closed"
    last_good = session.execute(
        select(col(CrawlRun.fetched))
        .where(col(CrawlRun.source) == source, col(CrawlRun.status) == "finished")
        .order_by(col(CrawlRun.started_at).desc())
        .limit(1)
    ).scalar_one_or_none()
    if last_good and outcome.seen < last_good * MIN_SHARE_OF_LAST_GOOD:
        return (
            f"crawl saw {outcome.seen} items, the last good one {last_good}; "
            "too few to trust, nothing closed"
        )
    return None


def close_unseen(session: Session, source: str, *, since: datetime, now: datetime) -> int:
    """Close this source's sightings not seen since `since`, then postings with no open sighting."""
    stale = session.execute(
        select(col(PostingSource.id), col(PostingSource.posting_id)).where(
            col(PostingSource.source) == source,
            col(PostingSource.status) == "open",
            col(PostingSource.last_seen_at) < since,
        )
    ).all()
    if not stale:
        return 0
    sighting_ids = [sid for sid, _ in stale]
    for start in range(0, len(sighting_ids), 500):
        session.execute(
            update(PostingSource)
            .where(PostingSource.id.in_(sighting_ids[start : start + 500]))  # type: ignore[union-attr]
            .values(status="closed")
        )
    other = aliased(PostingSource)
    candidates = {pid for _, pid in stale}
    still_listed = set(
        session.execute(
            select(col(Posting.id)).where(
                Posting.id.in_(list(candidates)),  # type: ignore[union-attr]
                exists().where(and_(other.posting_id == col(Posting.id), other.status == "open")),  # type: ignore[arg-type]  # aliased columns are typed as values
            )
        ).scalars()
    )
    return close_postings(session, candidates - still_listed, now=now)


# -- the daily sweep --------------------------------------------------------------------------

PRUNE_AFTER = timedelta(days=90)  # crawl runs older than this go (each source keeps its last one)
# a run still `running` this long after the crawl timeout belongs to a process that died with its
# machine: Scrapy's own limit, the scheduler's kill (a minute later) and a margin have all passed
STALE_MARGIN = timedelta(minutes=2, seconds=10)


@dataclass
class SweepResult:
    closed: int
    stale: int
    pruned: int

    def line(self) -> str:
        return (
            f"closed {self.closed} expired postings, failed {self.stale} crawl runs left "
            f"running, pruned {self.pruned} old crawl runs"
        )


def sweep(settings: Settings, engine: Engine, *, now: datetime) -> SweepResult:
    """Close expired postings, fail crawl runs whose process died, prune old crawl runs."""

    stale_before = now - timedelta(seconds=max(60, settings.crawl_timeout_s)) - STALE_MARGIN
    with session_scope(engine) as session:
        closed = close_expired(session, now=now)
        stale = session.execute(  # type: ignore[attr-defined]  # DML returns a CursorResult
            update(CrawlRun)
            .where(CrawlRun.status == "running", CrawlRun.started_at < stale_before)  # type: ignore[arg-type]
            .values(
                status="failed", finished_at=now, finish_reason="crashed", errors=1,
                message="the crawl never finished (its process died)",
            )
        ).rowcount or 0  # fmt: skip
        newest = select(func.max(CrawlRun.id)).group_by(CrawlRun.source).scalar_subquery()
        pruned = (
            session.execute(  # type: ignore[attr-defined]  # DML returns a CursorResult
                delete(CrawlRun).where(
                    col(CrawlRun.started_at) < now - PRUNE_AFTER,
                    CrawlRun.id.not_in(newest),  # type: ignore[union-attr]
                )
            ).rowcount
            or 0
        )
    return SweepResult(closed, stale, pruned)
