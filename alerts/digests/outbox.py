"""Phase 2 of a run: the outbox state machine that sends each claimed digest at least once.

One digest at a time, oldest first (digests left `pending` by earlier runs come first): render
it from its Delivery rows, mark the row `sending` and **commit before** the provider call, then
record `sent` with the provider's message id right after it. A crash (or a lost connection)
during the provider call leaves the row `sending`; a later run sends it again once it is older
than `resend_sending_after` — at most one duplicate per sender, with the same Message-ID.

    pending ──► sending ──► sent
       ▲           │  └───► failed   (permanent error, MAX_ATTEMPTS reached, render failed)
       └───────────┘                 (transient error or refused credentials: back to pending)
    pending ──► empty | failed       (every posting closed since the claim; subscriber left)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from alerts.digests.compose import digest_message, render_stored
from alerts.digests.rows import set_digest
from alerts.digests.send_rows import claimable, mark_sending, take_next
from alerts.digests.summary import (
    MAX_ATTEMPTS,
    MAX_CONSECUTIVE_TRANSIENT,
    DigestSummary,
    ProgressFn,
)
from alerts.mailers import Mailer, MailerAuthError, PermanentSendError, TransientSendError
from alerts.message import OutgoingMessage
from alerts.models import Digest, SavedSearch, Subscriber
from config import Settings
from db import session_scope, utcnow
from pipeline.board_status import BoardHealth

log = logging.getLogger(__name__)

_WINDOW = 500  # claimable digest ids a sender reads at a time, then takes one by one


class Outcome(Enum):
    """What became of one digest this run took from the queue."""

    SENT = "sent"
    EMPTY = "empty"  # every posting in it closed or expired since the claim
    FAILED = "failed"
    SKIPPED = "skipped"  # the subscriber left, or the search was paused, after the claim
    RETRY = "retry"  # a transient provider error: pending again for the next run
    GONE = "gone"  # another sender took it, or its subscriber or search was deleted
    AUTH = "auth"  # the provider refused our credentials: the run stops


@dataclass(frozen=True, slots=True)
class Step:
    """An outcome and, for RETRY and AUTH, the provider's words."""

    outcome: Outcome
    why: str = ""


@dataclass(frozen=True, slots=True)
class _Ready:
    """A digest marked `sending` (committed) and its message, for the provider call."""

    digest_id: int
    attempts: int  # this send's attempt number
    msg: OutgoingMessage


@dataclass(frozen=True, slots=True)
class SendRun:
    """One run's send phase: where it sends, what it may take, and whom it reports to."""

    settings: Settings
    engine: Engine
    mailer: Mailer
    at: datetime  # what counts as expired
    cutoff: datetime  # `sending` rows older than this are resent
    run_started: datetime  # digests created before it were claimed by an earlier run
    # the board-health line per window start, computed once per run (`render_stored`)
    health: dict[datetime | None, BoardHealth] = field(default_factory=dict)


def claimable_ids(session: Session, after_id: int, cutoff: datetime, limit: int) -> list[int]:
    """The next `limit` claimable digest ids after `after_id`, oldest first (not locked).

    Read a window at a time: `ORDER BY id LIMIT 1` with the lock made PostgreSQL sort every
    claimable row for each digest sent (90,000 pending digests: a quadratic send phase).
    """
    return list(
        session.execute(
            select(col(Digest.id))
            .where(col(Digest.id) > after_id, claimable(cutoff))
            .order_by(col(Digest.id))
            .limit(limit)
        ).scalars()
    )


def send_claimed(run: SendRun, summary: DigestSummary, progress: ProgressFn) -> None:
    """Send every claimable digest once, tallying into `summary`; stops early on an auth error
    or `MAX_CONSECUTIVE_TRANSIENT` transient errors in a row (`summary.stopped` says why).

    A window of claimable ids at a time; in it, each take is the first digest no other sender
    holds (`take_next`), until none is left; then the next window after it.
    """
    total = _queue_sizes(run.engine, run.cutoff, summary)
    progress("send", 0, total)
    last_id, done, transient_run = 0, 0, 0
    while summary.stopped is None:
        with session_scope(run.engine) as session:
            window = claimable_ids(session, last_id, run.cutoff, _WINDOW)
        if not window:
            break
        upto = window[-1]
        while summary.stopped is None:
            with session_scope(run.engine) as session:
                taken = take_next(session, last_id, upto, run.cutoff)
                if taken is None:
                    break  # the rest of the window is sent, or other senders hold it
                digest = taken[0]
                assert digest.id is not None
                last_id = digest.id
                prepared = _prepare(run, session, *taken)
            step = prepared if isinstance(prepared, Step) else _deliver(run, prepared)
            done += 1
            progress("send", done, max(total, done))
            if digest.created_at < run.run_started and step.outcome is not Outcome.GONE:
                summary.resumed += 1  # claimed by an earlier run that did not send it
            transient_run = _tally(summary, step, transient_run)
        last_id = upto


def _queue_sizes(engine: Engine, cutoff: datetime, summary: DigestSummary) -> int:
    """How many digests wait to be sent; sets `summary.waiting` (fresh `sending` rows)."""
    with session_scope(engine) as session:
        total: int = session.execute(
            select(func.count()).select_from(Digest).where(claimable(cutoff))
        ).scalar_one()
        summary.waiting = session.execute(
            select(func.count())
            .select_from(Digest)
            .where(col(Digest.status) == "sending", col(Digest.sending_at) >= cutoff)
        ).scalar_one()
    return total


