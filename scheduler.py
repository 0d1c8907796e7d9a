"""The schedule and `andon run`: crawl each source on its schedule, send due digests, sweep daily.

How it works (DESIGN.md "Facts that shape the code" → APScheduler 3; RELIABILITY.md §0.6):

- **The schedule is derived from the database at start, never pickled.** A crawl's next run is
  its source's last crawl run (`crawl_runs.started_at`, any status) plus its interval, or the
  next cron time after it; a source never crawled, or overdue because the scheduler was down, is
  run once shortly after start (staggered, oldest first). Digests need no schedule of their
  own: one job every few minutes calls `run_digests(at=now)`, which finds the due saved searches
  through `saved_searches.next_due_at` and claims each period once. So a restart after a day
  down runs every overdue job once, and a crash mid-job loses nothing a later run cannot redo.
  APScheduler keeps jobs in memory only (no job store table for Alembic to leave alone).
- **Jobs**: `crawl:<source>` per source (interval or cron, with jitter), `digests` every
  `DIGEST_EVERY`, `sweep` daily (close expired postings, fail crawl runs whose process died,
  prune old crawl runs). Explicit ids, `replace_existing=True`, `coalesce=True`, long
  `misfire_grace_time`, `max_instances=1`.
- **Crawls run in a child process** (`python -m spiders.runner --only NAME`): a Twisted reactor
  cannot restart in one process. The child runs in its own process group with a time limit;
  a hung or crashed crawl is killed with its whole group and recorded as a failed crawl run,
  and the schedule goes on.
- **One leader per database**: a PostgreSQL advisory lock held on a dedicated connection, or on
  SQLite a row in `leases` renewed every `LEASE_TTL / 3` and taken over once expired. A second
  `andon run` waits for it instead of sending digests twice.
- **Graceful stop** (Ctrl-C, SIGTERM): no new job starts; the digest run stops after the
  message in flight (each send is committed on its own); running crawls get SIGTERM (Scrapy
  closes cleanly and records a partial run), and are killed if they do not end in time.
- **Crawl health**: after each crawl, a source flagged by `pipeline.health` (failed twice in a
  row, or kept far fewer postings than usual) is reported to `ANDON_OPERATOR_EMAIL` once per
  incident; the flagged run's `stats["andon/health"]` remembers that it was reported.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from config import PROJECT_DIR, Settings
from db import Lease, session_scope, utcnow
from pipeline.health import assess
from pipeline.models import CrawlRun
from spiders.sources import Source, load_sources, parse_schedule

log = logging.getLogger("andon.scheduler")

Clock = Callable[[], datetime]

# -- the schedule's knobs ------------------------------------------------------------------------
DIGEST_EVERY = timedelta(minutes=5)  # run_digests is idempotent and cheap when nothing is due
STARTUP_DELAY = timedelta(seconds=10)  # the first overdue crawl, and the catch-up digest run
STAGGER = timedelta(seconds=10)  # between overdue crawls, so a restart does not start all at once
SWEEP_EVERY = timedelta(days=1)
SWEEP_DELAY = timedelta(minutes=1)  # the sweep is idempotent: once after each start, then daily
CRAWL_WORKERS = 4  # crawls at once (each is a process); digests and the sweep have their own pool
MAX_JITTER_S = 300  # crawls of one interval spread by up to 5 minutes, or 5 % of a short interval
PRUNE_AFTER = timedelta(days=90)  # crawl runs older than this go (each source keeps its last one)
# misfire_grace_time: a job that could not start on time (a busy pool, a suspended laptop) still
# runs when it can, once (coalesce), instead of APScheduler's default 1 s after which it is dropped
CRAWL_GRACE_S = 6 * 3600
DIGEST_GRACE_S = 3600
SWEEP_GRACE_S = 12 * 3600

# -- child crawls ------------------------------------------------------------------------------
# Scrapy closes a source itself at CLOSESPIDER_TIMEOUT (= crawl_timeout_s, at least 60 s) and
# records a partial run; the hard limit leaves it that long plus this grace before killing.
KILL_GRACE_S = 60.0
TERM_GRACE_S = 10.0  # SIGTERM → SIGKILL when a crawl is killed or the scheduler stops
POLL_S = 0.2

# -- leadership --------------------------------------------------------------------------------
LEASE_NAME = "scheduler"
LEASE_TTL = timedelta(seconds=60)  # a crashed leader is replaced within a minute
RENEW_EVERY_S = LEASE_TTL.total_seconds() / 3
WAIT_POLL_S = 5.0
# pg_advisory_lock keys are per database: andon databases on one server do not collide
ADVISORY_KEY = int.from_bytes(hashlib.sha256(b"andon:scheduler").digest()[:8], "big", signed=True)

HEALTH_KEY = "andon/health"


# =============================================================================================
# Planning: the jobs and their next runs, from the sources file and the database
# =============================================================================================


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


def crawl_trigger(source: Source, *, first_run: datetime, jitter: bool = True) -> BaseTrigger:
    """The source's trigger; interval triggers count from `first_run` (its derived next run)."""
    kind, value = parse_schedule(source.schedule, kind=source.kind)
    spread = jitter_for(source) if jitter else None
    if kind == "interval":
        return IntervalTrigger(
            seconds=int(value), start_date=first_run, timezone=UTC, jitter=spread or None
        )
    minute, hour, day, month, day_of_week = str(value).split()
    return CronTrigger(
        minute=minute, hour=hour, day=day, month=month, day_of_week=day_of_week,
        timezone=UTC, jitter=spread or None,
    )  # fmt: skip


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
            select(CrawlRun.source, func.max(CrawlRun.started_at)).group_by(CrawlRun.source)
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


