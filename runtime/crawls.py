"""One scheduled crawl from start to record: launch it, enforce its time limit, record the end.

The same steps for every launcher: a crawl that cannot start, is killed at its limit or on a
stop, crashes or loses its node still leaves a failed `CrawlRun`, so `andon status` and the
health check see it and the schedule goes on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from config import Settings
from db import utcnow
from runtime.launcher import (
    Clock,
    CrawlOutcome,
    Ended,
    Handle,
    Launcher,
    SourceBusy,
    record_crawl,
)
from runtime.leader import new_holder
from runtime.local import TERM_GRACE_S, LocalLauncher
from spiders.sources import Source

# Scrapy closes a source itself at CLOSESPIDER_TIMEOUT (= crawl_timeout_s, at least 60 s) and
# records a partial run; the hard limit leaves it that long plus this grace before killing.
KILL_GRACE_S = 60.0
POLL_S = 0.2


def hard_limit_s(settings: Settings) -> float:
    """How long a crawl may run before it is stopped from outside."""
    return settings.crawl_timeout_s + KILL_GRACE_S


@dataclass
class _Watch:
    """Why and since when the crawl is being stopped."""

    killed_for: str | None = None
    term_at: float | None = None


def run_crawl(
    launcher: Launcher,
    engine: Engine,
    source: Source,
    *,
    timeout_s: float,
    stop: threading.Event | None = None,
    clock: Clock = utcnow,
    poll_s: float = POLL_S,
) -> CrawlOutcome:
    """Crawl `source` through `launcher` and make sure the database says how it went.

    Past `timeout_s`, or when `stop` is set, the crawl is cancelled (SIGTERM, or Scrapyd's
    cancel), then killed after `TERM_GRACE_S`.
    """
    started = clock()
    t0 = time.monotonic()
    try:
        handle = launcher.launch(source, timeout_s)
    except SourceBusy as exc:
        return CrawlOutcome(source.name, "skipped", 0.0, None, message=str(exc))
    except Exception as exc:  # any reason at all: the run must still be on record
        return record_crawl(
            engine, source, started=started, now=clock(), elapsed_s=time.monotonic() - t0,
            exit_code=None, killed=False, finish_reason="not started",
            reason=f"the crawl could not start: {exc}",
        )  # fmt: skip
    try:
        poll_s = getattr(launcher, "poll_s", poll_s)  # a remote launcher asks less often
        watch, ended = _wait(launcher, handle, timeout_s, stop, t0, poll_s)
    finally:
        launcher.release(handle)
    return record_crawl(
        engine, source, started=started, now=clock(), elapsed_s=time.monotonic() - t0,
        exit_code=ended.exit_code, killed=watch.killed_for is not None,
        reason=_reason(watch, ended, timeout_s, handle),
        finish_reason="lost" if ended.lost and watch.killed_for is None else None,
        timed_out=watch.killed_for == "timeout",
    )  # fmt: skip


def _wait(
    launcher: Launcher,
    handle: Handle,
    limit: float,
    stop: threading.Event | None,
    t0: float,
    poll_s: float,
) -> tuple[_Watch, Ended]:
    watch = _Watch()
    pause = threading.Event()  # never set: a wait that a test's fake clock cannot skip
    while (ended := launcher.poll(handle)) is None:
        elapsed = time.monotonic() - t0
        if watch.term_at is None and (elapsed >= limit or (stop is not None and stop.is_set())):
            watch.killed_for = "timeout" if elapsed >= limit else "shutdown"
            launcher.cancel(handle)
            watch.term_at = time.monotonic()
        elif watch.term_at is not None and time.monotonic() - watch.term_at >= TERM_GRACE_S:
            launcher.cancel(handle, hard=True)
        pause.wait(poll_s)
    return watch, ended


def _reason(watch: _Watch, ended: Ended, limit: float, handle: Handle) -> str:
    tail = f": {ended.detail}" if ended.detail else ""
    if watch.killed_for == "timeout":
        return f"killed after {limit:.0f}s: the crawl exceeded its time limit"
    if watch.killed_for == "shutdown":
        return "stopped: the scheduler was shutting down"
    if ended.lost:
        return f"lost: {handle.where} stopped answering mid-crawl{tail}"
    if ended.exit_code not in (0, 1, None):
        return f"the crawl process exited with code {ended.exit_code}{tail}"
    return f"the crawl process ended without recording a crawl run{tail}"


def launcher_for(
    settings: Settings,
    engine: Engine,
    *,
    sources_path: Path,
    leader: str,
    clock: Clock = utcnow,
) -> Launcher:
    """The launcher the settings ask for: child processes here, unless Scrapyd nodes are named."""
    if settings.scrapyd_nodes():
        from runtime.scrapyd import ScrapydLauncher

        return ScrapydLauncher(settings, engine, leader=leader, clock=clock)
    return LocalLauncher(settings, engine, sources_path=sources_path, leader=leader, clock=clock)


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
    leader: str | None = None,
) -> CrawlOutcome:
    """Crawl one source in a child process of this one (`LocalLauncher`), start to record."""
    launcher = LocalLauncher(
        settings, engine, sources_path=sources_path, leader=leader or new_holder(),
        command=command, clock=clock,
    )  # fmt: skip
    limit = timeout_s if timeout_s is not None else hard_limit_s(settings)
    return run_crawl(launcher, engine, source, timeout_s=limit, stop=stop, clock=clock)
