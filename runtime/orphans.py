"""A new leader ends the crawls its dead predecessor left running, and records them failed.

A crawl child normally dies with its scheduler (`spiders.guard`), but one stuck where no signal
handler runs, or started by a leader on a machine that lost power, would otherwise run on with
nobody to enforce its limit, and its `CrawlRun` would stay `running`. The slots
(`runtime.slots`) say what the old leader started: on this machine its process group is ended
(after checking the group's leader carries the slot's token, so a recycled pid is never hit);
a Scrapyd job is cancelled through `cancel_job`; a child on another machine is left to its own
limit until its slot expires. Each ended crawl's runs still `running` are failed (they closed
nothing) and its slot is deleted.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col

from db import session_scope, utcnow
from pipeline.models import CrawlRun
from runtime import slots
from runtime.launcher import fail_run
from runtime.local import TERM_GRACE_S, TOKEN_ENV, signal_group

log = logging.getLogger("andon.scheduler")

CancelJob = Callable[[slots.Slot], None]


def end_orphans(
    engine: Engine,
    leader: str,
    *,
    cancel_job: CancelJob | None = None,
    now: datetime | None = None,
    grace_s: float = TERM_GRACE_S,
) -> list[str]:
    """End the crawls recorded by leaders other than `leader`; returns the sources ended."""
    now = now or utcnow()
    ended: list[str] = []
    for slot, expires in slots.all_slots(engine):
        if slot.leader == leader:
            continue
        if slot.node and slot.job:
            if cancel_job is not None:
                cancel_job(slot)
        elif slot.host == slots.HOST and slot.pgid:
            _end_group(slot, grace_s)
        elif expires > now:
            continue  # another machine's child, still within its limit: it ends itself
        _fail_runs(engine, slot, now)
        slots.release(engine, slot.source, leader=slot.leader)
        ended.append(slot.source)
        log.warning(
            "ended the crawl of %s left by the previous leader (%s)", slot.source, slot.leader
        )
    return ended


def _end_group(slot: slots.Slot, grace_s: float) -> None:
    assert slot.pgid is not None
    if not _ours(slot.pgid, slot.token):
        return  # gone already, or the pid now belongs to something else
    signal_group(slot.pgid, signal.SIGTERM)  # the crawl stores what it has and records its run
    gone = threading.Event()
    waited = 0.0
    while waited < grace_s and _ours(slot.pgid, slot.token):
        gone.wait(0.2)
        waited += 0.2
    signal_group(slot.pgid, signal.SIGKILL)


def _ours(pid: int, token: str | None) -> bool:
    """Whether `pid` is alive, not a zombie, and a crawl child carrying `token`."""
    proc = Path(f"/proc/{pid}")
    try:
        if "State:\tZ" in (proc / "status").read_text():
            return False
        environ = (proc / "environ").read_bytes().split(b"\0")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    return token is not None and f"{TOKEN_ENV}={token}".encode() in environ


def _fail_runs(engine: Engine, slot: slots.Slot, now: datetime) -> None:
    message = f"orphaned: its scheduler ({slot.leader}) died; ended by the next leader"
    with session_scope(engine) as session:
        runs = session.execute(
            select(CrawlRun).where(
                col(CrawlRun.source) == slot.source,
                col(CrawlRun.status) == "running",
                col(CrawlRun.started_at) >= slot.started_at(),
            )
        ).scalars()
        for run in runs:
            fail_run(run, now=now, finish_reason="orphaned", message=message)
            session.add(run)