# =============================================================================================
# Crawls in a child process
# =============================================================================================


@dataclass
class CrawlOutcome:
    """How one scheduled crawl went, read back from the crawl runs it left."""

    source: str
    status: str  # finished | partial | failed
    elapsed_s: float
    exit_code: int | None
    killed: bool = False
    fetched: int = 0
    kept: int = 0
    dropped: int = 0
    new: int = 0
    updated: int = 0
    closed: int = 0
    errors: int = 0
    message: str | None = None

    def line(self) -> str:
        text = (
            f"{self.status} in {self.elapsed_s:.1f}s: fetched {self.fetched}, kept {self.kept}, "
            f"dropped {self.dropped}, new {self.new}, updated {self.updated}, "
            f"closed {self.closed}, errors {self.errors}"
        )
        return text + (f" — {self.message}" if self.message and self.status != "finished" else "")


def crawl_command(settings: Settings, source: Source, sources_path: Path) -> list[str]:
    """The child's command line: the runner's entry point with the default pipelines."""
    cmd = [sys.executable, "-m", "spiders.runner", "--sources", str(sources_path)]
    cmd += ["--only", source.name, "--set", 'LOG_LEVEL="WARNING"']
    for key, value in settings.scrapy_overrides.items():
        cmd += ["--set", f"{key}={json.dumps(value)}"]
    return cmd


