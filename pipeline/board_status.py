"""What the public may know of crawl health: per board ok or failing, and a digest's health line.

Only the board's name, kind, whether its last crawl read it and when it was last read well:
no messages, counts or errors (those can carry internals and live on the operator page).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlmodel import Session, col

from pipeline.models import CrawlRun

# a crawl that stored what it read, even if it stopped early, read the board
GOOD = ("finished", "partial")
DONE = (*GOOD, "failed")
TODAY = timedelta(hours=24)


@dataclass(frozen=True)
class BoardStatus:
    """One board as /status shows it."""

    name: str
    kind: str
    ok: bool
    last_good_at: datetime | None


@dataclass(frozen=True)
class BoardHealth:
    """A digest's footer line: boards read since its window opened, and those failing today."""

    boards: int
    failing: int


def _latest_runs(session: Session, since: datetime | None, until: datetime) -> list[CrawlRun]:
    """Each board's last completed crawl started in [since, until]."""
    bounds = [col(CrawlRun.status).in_(DONE), col(CrawlRun.started_at) <= until]
    if since is not None:
        bounds.append(col(CrawlRun.started_at) >= since)
    last = (
        select(col(CrawlRun.source), func.max(col(CrawlRun.started_at)).label("started"))
        .where(*bounds)
        .group_by(col(CrawlRun.source))
        .subquery()
    )
    rows = session.execute(
        select(CrawlRun)
        .join(
            last,
            and_(col(CrawlRun.source) == last.c.source, col(CrawlRun.started_at) == last.c.started),
        )
        .where(col(CrawlRun.status).in_(DONE))
        .order_by(col(CrawlRun.source), col(CrawlRun.id).desc())
    ).scalars()
    latest: dict[str, CrawlRun] = {}
    for run in rows:
        latest.setdefault(run.source, run)  # two runs started at the same instant: the later id
    return list(latest.values())


def board_statuses(session: Session, *, at: datetime) -> list[BoardStatus]:
    """Every board with a completed crawl on record (runs are kept 90 days), by name."""
    good = dict(
        session.execute(
            select(col(CrawlRun.source), func.max(col(CrawlRun.finished_at)))
            .where(col(CrawlRun.status).in_(GOOD))
            .group_by(col(CrawlRun.source))
        ).all()
    )
    return [
        BoardStatus(run.source, run.kind, run.status in GOOD, good.get(run.source))
        for run in _latest_runs(session, None, at)
    ]


def board_health(session: Session, *, since: datetime | None, at: datetime) -> BoardHealth:
    """Boards crawled for this digest (since its window opened, else the last day), and of the
    boards crawled in the last 24 hours those whose latest crawl failed."""
    read = _latest_runs(session, since if since is not None else at - TODAY, at)
    today = _latest_runs(session, at - TODAY, at)
    return BoardHealth(boards=len(read), failing=sum(run.status not in GOOD for run in today))
