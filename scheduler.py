"""The schedule and `andon run`: crawl each source on its schedule, send due digests, sweep daily.

This is the face: APScheduler wiring and the run loop. What it calls lives with its data:
the plan (`runtime.plan`: next runs derived from the database at start, never pickled), the
crawls (`runtime.crawls` through a `runtime.launcher.Launcher`: a local child process, or a
Scrapyd node when `ANDON_SCRAPYD_URLS` is set), leadership (`runtime.leader`), orphans of a dead
leader (`runtime.orphans`), crawl health emails (`pipeline.health`) and the sweep
(`pipeline.expiry`).

- **Jobs**: `crawl:<source>` per source (interval or cron, with jitter), `digests` every
  `DIGEST_EVERY` (one job calls `run_digests(at=now)`, which finds what is due), `sweep` daily.
  Explicit ids, `replace_existing=True`, `coalesce=True`, long `misfire_grace_time`,
  `max_instances=1`; APScheduler keeps jobs in memory only. A restart after a day down runs
  every overdue job once, and a crash mid-job loses nothing a later run cannot redo.
- **One leader per database**; a second `andon run` waits. On taking the lead, the crawls a
  dead leader left running are ended and recorded failed.
- **Graceful stop** (Ctrl-C, SIGTERM): no new job starts; the digest run stops after the
  message in flight (each send is committed on its own); running crawls are cancelled (a child
  stores what it has and records a partial run) and killed if they do not end in time.
"""

from __future__ import annotations

import functools
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from config import Settings
from db import utcnow
from pipeline.expiry import SweepResult, sweep
from pipeline.health import AlertSender, report_health
from runtime.crawls import hard_limit_s, launcher_for, run_crawl
from runtime.launcher import CrawlOutcome, Launcher
from runtime.leader import (
    RENEW_EVERY_S,
    WAIT_POLL_S,
    leadership_for,
    new_holder,
    wait_for_leadership,
)
from runtime.orphans import end_orphans
from runtime.plan import DIGEST_EVERY, SWEEP_EVERY, PlannedJob, jitter_for, plan_from_db
from spiders.sources import Source, load_sources, parse_schedule

log = logging.getLogger("andon.scheduler")

Clock = Callable[[], datetime]

CRAWL_WORKERS = 4  # crawls at once (each is a process); digests and the sweep have their own pool
# misfire_grace_time: a job that could not start on time (a busy pool, a suspended laptop) still
# runs when it can, once (coalesce), instead of APScheduler's default 1 s after which it is dropped
CRAWL_GRACE_S = 6 * 3600
DIGEST_GRACE_S = 3600
SWEEP_GRACE_S = 12 * 3600


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


def operator_alert(settings: Settings) -> AlertSender:
    """The crawl-health email sender: `ANDON_OPERATOR_EMAIL` through the configured mailer."""

    def send(subject: str, lines: Sequence[str]) -> bool:
        from alerts.notify import send_operator_alert

        return send_operator_alert(settings, subject, lines)

    return send


class StopRequested(Exception):
    """Raised between two digests when the scheduler is stopping: the one in flight went out."""


CrawlFn = Callable[[Source], CrawlOutcome]
DigestFn = Callable[..., Any]


class Scheduler:
    """The jobs of `andon run` on an APScheduler `BackgroundScheduler` (memory job store).

    `crawl`, `digests` and `alert` can be replaced (tests); by default a crawl goes through
    `launcher` (chosen by the settings), digests are `alerts.digests.run_digests` and health
    emails go to the operator.
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
        alert: AlertSender | None = None,
        launcher: Launcher | None = None,
        leader: str | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.sources_path = Path(sources_path or settings.sources)
        self.clock = clock
        self.sources = {s.name: s for s in load_sources(self.sources_path)}
        self.leader = leader or new_holder()
        self.launcher = launcher or launcher_for(
            settings, engine, sources_path=self.sources_path, leader=self.leader, clock=clock
        )
        self._crawl = crawl or self._launch_crawl
        self._digests = digests
        self.alert = alert or operator_alert(settings)
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
            else:
                every, grace, fn = (
                    (DIGEST_EVERY, DIGEST_GRACE_S, self.digest_job)
                    if job.kind == "digests"
                    else (SWEEP_EVERY, SWEEP_GRACE_S, self.sweep_job)
                )
                trigger = IntervalTrigger(
                    seconds=every.total_seconds(), start_date=job.next_run, timezone=UTC
                )
                self.aps.add_job(
                    fn, trigger, id=job.id, name=job.id, replace_existing=True,
                    misfire_grace_time=grace,
                )  # fmt: skip
        return planned

    def start(self) -> None:
        planned = self.add_jobs()
        self.aps.start()
        overdue = sum(1 for j in planned if j.overdue)
        log.info(
            "scheduler started: %d crawl jobs (%d overdue, run first) on %s, digests every "
            "%d min, daily sweep",
            sum(1 for j in planned if j.kind == "crawl"), overdue, self.launcher.name,
            int(DIGEST_EVERY.total_seconds() // 60),
        )  # fmt: skip

    def stop(self) -> None:
        """No new job; running crawls are cancelled; the digest run ends after its current email."""
        self.stopping.set()
        if self.aps.running:
            self.aps.shutdown(wait=True)
        log.info("scheduler stopped")

    # -- jobs ---------------------------------------------------------------------------------
    def _launch_crawl(self, source: Source) -> CrawlOutcome:
        return run_crawl(
            self.launcher, self.engine, source, timeout_s=hard_limit_s(self.settings),
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
            report_health(self.engine, name, send=self.alert, clock=self.clock)
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
            from alerts.liveness import HttpLiveness

            # old jobs re-checked at their source before each send (`alerts.liveness`)
            self._digests = functools.partial(
                run_digests, liveness=HttpLiveness.from_settings(self.settings)
            )
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
    lead = leadership_for(engine)
    scheduler = Scheduler(settings, engine, sources_path=sources_path, leader=lead.holder)
    if not wait_for_leadership(lead, stop, poll_s=poll_s):
        return 0
    log.info("leading the schedule as %s", lead.holder)
    lost = False
    try:
        end_orphans(
            engine, lead.holder, cancel_job=getattr(scheduler.launcher, "cancel_slot", None)
        )
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