def child_env(settings: Settings, sources_path: Path) -> dict[str, str]:
    """The environment plus the settings a child must share with us (they may not be in it)."""
    env = dict(os.environ)
    env["ANDON_DATABASE_URL"] = settings.database_url
    env["ANDON_SOURCES"] = str(sources_path)
    env["ANDON_CRAWL_TIMEOUT_S"] = str(settings.crawl_timeout_s)
    env["ANDON_SCRAPY_OVERRIDES"] = json.dumps(settings.scrapy_overrides)
    if settings.role_profile:
        env["ANDON_ROLE_PROFILE"] = str(settings.role_profile)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PROJECT_DIR), env.get("PYTHONPATH", "")) if p
    )
    return env


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    # the child leads its own group: its children go too
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _last_line(data: bytes) -> str:
    lines = [ln.strip() for ln in data.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def run_crawl_child(
    settings: Settings,
    engine: Engine,
    source: Source,
    *,
    sources_path: Path,
    command: Sequence[str] | None = None,
    timeout_s: float | None = None,
    stop: threading.Event | None = None,
    clock: Clock = utcnow,
) -> CrawlOutcome:
    """Crawl one source in a child process and make sure the database says how it went.

    The child gets `timeout_s` (default `crawl_timeout_s + KILL_GRACE_S`); past it, or when
    `stop` is set, its process group gets SIGTERM, then SIGKILL after `TERM_GRACE_S`. A child
    that left no crawl run, or left it `running`, gets a `failed` run with the reason.
    """
    limit = timeout_s if timeout_s is not None else settings.crawl_timeout_s + KILL_GRACE_S
    cmd = list(command) if command else crawl_command(settings, source, sources_path)
    started = clock()
    t0 = time.monotonic()
    killed_for: str | None = None
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            env=child_env(settings, sources_path), start_new_session=True,
        )  # fmt: skip
        term_at: float | None = None
        while True:
            try:
                proc.wait(timeout=POLL_S)
                break
            except subprocess.TimeoutExpired:
                pass
            elapsed = time.monotonic() - t0
            if term_at is None and (elapsed >= limit or (stop is not None and stop.is_set())):
                killed_for = "timeout" if elapsed >= limit else "shutdown"
                _signal_group(proc, signal.SIGTERM)
                term_at = time.monotonic()
            elif term_at is not None and time.monotonic() - term_at >= TERM_GRACE_S:
                _signal_group(proc, signal.SIGKILL)
        # whatever the leader left behind in its group (a grandchild that ignored SIGTERM) goes
        _signal_group(proc, signal.SIGKILL)
        err.seek(0)
        stderr_tail = _last_line(err.read())
    elapsed = time.monotonic() - t0
    code = proc.returncode
    if killed_for == "timeout":
        reason = f"killed after {limit:.0f}s: the crawl exceeded its time limit"
    elif killed_for == "shutdown":
        reason = "stopped: the scheduler was shutting down"
    elif code not in (0, 1):
        reason = f"the crawl process exited with code {code}" + (
            f": {stderr_tail}" if stderr_tail else ""
        )
    else:
        reason = "the crawl process ended without recording a crawl run" + (
            f": {stderr_tail}" if stderr_tail else ""
        )
    return record_crawl(
        engine, source, started=started, now=clock(), elapsed_s=elapsed, exit_code=code,
        killed=killed_for is not None, reason=reason,
    )  # fmt: skip


def record_crawl(
    engine: Engine,
    source: Source,
    *,
    started: datetime,
    now: datetime,
    elapsed_s: float,
    exit_code: int | None,
    killed: bool,
    reason: str,
) -> CrawlOutcome:
    """Read back the runs the child wrote since `started`; write or fix them when it could not."""
    with session_scope(engine) as session:
        runs = list(
            session.execute(
                select(CrawlRun)
                .where(
                    CrawlRun.source == source.name,
                    CrawlRun.started_at >= started - timedelta(seconds=1),
                )  # type: ignore[operator]
                .order_by(CrawlRun.id)  # type: ignore[arg-type]
            ).scalars()
        )
        if not runs:
            run = CrawlRun(
                source=source.name, kind=source.kind, started_at=started, finished_at=now,
                status="failed", finish_reason="killed" if killed else "crashed", errors=1,
                message=reason,
            )  # fmt: skip
            session.add(run)
            runs = [run]
        for run in runs:
            if run.status == "running":
                # the child died between opening its run and closing it: nothing was closed
                run.status = "failed"
                run.finished_at = now
                run.finish_reason = "killed" if killed else "crashed"
                run.errors = max(run.errors, 1)
                run.message = reason
                session.add(run)
        last = runs[-1]
        return CrawlOutcome(
            source=source.name, status=last.status, elapsed_s=elapsed_s, exit_code=exit_code,
            killed=killed, fetched=sum(r.fetched for r in runs), kept=sum(r.kept for r in runs),
            dropped=sum(r.dropped for r in runs), new=sum(r.new for r in runs),
            updated=sum(r.updated + r.merged for r in runs), closed=sum(r.closed for r in runs),
            errors=sum(r.errors for r in runs), message=last.message,
        )  # fmt: skip


# =============================================================================================
# Crawl health: tell the operator once per incident
# =============================================================================================

AlertSender = Callable[[Settings, str, Sequence[str]], bool]


def _default_alert(settings: Settings, subject: str, lines: Sequence[str]) -> bool:
    from alerts.notify import send_operator_alert

    return send_operator_alert(settings, subject, lines)


