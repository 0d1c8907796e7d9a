"""The digest run: claim each due saved search's digest once, then send every claimed digest.

A run has two phases, each a series of short transactions, so a crash anywhere loses nothing and
repeats at most one email:

1. **Claim** (`claim.py`, one transaction per due search; `due.py` says what is due and what it
   matched). Nothing matched → the digest is `empty` and no email goes out.
2. **Send** (`outbox.py`, the outbox state machine; `compose.py` builds each email from its
   Delivery rows). The row is marked `sending` and committed before the provider call.

Exactly-once at the provider is impossible (SendGrid has no idempotency key; SMTP can drop the
connection after accepting): we enqueue exactly once and send at least once. The one ambiguous
window is a crash (or a lost connection) during the provider call: the row stays `sending`,
and a later run sends it again once it is older than `resend_sending_after` — at most one
duplicate per sender, since a sender has one message in flight. The resend carries the same
Message-ID, so clients that thread by it (Gmail) show one message.

Window: a digest holds postings first seen in (window_start, window_end]. window_start is the
search's `last_digest_at` (its first digest reaches one period back from when it was saved).
window_end is the digest's scheduled occurrence, not the moment the run happens, so a late run
builds the same digest as a punctual one; occurrences missed while nothing ran coalesce into
the latest one at or before `at`, which is also the digest's period. A crawl commits its batch
a moment after stamping `first_seen_at`, so candidates reach back `LATE_COMMIT_SLACK` before
window_start; what went out already is excluded by the deliveries table, never by the window.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from alerts.digests.claim import claim_due
from alerts.digests.compose import render_digest_for
from alerts.digests.due import due_searches
from alerts.digests.outbox import Outcome, SendRun, send_claimed
from alerts.digests.plan import plan
from alerts.digests.summary import (
    MAX_ATTEMPTS,
    RESEND_SENDING_AFTER,
    DigestSummary,
    PlannedDigest,
    ProgressFn,
    no_progress,
)
from alerts.liveness import LivenessChecker, recheck_stale
from alerts.mailers import Mailer, MailerError, make_mailer
from alerts.notify import send_operator_alert
from config import Settings
from db import utcnow

__all__ = [
    "MAX_ATTEMPTS",
    "RESEND_SENDING_AFTER",
    "DigestSummary",
    "Outcome",
    "PlannedDigest",
    "ProgressFn",
    "due_searches",
    "render_digest_for",
    "run_digests",
]

log = logging.getLogger(__name__)


def run_digests(
    settings: Settings,
    engine: Engine,
    *,
    at: datetime,
    dry_run: bool = False,
    mailer: Mailer | None = None,
    on_progress: ProgressFn | None = None,
    resend_sending_after: timedelta = RESEND_SENDING_AFTER,
    liveness: LivenessChecker | None = None,
) -> DigestSummary:
    """Claim the digest of every search due at `at`, then send every claimed, unsent digest.

    `at` is the run's moment (timezone-aware): what is due, and what counts as expired.
    Raises `MailerConfigError` before touching the database when the mailer is misconfigured;
    a provider that refuses our credentials stops the run with `summary.stopped` set.
    With `liveness`, jobs posted over 14 days ago are re-checked at their source before the
    send phase and those gone are closed, so the send leaves them out (`alerts.liveness`).
    """
    if at.tzinfo is None:
        raise ValueError("`at` must be timezone-aware")
    run_started = utcnow()
    summary = DigestSummary()
    progress = on_progress or no_progress
    if dry_run:
        plan(settings, engine, at, summary, progress)
        return summary
    own = mailer is None
    active = make_mailer(settings) if mailer is None else mailer
    if own:
        active.open()
    try:
        started = time.perf_counter()
        claimed = claim_due(settings, engine, at, progress)
        summary.due, summary.empty, summary.failed = claimed.due, claimed.empty, claimed.failed
        claimed_at = time.perf_counter()
        summary.claim_s = claimed_at - started
        if liveness is not None:
            recheck_stale(settings, engine, at, liveness)
        cutoff = utcnow() - resend_sending_after
        run = SendRun(settings, engine, active, at, cutoff, run_started)
        send_claimed(run, summary, progress)
        summary.send_s = time.perf_counter() - claimed_at
    finally:
        if own:
            active.close()
    if summary.stopped:
        _tell_operator(settings, summary.stopped, summary)
    return summary


def _tell_operator(settings: Settings, why: str, summary: DigestSummary) -> None:
    """Best effort: the mailer that refused us may refuse this too; the log and exit code stay."""
    log.error("digest run stopped: %s", why)
    try:
        send_operator_alert(
            settings,
            "digest run stopped",
            [why, f"so far: {summary.line()}", "unsent digests stay pending for the next run"],
        )
    except MailerError as exc:
        log.error("could not tell the operator either: %s", exc)