def _tally(summary: DigestSummary, step: Step, transient_run: int) -> int:
    """Count one step; the new count of transient failures in a row."""
    match step.outcome:
        case Outcome.SENT:
            summary.sent += 1
            return 0
        case Outcome.EMPTY:
            summary.empty += 1
        case Outcome.FAILED:
            summary.failed += 1
        case Outcome.SKIPPED:
            summary.skipped += 1
        case Outcome.RETRY:
            summary.retry += 1
            transient_run += 1
            if transient_run >= MAX_CONSECUTIVE_TRANSIENT:
                summary.stopped = (
                    f"the mailer failed {transient_run} digests in a row "
                    f"({step.why}); the rest wait for the next run"
                )
        case Outcome.AUTH:
            summary.stopped = step.why
        case Outcome.GONE:
            pass
    return transient_run


def _prepare(
    run: SendRun,
    session: Session,
    digest: Digest,
    subscriber: Subscriber | None,
    search: SavedSearch | None,
) -> Step | _Ready:
    """In the transaction that took the digest (and read its subscriber and search fresh, not
    from the session's cache: they may have left a moment ago): a final outcome, or the digest
    marked `sending` with its message (committed when the caller's transaction ends)."""
    assert digest.id is not None
    if digest.status == "sending" and digest.attempts >= MAX_ATTEMPTS:
        why = f"gave up after {digest.attempts} attempts (the last one's outcome is unknown)"
        set_digest(session, digest.id, status="failed", error=why)
        return Step(Outcome.FAILED)
    attempts = digest.attempts + 1  # this send's attempt number (`mark_sending` counts it)
    if subscriber is None or search is None:
        return Step(Outcome.GONE)
    if subscriber.status != "active" or not search.active:
        # Invariant 6 at send time: they left (or paused) after the claim.
        why = (
            f"not sent: subscriber is {subscriber.status}"
            if subscriber.status != "active"
            else "not sent: the search was paused"
        )
        set_digest(session, digest.id, status="failed", error=why)
        return Step(Outcome.SKIPPED)
    composed = _compose(run, session, digest, subscriber, search)
    if isinstance(composed, Step):
        return composed
    msg, job_count = composed
    if not mark_sending(session, digest.id, run.cutoff, job_count):
        return Step(Outcome.GONE)  # another sender took it between our read and our update
    return _Ready(digest.id, attempts, msg)


def _compose(
    run: SendRun, session: Session, digest: Digest, subscriber: Subscriber, search: SavedSearch
) -> Step | tuple[OutgoingMessage, int]:
    """The digest's message and job count, or the outcome that ends it here (recorded)."""
    assert digest.id is not None
    try:
        rendered, job_count = render_stored(
            session, run.settings, digest, subscriber, search, run.at, run.health
        )
    except Exception as exc:
        # A bug in rendering one digest must not hold every later digest hostage.
        log.exception("digest %s failed to render", digest.id)
        set_digest(session, digest.id, status="failed", error=f"render failed: {exc}"[:500])
        return Step(Outcome.FAILED)
    if rendered is None:
        # Invariant 5 at send time: every posting in it closed or expired since the claim.
        set_digest(session, digest.id, status="empty", job_count=0)
        return Step(Outcome.EMPTY)
    try:
        return digest_message(run.settings, digest, subscriber, rendered), job_count
    except ValueError as exc:
        set_digest(session, digest.id, status="failed", error=str(exc)[:500])
        return Step(Outcome.FAILED)


def _deliver(run: SendRun, ready: _Ready) -> Step:
    """The provider call, outside any transaction, and its outcome recorded right after."""
    try:
        result = run.mailer.send(ready.msg)
    except TransientSendError as exc:
        error = str(exc)[:500]
        gave_up = ready.attempts >= MAX_ATTEMPTS
        _record(run.engine, ready.digest_id, status="failed" if gave_up else "pending", error=error)
        return Step(Outcome.FAILED) if gave_up else Step(Outcome.RETRY, error)
    except PermanentSendError as exc:
        _record(run.engine, ready.digest_id, status="failed", error=str(exc)[:500])
        return Step(Outcome.FAILED)
    except MailerAuthError as exc:
        # Not this digest's fault: back to pending without spending one of its attempts.
        _record(
            run.engine,
            ready.digest_id,
            status="pending",
            error=str(exc)[:500],
            attempts=_DIGESTS.c.attempts - 1,
        )
        return Step(Outcome.AUTH, str(exc))
    sent = {"digest_id_": ready.digest_id, "sent_at_": utcnow(), "id_": result.provider_message_id}
    _autocommit(run.engine, _SENT, sent)
    return Step(Outcome.SENT)


def _record(engine: Engine, digest_id: int, **values: object) -> None:
    """The provider's answer, committed at once (a Core UPDATE: no session to build)."""
    _autocommit(engine, update(_DIGESTS).where(_DIGESTS.c.id == digest_id).values(**values), {})


def _autocommit(engine: Engine, statement: Any, params: dict[str, object]) -> None:
    """One statement in autocommit: as atomic as BEGIN; UPDATE; COMMIT, in one round trip
    instead of three."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(statement, params)


_DIGESTS: Table = Digest.__table__  # type: ignore[attr-defined]
# `_record(status="sent", ...)` built once: each digest sent differs only in the parameters
_SENT = (
    update(_DIGESTS)
    .where(_DIGESTS.c.id == bindparam("digest_id_"))
    .values(
        status="sent",
        sent_at=bindparam("sent_at_"),
        provider_message_id=bindparam("id_"),
        error=None,
    )
)