def report_health(
    settings: Settings,
    engine: Engine,
    source_name: str,
    *,
    send: AlertSender = _default_alert,
    clock: Clock = utcnow,
) -> str | None:
    """Email the operator when `source_name` is flagged and this incident was not reported yet.

    An incident is a run of consecutive flagged crawls: the first flagged run is reported and
    marked (`stats["andon/health"]`), the following flagged runs inherit the mark without an
    email, and a healthy run ends the incident. Returns the flag when an email went out.
    """
    with session_scope(engine) as session:
        runs = list(
            session.execute(
                select(CrawlRun)
                .where(CrawlRun.source == source_name)
                .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())  # type: ignore[attr-defined]
                .limit(10)
            ).scalars()
        )
        done = [r for r in runs if r.status != "running"]
        if not done:
            return None
        health = assess(source_name, done[0].kind, runs)
        latest = done[0]
        if not health.flag:
            return None
        mark = (latest.stats or {}).get(HEALTH_KEY) or {}
        if mark.get("reported_at"):
            return None
        previous = (done[1].stats or {}).get(HEALTH_KEY) if len(done) > 1 else None
        if previous and previous.get("reported_at"):
            # the same incident, already reported: carry the mark, send nothing
            latest.stats = {**(latest.stats or {}), HEALTH_KEY: {**previous, "flag": health.flag}}
            session.add(latest)
            return None
        run_id, flag, message = latest.id, health.flag, latest.message
    lines = [
        f"Source {source_name} ({health.kind}) {flag}.",
        f"Last run: {latest.status}, started {latest.started_at:%Y-%m-%d %H:%M} UTC, kept "
        f"{latest.kept}, errors {latest.errors}.",
    ]
    if message:
        lines.append(f"Its message: {message}")
    lines.append(
        "Check the source in the sources file and `andon status`. This is the only email for "
        "this incident; another comes only after the source has recovered and is flagged again."
    )
    from alerts.mailers import MailerError

    try:
        sent = send(settings, f"crawl source {source_name} needs a look", lines)
    except MailerError as exc:
        log.error("crawl health: could not email the operator about %s: %s", source_name, exc)
        return None
    if not sent:
        log.warning("crawl health: %s %s (no ANDON_OPERATOR_EMAIL to tell)", source_name, flag)
        return None
    with session_scope(engine) as session:
        run = session.get(CrawlRun, run_id)
        if run is not None:
            run.stats = {
                **(run.stats or {}),
                HEALTH_KEY: {"flag": flag, "reported_at": clock().isoformat()},
            }
            session.add(run)
    log.warning("crawl health: %s %s; the operator was emailed", source_name, flag)
    return flag


# =============================================================================================
# The sweep
# =============================================================================================


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
    from pipeline.store import close_expired

    # a run still `running` long after any crawl could (Scrapy's own limit, the kill, a margin)
    # belongs to a process that died with its machine
    stale_before = now - timedelta(
        seconds=max(60, settings.crawl_timeout_s) + 2 * KILL_GRACE_S + TERM_GRACE_S
    )
    with session_scope(engine) as session:
        closed = close_expired(session, now=now)
        stale = session.execute(
            update(CrawlRun)
            .where(CrawlRun.status == "running", CrawlRun.started_at < stale_before)  # type: ignore[arg-type,operator]
            .values(
                status="failed", finished_at=now, finish_reason="crashed", errors=1,
                message="the crawl never finished (its process died)",
            )
        ).rowcount or 0  # fmt: skip
        newest = select(func.max(CrawlRun.id)).group_by(CrawlRun.source).scalar_subquery()
        pruned = (
            session.execute(
                delete(CrawlRun).where(
                    CrawlRun.started_at < now - PRUNE_AFTER,  # type: ignore[operator]
                    CrawlRun.id.not_in(newest),  # type: ignore[union-attr]
                )
            ).rowcount
            or 0
        )
    return SweepResult(closed, stale, pruned)


# =============================================================================================
# Leadership: one scheduler per database
# =============================================================================================


