"""Crawl health: posting counts and, per source, the last run and whether it looks unwell."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from pipeline.models import CrawlRun, Posting

# A source is flagged when its last runs failed this many times in a row...
FAILURES_TO_FLAG = 2
# ...or its last good run kept less than this share of its usual (median) yield.
LOW_YIELD_SHARE = 0.5


@dataclass
class SourceHealth:
    source: str
    kind: str
    last_started: datetime | None
    last_status: str | None
    last_kept: int
    last_new: int
    last_errors: int
    last_message: str | None
    consecutive_failures: int
    usual_kept: float | None
    flag: str | None  # why the source needs a look, or None


def posting_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Posting.status, func.count()).group_by(Posting.status)).all()
    counts = {"open": 0, "closed": 0}
    counts.update(dict(rows))
    return counts


def source_health(session: Session, *, history: int = 10) -> list[SourceHealth]:
    """Per source, from its last `history` runs (one query per source with runs)."""
    sources = session.execute(
        select(CrawlRun.source, CrawlRun.kind).group_by(CrawlRun.source, CrawlRun.kind)
    ).all()
    out = []
    for source, kind in sorted(sources):
        runs = list(
            session.execute(
                select(CrawlRun)
                .where(CrawlRun.source == source)
                .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())  # type: ignore[attr-defined]
                .limit(history)
            ).scalars()
        )
        out.append(assess(source, kind, runs))
    return out


def assess(source: str, kind: str, runs: list[CrawlRun]) -> SourceHealth:
    """Judge a source from its runs, newest first."""
    done = [r for r in runs if r.status != "running"]
    failures = 0
    for r in done:
        if r.status == "finished":
            break
        failures += 1
    good = [r.kept for r in done if r.status == "finished"]
    usual = _median(good[1:]) if len(good) > 1 else None
    flag = None
    if failures >= FAILURES_TO_FLAG:
        flag = f"failed {failures} times in a row"
    elif good and usual and good[0] < usual * LOW_YIELD_SHARE:
        flag = f"kept {good[0]} postings, usually {usual:.0f}"
    last = runs[0] if runs else None
    return SourceHealth(
        source=source,
        kind=kind,
        last_started=last.started_at if last else None,
        last_status=last.status if last else None,
        last_kept=last.kept if last else 0,
        last_new=last.new if last else 0,
        last_errors=last.errors if last else 0,
        last_message=last.message if last else None,
        consecutive_failures=failures,
        usual_kept=usual,
        flag=flag,
    )


def _median(values: list[int]) -> float | None:
    if not values:
        return None
    s = sorted(values)
    mid = len(s) // 2
    return float(s[mid]) if len(s) % 2 else (s[mid - 1] + s[mid]) / 2
