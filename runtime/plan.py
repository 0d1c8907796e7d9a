"""The crawl schedule, derived from the database: each job's next run at a given moment.

A crawl's next run is its source's last crawl run (`crawl_runs.started_at`, any status) plus its
interval, or the next cron time after it; a source never crawled, or overdue because the
scheduler was down, runs once shortly after start (staggered, oldest first). Pure given its
inputs, so `andon status` shows what `andon run` would do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from db import session_scope, utcnow
from pipeline.models import CrawlRun
from spiders.sources import Source, parse_schedule

DIGEST_EVERY = timedelta(minutes=5)  # run_digests is idempotent and cheap when nothing is due
STARTUP_DELAY = timedelta(seconds=10)  # the first overdue crawl, and the catch-up digest run
STAGGER = timedelta(seconds=10)  # between overdue crawls, so a restart does not start all at once
SWEEP_EVERY = timedelta(days=1)
SWEEP_DELAY = timedelta(minutes=1)  # the sweep is idempotent: once after each start, then daily
MAX_JITTER_S = 300  # crawls of one interval spread by up to 5 minutes, or 5 % of a short interval


@dataclass(frozen=True)
class PlannedJob:
    """One scheduler job as planned at `now`: what, how often, and its next run."""

    id: str
    kind: str  # crawl | digests | sweep
    every: str  # "every 12h", "cron 0 6 * * *", "every 5 min"
    next_run: datetime
    overdue: bool = False
    source: Source | None = None
    last_started: datetime | None = None


def crawl_id(name: str) -> str:
    return f"crawl:{name}"


def describe_schedule(source: Source) -> str:
    kind, value = parse_schedule(source.schedule, kind=source.kind)
    if kind == "cron":
        return f"cron {value}"
    seconds = int(value)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"every {seconds // size}{unit}"
    return f"every {seconds}s"


def jitter_for(source: Source) -> int:
    """Up to 5 minutes, and never more than 5 % of the source's interval."""
    kind, value = parse_schedule(source.schedule, kind=source.kind)
    if kind == "interval":
        return max(0, min(MAX_JITTER_S, int(int(value) * 0.05)))
    return MAX_JITTER_S


def _cron_after(expr: str, after: datetime) -> datetime:
    trigger = CronTrigger.from_crontab(expr, timezone=UTC)
    fire = trigger.get_next_fire_time(None, after + timedelta(seconds=1))
    assert fire is not None  # a 5-field crontab always fires again
    return fire.astimezone(UTC)


def next_crawl_due(source: Source, last_started: datetime | None) -> datetime | None:
    """When the source is due by its schedule, from its last crawl; None when never crawled."""
    if last_started is None:
        return None
    kind, value = parse_schedule(source.schedule, kind=source.kind)
    if kind == "interval":
        return last_started + timedelta(seconds=int(value))
    return _cron_after(str(value), last_started)


def plan(
    sources: Sequence[Source], last_started: Mapping[str, datetime], *, now: datetime
) -> list[PlannedJob]:
    """Every job with its next run at `now`. Pure: the same inputs give the same plan.

    An overdue crawl (or one never run) runs once, soon: the overdue ones are staggered
    `STAGGER` apart after `STARTUP_DELAY`, the longest-waiting first.
    """
    jobs: list[PlannedJob] = []
    overdue: list[tuple[datetime, Source]] = []
    for source in sources:
        last = last_started.get(source.name)
        due = next_crawl_due(source, last)
        if due is None or due <= now + STARTUP_DELAY:
            overdue.append((due or datetime.min.replace(tzinfo=UTC), source))
            continue
        jobs.append(
            PlannedJob(
                crawl_id(source.name), "crawl", describe_schedule(source), due,
                source=source, last_started=last,
            )
        )  # fmt: skip
    overdue.sort(key=lambda pair: (pair[0], pair[1].name))
    for n, (_, source) in enumerate(overdue):
        jobs.append(
            PlannedJob(
                crawl_id(source.name), "crawl", describe_schedule(source),
                now + STARTUP_DELAY + n * STAGGER, overdue=True, source=source,
                last_started=last_started.get(source.name),
            )
        )  # fmt: skip
    minutes = int(DIGEST_EVERY.total_seconds() // 60)
    jobs.append(PlannedJob("digests", "digests", f"every {minutes} min", now + STARTUP_DELAY))
    jobs.append(PlannedJob("sweep", "sweep", "daily", now + SWEEP_DELAY))
    return sorted(jobs, key=lambda j: (j.kind != "crawl", j.id))


def last_crawl_starts(engine: Engine) -> dict[str, datetime]:
    """The newest crawl run's start per source (whatever its status): the schedule's memory."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(col(CrawlRun.source), func.max(col(CrawlRun.started_at))).group_by(
                col(CrawlRun.source)
            )
        ).all()
    # SQLite hands aggregates back without the column type: normalise to aware UTC
    return {name: _aware(started) for name, started in rows if started is not None}


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def plan_from_db(
    engine: Engine, sources: Sequence[Source], *, now: datetime | None = None
) -> list[PlannedJob]:
    return plan(sources, last_crawl_starts(engine), now=now or utcnow())