class Leadership(Protocol):
    """Who may run the schedule. `acquire` never blocks; `renew` says whether we still lead."""

    holder: str

    def acquire(self) -> bool: ...
    def renew(self) -> bool: ...
    def release(self) -> None: ...
    def current_leader(self) -> str | None: ...


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseLeadership:
    """A `leases` row: taken when absent or expired, renewed by its holder, deleted on release.

    Each step is one conditional statement, so two contenders cannot both win: the database
    serialises the writes and the second one's WHERE no longer matches.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        name: str = LEASE_NAME,
        ttl: timedelta = LEASE_TTL,
        clock: Clock = utcnow,
        holder: str | None = None,
    ) -> None:
        self.engine = engine
        self.name = name
        self.ttl = ttl
        self.clock = clock
        self.holder = holder or _holder()

    def acquire(self) -> bool:
        now = self.clock()
        table = Lease.__table__  # type: ignore[attr-defined]
        dialect = self.engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        with self.engine.begin() as conn:
            res = conn.execute(
                insert(table)
                .values(name=self.name, holder=self.holder, expires_at=now + self.ttl)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            if res.rowcount == 1:
                return True
            res = conn.execute(
                update(table)
                .where(
                    table.c.name == self.name,
                    or_(table.c.holder == self.holder, table.c.expires_at < now),
                )
                .values(holder=self.holder, expires_at=now + self.ttl)
            )
            return res.rowcount == 1

    def renew(self) -> bool:
        table = Lease.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as conn:
            res = conn.execute(
                update(table)
                .where(table.c.name == self.name, table.c.holder == self.holder)
                .values(expires_at=self.clock() + self.ttl)
            )
        return res.rowcount == 1

    def release(self) -> None:
        table = Lease.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as conn:
            conn.execute(
                delete(table).where(table.c.name == self.name, table.c.holder == self.holder)
            )

    def current_leader(self) -> str | None:
        with session_scope(self.engine) as session:
            lease = session.get(Lease, self.name)
            if lease is None or lease.expires_at < self.clock():
                return None
            return f"{lease.holder}, lease until {lease.expires_at:%H:%M:%S} UTC"


class AdvisoryLockLeadership:
    """`pg_try_advisory_lock` on a connection kept open while we lead (PostgreSQL).

    The lock lives as long as the session: if the connection drops, PostgreSQL releases it and
    `renew` (a ping on that connection) tells us we no longer lead.
    """

    def __init__(self, engine: Engine, *, key: int = ADVISORY_KEY) -> None:
        self.engine = engine
        self.key = key
        self.holder = _holder()
        self.conn: Connection | None = None

    def acquire(self) -> bool:
        if self.conn is not None:
            return True
        conn = self.engine.connect()
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
            conn.commit()  # a session-level lock outlives the transaction
        except BaseException:
            conn.close()
            raise
        if got:
            self.conn = conn
            return True
        conn.close()
        return False

    def renew(self) -> bool:
        if self.conn is None:
            return False
        try:
            self.conn.execute(text("SELECT 1"))
            self.conn.commit()
            return True
        except Exception:  # the connection is gone, and the lock with it
            log.exception("the leadership connection to PostgreSQL failed")
            self.conn = None
            return False

    def release(self) -> None:
        if self.conn is None:
            return
        try:
            self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            self.conn.commit()
        except Exception:
            log.warning("could not unlock the scheduler lock; closing its connection frees it")
        finally:
            self.conn.close()
            self.conn = None

    def current_leader(self) -> str | None:
        unsigned = self.key & 0xFFFFFFFFFFFFFFFF
        with self.engine.connect() as conn:
            pid = conn.execute(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND classid = :hi AND objid = :lo AND objsubid = 1"
                ),
                {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF},
            ).scalar()
        return None if pid is None else f"PostgreSQL backend {pid} holds the scheduler lock"


def leadership_for(engine: Engine, *, clock: Clock = utcnow) -> Leadership:
    if engine.dialect.name == "postgresql":
        return AdvisoryLockLeadership(engine)
    return LeaseLeadership(engine, clock=clock)


def wait_for_leadership(
    lead: Leadership, stop: threading.Event, *, poll_s: float = WAIT_POLL_S
) -> bool:
    """Block until we lead (True) or `stop` is set (False); says once that another one leads."""
    told = False
    while not stop.is_set():
        if lead.acquire():
            if told:
                log.info("the other scheduler is gone: this one leads now")
            return True
        if not told:
            log.info(
                "another scheduler leads on this database (%s); waiting to take over",
                lead.current_leader() or "its lease is ending",
            )
            told = True
        stop.wait(poll_s)
    return False


# =============================================================================================
# The scheduler
# =============================================================================================


class StopRequested(Exception):
    """Raised between two digests when the scheduler is stopping: the one in flight went out."""


CrawlFn = Callable[[Source], CrawlOutcome]
DigestFn = Callable[..., Any]


class Scheduler:
    """The jobs of `andon run` on an APScheduler `BackgroundScheduler` (memory job store).

    `crawl` and `digests` can be replaced (tests); by default a crawl is `run_crawl_child` and
    digests are `alerts.digests.run_digests`.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        sources_path: Path | None = None,
        clock: Clock = utcnow,
        crawl: CrawlFn | None = None,
        digests: DigestFn | None = None,
        alert: AlertSender = _default_alert,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.sources_path = Path(sources_path or settings.sources)
        self.clock = clock
        self.sources = {s.name: s for s in load_sources(self.sources_path)}
        self._crawl = crawl or self._crawl_child
        self._digests = digests
        self.alert = alert
        self.stopping = threading.Event()
        self.aps = BackgroundScheduler(
            timezone=UTC,
            executors={
                "default": ThreadPoolExecutor(2),
                "crawls": ThreadPoolExecutor(CRAWL_WORKERS),
            },
            job_defaults={"coalesce": True, "max_instances": 1},
        )

    # -- building ---------------------------------------------------------------------------
    def plan(self, now: datetime | None = None) -> list[PlannedJob]:
        return plan_from_db(self.engine, list(self.sources.values()), now=now or self.clock())

    def add_jobs(self, now: datetime | None = None) -> list[PlannedJob]:
        """Add every planned job (ids fixed, so adding twice replaces, never duplicates)."""
        planned = self.plan(now)
        for job in planned:
            if job.kind == "crawl":
                assert job.source is not None
                self.aps.add_job(
                    self.crawl_job, crawl_trigger(job.source, first_run=job.next_run),
                    args=[job.source.name], id=job.id, name=job.id, executor="crawls",
                    replace_existing=True, misfire_grace_time=CRAWL_GRACE_S,
                    next_run_time=job.next_run,
                )  # fmt: skip
            elif job.kind == "digests":
                self.aps.add_job(
                    self.digest_job, IntervalTrigger(seconds=DIGEST_EVERY.total_seconds(), start_date=job.next_run, timezone=UTC),
                    id=job.id, name=job.id, replace_existing=True,
                    misfire_grace_time=DIGEST_GRACE_S,
                )  # fmt: skip
            else:
                self.aps.add_job(
                    self.sweep_job, IntervalTrigger(seconds=SWEEP_EVERY.total_seconds(), start_date=job.next_run, timezone=UTC),
                    id=job.id, name=job.id, replace_existing=True,
                    misfire_grace_time=SWEEP_GRACE_S,
                )  # fmt: skip
        return planned

    def start(self) -> None:
        planned = self.add_jobs()
        self.aps.start()
        overdue = sum(1 for j in planned if j.overdue)
        log.info(
            "scheduler started: %d crawl jobs (%d overdue, run first), digests every %d min, "
            "daily sweep",
            sum(1 for j in planned if j.kind == "crawl"), overdue,
            int(DIGEST_EVERY.total_seconds() // 60),
        )  # fmt: skip

    def stop(self) -> None:
        """No new job; running crawls get SIGTERM; the digest run ends after its current email."""
        self.stopping.set()
        if self.aps.running:
            self.aps.shutdown(wait=True)
        log.info("scheduler stopped")

    # -- jobs ---------------------------------------------------------------------------------
    def _crawl_child(self, source: Source) -> CrawlOutcome:
        return run_crawl_child(
            self.settings, self.engine, source, sources_path=self.sources_path,
            stop=self.stopping, clock=self.clock,
        )  # fmt: skip

    def crawl_job(self, name: str) -> CrawlOutcome | None:
        if self.stopping.is_set():
            return None  # queued before the stop: leave it to the next start
        source = self.sources[name]
        log.info("crawl %s: start (%s)", name, source.kind)
        try:
            outcome = self._crawl(source)
        except Exception:
            log.exception("crawl %s: could not run", name)
            return None
        log.info("crawl %s: %s", name, outcome.line())
        try:
            report_health(self.settings, self.engine, name, send=self.alert, clock=self.clock)
        except Exception:
            log.exception("crawl %s: health check failed", name)
        return outcome

    def _stop_between_digests(self, stage: str, done: int, total: int) -> None:
        if self.stopping.is_set():
            raise StopRequested(f"stopped during {stage} after {done} of {total}")

    def digest_job(self) -> Any:
        if self.stopping.is_set():
            return None
        if self._digests is None:
            from alerts.digests import run_digests

            self._digests = run_digests
        at = self.clock()
        log.info("digests at %s: start", f"{at:%Y-%m-%d %H:%M:%S} UTC")
        t0 = time.monotonic()
        try:
            summary = self._digests(
                self.settings, self.engine, at=at, on_progress=self._stop_between_digests
            )
        except StopRequested as exc:
            log.info("digests: %s; the rest wait for the next run", exc)
            return None
        except Exception:
            log.exception("digests: the run failed; the next one retries what is left")
            return None
        line = summary.line() if hasattr(summary, "line") else str(summary)
        log.info("digests: %s in %.1fs", line, time.monotonic() - t0)
        return summary

    def sweep_job(self) -> SweepResult | None:
        if self.stopping.is_set():
            return None
        log.info("sweep: start")
        try:
            result = sweep(self.settings, self.engine, now=self.clock())
        except Exception:
            log.exception("sweep: failed")
            return None
        log.info("sweep: %s", result.line())
        return result


def configure_logging(verbose: bool = False) -> None:
    """One line per event on stderr; APScheduler's own chatter only when something is wrong."""
    from alerts.logredact import install_log_redaction

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("apscheduler").setLevel(logging.INFO if verbose else logging.WARNING)
    install_log_redaction()


def run_forever(
    settings: Settings,
    engine: Engine,
    *,
    sources_path: Path | None = None,
    stop: threading.Event | None = None,
    install_signals: bool = True,
    poll_s: float = WAIT_POLL_S,
) -> int:
    """`andon run`: wait to lead, schedule, keep the lead until stopped; 0 on a clean stop."""
    stop = stop or threading.Event()
    if install_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda signum, _frame: stop.set())
    scheduler = Scheduler(settings, engine, sources_path=sources_path)
    lead = leadership_for(engine)
    if not wait_for_leadership(lead, stop, poll_s=poll_s):
        return 0
    log.info("leading the schedule as %s", lead.holder)
    lost = False
    try:
        scheduler.start()
        while not stop.wait(RENEW_EVERY_S):
            if not lead.renew():
                log.error("lost the scheduler lead; stopping so that only one scheduler runs")
                lost = True
                break
        if not lost:
            log.info("stopping: finishing the jobs in flight")
    finally:
        scheduler.stop()
        lead.release()
    return 1 if lost else 0


