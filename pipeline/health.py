"""Crawl health: posting counts, per source the last run and whether it looks unwell, and the
operator email once per incident."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from db import session_scope
from pipeline.models import CrawlRun, Posting

log = logging.getLogger("andon.scheduler")

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
    rows = session.execute(
        select(col(Posting.status), func.count()).group_by(col(Posting.status))
    ).all()
    counts = {"open": 0, "closed": 0}
    counts.update(dict(rows))
    return counts


def source_health(session: Session, *, history: int = 10) -> list[SourceHealth]:
    """Per source, from its last `history` runs (one query per source with runs)."""
    sources = session.execute(
        select(col(CrawlRun.source), col(CrawlRun.kind)).group_by(
            col(CrawlRun.source), col(CrawlRun.kind)
        )
    ).all()
    out = []
    for source, kind in sorted(sources):
        runs = list(
            session.execute(
                select(CrawlRun)
                .where(CrawlRun.source == source)
                .order_by(col(CrawlRun.started_at).desc(), col(CrawlRun.id).desc())
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


# -- telling the operator, once per incident --------------------------------------------------

HEALTH_KEY = "andon/health"

# Sends one operator email: (subject, lines) → False when nobody is there to tell; raises when
# the mailer fails. The faces pass `alerts.notify.send_operator_alert`.
AlertSender = Callable[[str, Sequence[str]], bool]


def report_health(
    engine: Engine, source_name: str, *, send: AlertSender, clock: Callable[[], datetime]
) -> str | None:
    """Email the operator when `source_name` is flagged and this incident was not reported yet.

    An incident is a run of consecutive flagged crawls: the first flagged run is reported and
    marked (`stats["andon/health"]`), the following flagged runs inherit the mark without an
    email, and a healthy run ends the incident. Returns the flag when an email went out.
    """
    with session_scope(engine) as session:
        pending = _unreported_incident(session, source_name)
        if pending is None:
            return None
        health, latest = pending
        run_id, lines = latest.id, _alert_lines(source_name, health, latest)
    try:
        sent = send(f"crawl source {source_name} needs a look", lines)
    except Exception as exc:  # a mail server down must not stop the schedule
        log.error("crawl health: could not email the operator about %s: %s", source_name, exc)
        return None
    if not sent:
        log.warning(
            "crawl health: %s %s (no ANDON_OPERATOR_EMAIL to tell)", source_name, health.flag
        )
        return None
    with session_scope(engine) as session:
        run = session.get(CrawlRun, run_id)
        if run is not None:
            mark = {"flag": health.flag, "reported_at": clock().isoformat()}
            run.stats = {**(run.stats or {}), HEALTH_KEY: mark}
            session.add(run)
    log.warning("crawl health: %s %s; the operator was emailed", source_name, health.flag)
    return health.flag


def _unreported_incident(
    session: Session, source_name: str
) -> tuple[SourceHealth, CrawlRun] | None:
    """The source's health and newest finished run when it starts a new flagged incident."""
    runs = list(
        session.execute(
            select(CrawlRun)
            .where(col(CrawlRun.source) == source_name)
            .order_by(col(CrawlRun.started_at).desc(), col(CrawlRun.id).desc())
            .limit(10)
        ).scalars()
    )
    done = [r for r in runs if r.status != "running"]
    if not done:
        return None
    health = assess(source_name, done[0].kind, runs)
    latest = done[0]
    if not health.flag or ((latest.stats or {}).get(HEALTH_KEY) or {}).get("reported_at"):
        return None
    previous = (done[1].stats or {}).get(HEALTH_KEY) if len(done) > 1 else None
    if previous and previous.get("reported_at"):
        # the same incident, already reported: carry the mark, send nothing
        latest.stats = {**(latest.stats or {}), HEALTH_KEY: {**previous, "flag": health.flag}}
        session.add(latest)
        return None
    return health, latest


def _alert_lines(source_name: str, health: SourceHealth, latest: CrawlRun) -> list[str]:
    lines = [
        f"Source {source_name} ({health.kind}) {health.flag}.",
        f"Last run: {latest.status}, started {latest.started_at:%Y-%m-%d %H:%M} UTC, kept "
        f"{latest.kept}, errors {latest.errors}.",
    ]
    if latest.message:
        lines.append(f"Its message: {latest.message}")
    lines.append(
        "Check the source in the sources file and `andon status`. This is the only email for "
        "this incident; another comes only after the source has recovered and is flagged again."
    )
    return lines
