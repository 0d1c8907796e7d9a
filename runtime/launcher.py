"""One interface for starting crawls: on this machine (a child process) or on a Scrapyd node.

A `Launcher` starts one source's crawl and hands back a `Handle`; `poll` says when it ended,
`cancel` asks it to stop (`hard` kills), `running` lists what it runs now, `release` forgets a
handle once its crawl has ended. The database says how a crawl went: the crawl writes its own
`CrawlRun`, and `record_crawl` writes or fixes it when the crawl could not (it never started,
was killed, crashed, or its node vanished).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col

from db import session_scope
from pipeline.models import CrawlRun
from spiders.sources import Source

Clock = Callable[[], datetime]


class LaunchError(RuntimeError):
    """The crawl could not be started (no node answered, the process could not be spawned)."""


class SourceBusy(LaunchError):
    """The source is being crawled already (elsewhere): this run is skipped, not failed."""


@dataclass
class Handle:
    """A crawl in flight: which source, where (`where` reads well in a log line), since when."""

    source: Source
    where: str
    started: datetime
    ref: Any = None  # the launcher's own: a Popen, a Scrapyd job id
    node: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Ended:
    """How a crawl process ended: its exit code where known, and why when it is not clean."""

    exit_code: int | None
    detail: str = ""  # the last line of its stderr, or what happened to its node
    lost: bool = False  # its node disappeared: what it did is unknown


class Launcher(Protocol):
    """Starts crawls somewhere; see the module docstring."""

    name: str

    def launch(self, source: Source, timeout_s: float) -> Handle: ...
    def poll(self, handle: Handle) -> Ended | None: ...
    def cancel(self, handle: Handle, *, hard: bool = False) -> None: ...
    def running(self) -> list[Handle]: ...
    def release(self, handle: Handle) -> None: ...


@dataclass
class CrawlOutcome:
    """How one scheduled crawl went, read back from the crawl runs it left."""

    source: str
    status: str  # finished | partial | failed | skipped (the source was being crawled already)
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
    finish_reason: str | None = None,
    timed_out: bool = False,
) -> CrawlOutcome:
    """Read back the runs the crawl wrote since `started`; write or fix them when it could not.

    A crawl that left no run gets a `failed` one (so `andon status` and the health check see
    it); one that left its run `running` (it died mid-way, so it closed nothing), or was stopped
    at its time limit (`timed_out`), has it failed.
    """
    why = finish_reason or ("killed" if killed else "crashed")
    with session_scope(engine) as session:
        runs = list(
            session.execute(
                select(CrawlRun)
                .where(
                    col(CrawlRun.source) == source.name,
                    col(CrawlRun.started_at) >= started - timedelta(seconds=1),
                )
                .order_by(CrawlRun.id)  # type: ignore[arg-type]
            ).scalars()
        )
        if not runs:
            run = CrawlRun(
                source=source.name, kind=source.kind, started_at=started, finished_at=now,
                status="failed", finish_reason=why, errors=1, message=reason,
            )  # fmt: skip
            session.add(run)
            runs = [run]
        for run in runs:
            if run.status == "running":
                fail_run(run, now=now, finish_reason=why, message=reason)
                session.add(run)
            elif timed_out and run.status == "partial":
                # stopped at its time limit: what it stored stays, but the crawl failed
                run.status, run.message = "failed", reason
                session.add(run)
        return _outcome(source, runs, elapsed_s=elapsed_s, exit_code=exit_code, killed=killed)


def fail_run(run: CrawlRun, *, now: datetime, finish_reason: str, message: str) -> None:
    """Mark a run that never finished as failed: it closed nothing, and it counts as an error."""
    run.status = "failed"
    run.finished_at = now
    run.finish_reason = finish_reason
    run.errors = max(run.errors, 1)
    run.message = message


def _outcome(
    source: Source, runs: list[CrawlRun], *, elapsed_s: float, exit_code: int | None, killed: bool
) -> CrawlOutcome:
    last = runs[-1]
    return CrawlOutcome(
        source=source.name, status=last.status, elapsed_s=elapsed_s, exit_code=exit_code,
        killed=killed, fetched=sum(r.fetched for r in runs), kept=sum(r.kept for r in runs),
        dropped=sum(r.dropped for r in runs), new=sum(r.new for r in runs),
        updated=sum(r.updated + r.merged for r in runs), closed=sum(r.closed for r in runs),
        errors=sum(r.errors for r in runs), message=last.message,
    )  # fmt: skip