# =============================================================================================
# `andon status`
# =============================================================================================


def _when(at: datetime, now: datetime) -> str:
    delta = at - now
    if delta.total_seconds() < 90:
        return "within a minute"
    if delta < timedelta(hours=2):
        return f"{at:%Y-%m-%d %H:%M} UTC (in {int(delta.total_seconds() // 60)} min)"
    return f"{at:%Y-%m-%d %H:%M} UTC"


def next_runs(settings: Settings, engine: Engine, *, now: datetime | None = None) -> list[str]:
    """The next run of each job, planned from the database as `andon run` would at start."""
    from alerts.models import SavedSearch, Subscriber

    now = now or utcnow()
    try:
        sources = load_sources(settings.sources)
    except Exception as exc:  # status must still print the rest
        return [f"schedule: cannot read the sources file: {exc}"]
    lead = leadership_for(engine)
    leader = lead.current_leader()
    lines = [
        f"scheduler: running ({leader})"
        if leader
        else "scheduler: not running (start it with `andon run`); next runs once it starts:"
    ]
    for job in plan_from_db(engine, sources, now=now):
        if job.kind == "crawl":
            last = (
                f"last started {job.last_started:%Y-%m-%d %H:%M} UTC"
                if job.last_started
                else "never crawled"
            )
            when = (
                "overdue: runs right after `andon run` starts"
                if job.overdue
                else _when(job.next_run, now)
            )
            lines.append(f"  {job.id}: {when} ({job.every}; {last})")
        elif job.kind == "digests":
            with session_scope(engine) as session:
                due = session.execute(
                    select(func.min(SavedSearch.next_due_at))
                    .join(Subscriber, Subscriber.id == SavedSearch.subscriber_id)  # type: ignore[arg-type]
                    .where(SavedSearch.active.is_(True), Subscriber.status == "active")  # type: ignore[attr-defined]
                ).scalar()
            nxt = (
                f"next saved search due {_when(_aware(due), now)}"
                if due
                else "no active saved search"
            )
            lines.append(f"  digests: {job.every}; {nxt}")
        else:
            lines.append(f"  sweep: {job.every}, once right after start")
    return lines
