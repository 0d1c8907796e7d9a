"""The digest run: claim each due saved search's digest once, then send every claimed digest.

A run has two phases, each a series of short transactions, so a crash anywhere loses nothing and
repeats at most one email:

1. **Claim** (one transaction per due search). Insert the `Digest` outbox row for (search,
   period) — the unique constraint makes a repeated or concurrent claim a no-op — pick the
   matching postings, insert their `Delivery` rows (unique per subscriber and posting, so a
   posting goes to a person once, ever, whichever search matched it), and advance the search's
   `last_digest_at` / `next_due_at` with a conditional UPDATE that only the first claimer wins.
   Nothing matched → the digest is `empty` and no email goes out.
2. **Send** (one digest at a time, oldest first; digests left `pending` by earlier runs first
   come first). Render from the Delivery rows, mark the row `sending` and **commit before** the
   provider call, then record `sent` with the provider's message id right after it.

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

Matching runs in the percolator direction: the due searches go into one `SearchIndex`, the
union of their windows is read once, and each posting is matched once against the searches
whose anchors it contains. At 08:00 in a big timezone thousands of searches fall due over the
same day of new postings; one SQL full-text query per search would scan that day thousands
of times. SQL then checks each search's matches for its window, open status, expiry, and
"never delivered to this subscriber" inside the claim transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session

from alerts import cadence as cad
from alerts import links
from alerts.mailers import (
    Mailer,
    MailerAuthError,
    MailerError,
    PermanentSendError,
    TransientSendError,
    make_mailer,
)
from alerts.message import OutgoingMessage, build_message, sanitize_header
from alerts.models import Delivery, Digest, SavedSearch, Subscriber
from alerts.notify import send_operator_alert
from alerts.render import DigestContext, DigestJob, RenderedEmail, render_digest
from alerts.subscriptions import spec_of
from config import Settings
from db import utcnow
from pipeline.models import Posting
from search.filters import PostingDoc
from search.matcher import Match, SavedSearchSpec, SearchIndex
from search.query import QueryError
from search.sql import listings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # provider attempts per digest before it is marked failed
RESEND_SENDING_AFTER = timedelta(minutes=10)  # longer than any one send with its retries
LATE_COMMIT_SLACK = timedelta(minutes=10)
MAX_WINDOW = timedelta(days=31)  # a search paused for months restarts with the last month
MAX_CONSECUTIVE_TRANSIENT = 3  # the provider is down: stop and leave the rest for the next run
_ID_CHUNK = 2000  # ids per IN (...) list: far below SQLite's and PostgreSQL's limits

ProgressFn = Callable[[str, int, int], None]  # (stage "claim"|"send", done, total)


@dataclass(frozen=True, slots=True)
class PlannedDigest:
    """A digest a dry run would claim (or a claimed digest it would send)."""

    saved_search_id: int
    email: str
    search_name: str
    period_key: str
    job_count: int
    total_matches: int
    titles: tuple[str, ...] = ()
    resumed: bool = False  # left pending by an earlier run


@dataclass(slots=True)
class DigestSummary:
    """What one run did; `due` counts the searches that fell due, the rest count digests."""

    due: int = 0
    sent: int = 0
    empty: int = 0
    failed: int = 0
    skipped: int = 0  # the subscriber left, or the search was paused, after the claim
    retry: int = 0  # a transient provider error: left pending for the next run
    resumed: int = 0  # digests claimed by earlier runs that this run sent or tried
    waiting: int = 0  # left `sending` less than `resend_sending_after` ago (maybe in flight)
    stopped: str | None = None  # why the run stopped sending early
    planned: list[PlannedDigest] = field(default_factory=list)  # dry run only

    def line(self) -> str:
        """'due 3, sent 2, empty 1, failed 0' and the unusual counts when there are any."""
        text = f"due {self.due}, sent {self.sent}, empty {self.empty}, failed {self.failed}"
        extra = [
            f"{n} {label}"
            for n, label in (
                (self.skipped, "skipped"),
                (self.retry, "to retry"),
                (self.resumed, "resumed"),
                (self.waiting, "still sending"),
            )
            if n
        ]
        return text + (f" ({', '.join(extra)})" if extra else "")


# --- the run ---------------------------------------------------------------------------------


def run_digests(
    settings: Settings,
    engine: Engine,
    *,
    at: datetime,
    dry_run: bool = False,
    mailer: Mailer | None = None,
    on_progress: ProgressFn | None = None,
    resend_sending_after: timedelta = RESEND_SENDING_AFTER,
) -> DigestSummary:
    """Claim the digest of every search due at `at`, then send every claimed, unsent digest.

    `at` is the run's moment (timezone-aware): what is due, and what counts as expired.
    Raises `MailerConfigError` before touching the database when the mailer is misconfigured;
    a provider that refuses our credentials stops the run with `summary.stopped` set.
    """
    if at.tzinfo is None:
        raise ValueError("`at` must be timezone-aware")
    run_started = utcnow()
    summary = DigestSummary()
    progress = on_progress or (lambda _stage, _done, _total: None)
    if dry_run:
        _plan(settings, engine, at, summary, progress)
        return summary
    own = mailer is None
    active = make_mailer(settings) if mailer is None else mailer
    if own:
        active.open()
    try:
        _claim_due(settings, engine, at, summary, progress)
        _send_claimed(
            settings, engine, active, at, summary, progress, resend_sending_after, run_started
        )
    finally:
        if own:
            active.close()
    if summary.stopped:
        _tell_operator(settings, summary.stopped, summary)
    return summary


# --- phase 1: claim ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Due:
    search: SavedSearch
    subscriber: Subscriber
    occurrence: datetime  # the scheduled instant this digest serves (window end)
    period_key: str
    window_start: datetime
    next_due_at: datetime
    seen_due_at: datetime  # next_due_at as read: the claim only wins if it is unchanged


def due_searches(session: Session, at: datetime) -> list[tuple[SavedSearch, Subscriber]]:
    """Active searches of active subscribers with `next_due_at <= at` (the due index)."""
    rows = session.execute(
        select(SavedSearch, Subscriber)
        .join(Subscriber, Subscriber.id == SavedSearch.subscriber_id)  # type: ignore[arg-type]
        .where(
            SavedSearch.active == true(),
            SavedSearch.next_due_at <= at,  # type: ignore[operator]
            Subscriber.status == "active",
        )
        .order_by(SavedSearch.subscriber_id, SavedSearch.id)
    ).all()
    return [(s, sub) for s, sub in rows]


def _schedule(search: SavedSearch, at: datetime) -> tuple[datetime, datetime]:
    """(the latest scheduled occurrence at or before `at`, the one after it)."""
    kw: dict[str, Any] = {
        "cadence": search.cadence,
        "hour": search.send_hour,
        "weekday": search.weekday,
        "timezone": search.timezone,
    }
    occurrence = search.next_due_at
    assert occurrence is not None
    # Jump near `at` first: a search that has not run for months needs no day-by-day walk.
    near = cad.next_due(**kw, after=at - timedelta(days=8))
    if occurrence < near <= at:
        occurrence = near
    while (following := cad.next_due(**kw, after=occurrence)) <= at:
        occurrence = following
    return occurrence, following


def _due(session: Session, at: datetime) -> list[_Due]:
    out = []
    for search, sub in due_searches(session, at):
        occurrence, following = _schedule(search, at)
        start = search.last_digest_at or (search.created_at - cad.lookback(search.cadence))
        start = max(start, occurrence - MAX_WINDOW)
        key = cad.period_key(cadence=search.cadence, due_at=occurrence, timezone=search.timezone)
        out.append(_Due(search, sub, occurrence, key, start, following, search.next_due_at))  # type: ignore[arg-type]
    return out


def _match_all(
    session: Session, due: Sequence[_Due], at: datetime
) -> tuple[dict[int, list[Match]], dict[int, str]]:
    """Matches per search id over the union of the windows; and searches that cannot run."""
    specs: list[SavedSearchSpec] = []
    broken: dict[int, str] = {}
    for d in due:
        try:
            specs.append(spec_of(d.search))
        except QueryError as exc:
            # Saved before the query language changed: say so on the digest, keep the run going.
            broken[d.search.id] = f"the saved query no longer parses: {exc.one_line()}"  # type: ignore[index]
    if not specs:
        return {}, broken
    low = min(d.window_start for d in due) - LATE_COMMIT_SLACK
    high = max(d.occurrence for d in due)
    index = SearchIndex.build(specs)
    return index.match_many(_docs(session, low, high, at)), broken


_DOC_COLUMNS = (
    Posting.id,
    Posting.title,
    Posting.company,
    Posting.description_text,
    Posting.city,
    Posting.region,
    Posting.country,
    Posting.latitude,
    Posting.longitude,
    Posting.workplace,
    Posting.employment_type,
    Posting.annual_min_usd,
    Posting.annual_max_usd,
    Posting.seniority,
    Posting.industries,
    Posting.skills,
    Posting.location_text,
)


def _live(at: datetime) -> Any:
    """Open and not expired at `at` (invariant 5)."""
    return and_(
        Posting.status == "open",
        or_(Posting.valid_through.is_(None), Posting.valid_through > at),  # type: ignore[union-attr,operator]
    )


def _docs(session: Session, low: datetime, high: datetime, at: datetime) -> Iterable[PostingDoc]:
    rows = session.execute(
        select(*_DOC_COLUMNS).where(
            Posting.first_seen_at > low,  # type: ignore[operator]
            Posting.first_seen_at <= high,  # type: ignore[operator]
            _live(at),
        )
    )
    for r in rows:
        yield PostingDoc(
            id=r.id,
            title=r.title,
            company=r.company,
            description=r.description_text or "",
            city=r.city,
            region=r.region,
            country=r.country,
            latitude=r.latitude,
            longitude=r.longitude,
            workplace=r.workplace,
            employment_type=r.employment_type,
            annual_min_usd=r.annual_min_usd,
            annual_max_usd=r.annual_max_usd,
            seniority=r.seniority,
            industries=tuple(r.industries or ()),
            skills=tuple(r.skills or ()),
            location_text=r.location_text,
        )


def _eligible(session: Session, d: _Due, posting_ids: Sequence[int], at: datetime) -> set[int]:
    """Of these matched postings: in the window, open, unexpired, never sent to this person."""
    already = exists().where(
        Delivery.subscriber_id == d.subscriber.id,
        Delivery.posting_id == Posting.id,
    )
    out: set[int] = set()
    for i in range(0, len(posting_ids), _ID_CHUNK):
        chunk = list(posting_ids[i : i + _ID_CHUNK])
        out.update(
            session.execute(
                select(Posting.id).where(
                    Posting.id.in_(chunk),  # type: ignore[union-attr]
                    Posting.first_seen_at > d.window_start - LATE_COMMIT_SLACK,  # type: ignore[operator]
                    Posting.first_seen_at <= d.occurrence,  # type: ignore[operator]
                    _live(at),
                    ~already,
                )
            ).scalars()
        )
    return out


def _insert_ignore(session: Session, table: Any, values: dict[str, Any], keys: list[str]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the new id, or None when the row existed.

    On PostgreSQL a concurrent insert of the same key waits for the other transaction and then
    does nothing; no exception poisons ours.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
    return session.execute(stmt.returning(table.c.id)).scalar_one_or_none()


def _claim_due(
    settings: Settings, engine: Engine, at: datetime, summary: DigestSummary, progress: ProgressFn
) -> None:
    with Session(engine, expire_on_commit=False) as session:
        due = _due(session, at)
        # Detach what was read, so nothing reloads it mid-claim, and end the read: each claim
        # below is its own transaction.
        session.expunge_all()
        session.rollback()
        summary.due = len(due)
        progress("claim", 0, len(due))
        if not due:
            return
        matches, broken = _match_all(session, due, at)
        session.rollback()
        for n, d in enumerate(due, 1):
            search_id: int = d.search.id  # type: ignore[assignment]
            status = _claim_one(
                settings, session, d, matches.get(search_id, []), broken.get(search_id), at
            )
            summary.empty += status == "empty"
            summary.failed += status == "failed"
            progress("claim", n, len(due))


def _claim_one(
    settings: Settings,
    session: Session,
    d: _Due,
    matches: list[Match],
    broken: str | None,
    at: datetime,
) -> str | None:
    """One transaction: the digest row, its deliveries, the search's next window.

    Returns the new digest's status, or None when there is no new digest (claimed elsewhere,
    or this period was served already).
    """
    search = d.search
    try:
        digest_id = _insert_ignore(
            session,
            Digest.__table__,  # type: ignore[attr-defined]
            {
                "saved_search_id": search.id,
                "subscriber_id": d.subscriber.id,
                "period_key": d.period_key,
                "due_at": d.occurrence,
                "window_start": d.window_start,
                "window_end": d.occurrence,
                "status": "pending",
                "job_count": 0,
                "total_matches": 0,
                "attempts": 0,
                "created_at": utcnow(),
            },
            ["saved_search_id", "period_key"],
        )
        advance: dict[str, Any] = {"next_due_at": d.next_due_at}
        if digest_id is not None:
            # Only a digest that exists moves the window: a period already served (say the
            # hour was changed after today's digest) must not swallow its postings.
            advance["last_digest_at"] = max(d.occurrence, d.window_start)
        moved = session.execute(
            update(SavedSearch)
            .where(
                SavedSearch.id == search.id,  # type: ignore[arg-type]
                SavedSearch.next_due_at == d.seen_due_at,  # type: ignore[arg-type]
            )
            .values(**advance)
        ).rowcount
        if not moved:
            # Another sender claimed this search since we read it: its claim stands, ours goes.
            session.rollback()
            return None
        if digest_id is None:
            session.commit()
            return None
        if broken is not None:
            _set(session, digest_id, status="failed", error=broken)
            session.commit()
            return "failed"
        eligible = _eligible(session, d, [m.posting_id for m in matches], at)
        ranked = [m for m in matches if m.posting_id in eligible]  # already best first
        chosen = ranked[: settings.digest_cap]
        inserted = 0
        # Insert in posting-id order: two senders filling two searches of one subscriber then
        # take the (subscriber, posting) keys in the same order and cannot deadlock.
        for rank, m in sorted(enumerate(chosen, 1), key=lambda rm: rm[1].posting_id):
            new = _insert_ignore(
                session,
                Delivery.__table__,  # type: ignore[attr-defined]
                {
                    "subscriber_id": d.subscriber.id,
                    "posting_id": m.posting_id,
                    "digest_id": digest_id,
                    "rank": rank,
                    "score": m.score,
                    "why": m.why[:500],
                    "created_at": utcnow(),
                },
                ["subscriber_id", "posting_id"],
            )
            inserted += new is not None
        status = "pending" if inserted else "empty"
        _set(
            session,
            digest_id,
            status=status,
            job_count=inserted,
            total_matches=max(len(ranked), inserted),
        )
        session.commit()
        return status
    except BaseException:
        session.rollback()
        raise


def _set(session: Session, digest_id: int, **values: Any) -> None:
    session.execute(update(Digest).where(Digest.id == digest_id).values(**values))  # type: ignore[arg-type]


# --- phase 2: send ----------------------------------------------------------------------------


def _claimable(cutoff: datetime) -> Any:
    return or_(
        Digest.status == "pending",
        and_(Digest.status == "sending", Digest.sending_at < cutoff),  # type: ignore[operator]
    )


def _next_digest(session: Session, after_id: int, cutoff: datetime) -> Digest | None:
    """The oldest claimable digest after `after_id`; locked and skipped by others on PostgreSQL."""
    stmt = (
        select(Digest)
        .where(Digest.id > after_id, _claimable(cutoff))  # type: ignore[operator]
        .order_by(Digest.id)  # type: ignore[arg-type]
        .limit(1)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Two senders share the queue: each takes a row the other has not locked.
        stmt = stmt.with_for_update(skip_locked=True)
    return session.execute(stmt).scalar_one_or_none()


def _send_claimed(
    settings: Settings,
    engine: Engine,
    mailer: Mailer,
    at: datetime,
    summary: DigestSummary,
    progress: ProgressFn,
    resend_after: timedelta,
    run_started: datetime,
) -> None:
    cutoff = utcnow() - resend_after
    with Session(engine, expire_on_commit=False) as session:
        total = session.execute(
            select(func.count()).select_from(Digest).where(_claimable(cutoff))
        ).scalar_one()
        summary.waiting = session.execute(
            select(func.count())
            .select_from(Digest)
            .where(Digest.status == "sending", Digest.sending_at >= cutoff)  # type: ignore[operator]
        ).scalar_one()
        session.rollback()
        progress("send", 0, total)
        last_id, done, transient_run = 0, 0, 0
        while True:
            digest = _next_digest(session, last_id, cutoff)
            if digest is None:
                session.rollback()
                break
            last_id = digest.id  # type: ignore[assignment]
            outcome = _send_one(settings, session, mailer, digest, at, cutoff)
            session.expunge_all()  # a long run keeps no identity map of every digest it sent
            done += 1
            progress("send", done, max(total, done))
            if digest.created_at < run_started and outcome != "gone":
                summary.resumed += 1  # claimed by an earlier run that did not send it
            if outcome == "sent":
                summary.sent += 1
                transient_run = 0
            elif outcome == "empty":
                summary.empty += 1
            elif outcome == "failed":
                summary.failed += 1
            elif outcome == "skipped":
                summary.skipped += 1
            elif outcome == "retry":
                summary.retry += 1
                transient_run += 1
                if transient_run >= MAX_CONSECUTIVE_TRANSIENT:
                    summary.stopped = (
                        f"the mailer failed {transient_run} digests in a row "
                        f"({digest.error}); the rest wait for the next run"
                    )
                    break
            elif outcome.startswith("auth:"):
                summary.stopped = outcome[len("auth:") :]
                break


def _send_one(
    settings: Settings,
    session: Session,
    mailer: Mailer,
    digest: Digest,
    at: datetime,
    cutoff: datetime,
) -> str:
    """Send one digest; returns sent | empty | failed | skipped | retry | gone | auth:<why>."""
    digest_id = digest.id
    assert digest_id is not None
    attempts = digest.attempts + 1  # read now: the UPDATE below also refreshes `digest`
    try:
        if digest.status == "sending" and digest.attempts >= MAX_ATTEMPTS:
            _set(
                session,
                digest_id,
                status="failed",
                error=f"gave up after {digest.attempts} attempts (the last one's outcome is unknown)",
            )
            session.commit()
            return "failed"
        # Read fresh, not from the session's cache: they may have left a moment ago.
        subscriber = session.get(Subscriber, digest.subscriber_id, populate_existing=True)
        search = session.get(SavedSearch, digest.saved_search_id, populate_existing=True)
        if subscriber is None or search is None:
            session.rollback()
            return "gone"
        if subscriber.status != "active" or not search.active:
            # Invariant 6 at send time: they left (or paused) after the claim.
            why = (
                f"not sent: subscriber is {subscriber.status}"
                if subscriber.status != "active"
                else "not sent: the search was paused"
            )
            _set(session, digest_id, status="failed", error=why)
            session.commit()
            return "skipped"
        try:
            rendered, job_count = _render(session, settings, digest, subscriber, search, at)
        except Exception as exc:
            # A bug in rendering one digest must not hold every later digest hostage.
            log.exception("digest %s failed to render", digest_id)
            _set(session, digest_id, status="failed", error=f"render failed: {exc}"[:500])
            session.commit()
            return "failed"
        if rendered is None:
            # Invariant 5 at send time: every posting in it closed or expired since the claim.
            _set(session, digest_id, status="empty", job_count=0)
            session.commit()
            return "empty"
        try:
            msg = _message(settings, digest, subscriber, rendered)
        except ValueError as exc:
            _set(session, digest_id, status="failed", error=str(exc)[:500])
            session.commit()
            return "failed"
        claimed = session.execute(
            update(Digest)
            .where(Digest.id == digest_id, _claimable(cutoff))  # type: ignore[arg-type]
            .values(
                status="sending",
                sending_at=utcnow(),
                attempts=Digest.attempts + 1,
                job_count=job_count,
            )
        ).rowcount
        # Committed before the provider call: a crash from here on leaves `sending`, the one
        # state that is resent (at least once) rather than lost.
        session.commit()
        if not claimed:
            return "gone"  # another sender took it between our read and our update
    except BaseException:
        session.rollback()
        raise
    try:
        result = mailer.send(msg)
    except TransientSendError as exc:
        status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
        _record(session, digest_id, status=status, error=str(exc)[:500])
        return "failed" if status == "failed" else "retry"
    except PermanentSendError as exc:
        _record(session, digest_id, status="failed", error=str(exc)[:500])
        return "failed"
    except MailerAuthError as exc:
        # Not this digest's fault: back to pending without spending one of its attempts.
        _record(
            session,
            digest_id,
            status="pending",
            error=str(exc)[:500],
            attempts=Digest.attempts - 1,
        )
        return f"auth:{exc}"
    _record(
        session,
        digest_id,
        status="sent",
        sent_at=utcnow(),
        provider_message_id=result.provider_message_id,
        error=None,
    )
    return "sent"


def _record(session: Session, digest_id: int, **values: Any) -> None:
    _set(session, digest_id, **values)
    session.commit()


def _message(
    settings: Settings, digest: Digest, subscriber: Subscriber, rendered: RenderedEmail
) -> OutgoingMessage:
    msg = build_message(
        settings,
        to=subscriber.email,
        rendered=rendered,
        unsubscribe_url=links.unsubscribe_url(settings, subscriber.id),  # type: ignore[arg-type]
        digest_id=digest.id,
        kind="digest",
    )
    # The same Message-ID on a resend: a duplicate from the ambiguous window is one message
    # to clients that deduplicate by it.
    domain = sanitize_header(settings.from_domain()) or "andon.localhost"
    msg.message_id = f"<andon.digest.{digest.id}.{digest.period_key}@{domain}>"
    return msg


# --- rendering --------------------------------------------------------------------------------


def _render(
    session: Session,
    settings: Settings,
    digest: Digest,
    subscriber: Subscriber,
    search: SavedSearch,
    at: datetime | None,
) -> tuple[RenderedEmail | None, int]:
    """The digest email from its Delivery rows; postings closed or expired at `at` left out."""
    rows = session.execute(
        select(Delivery, Posting)
        .join(Posting, Posting.id == Delivery.posting_id)  # type: ignore[arg-type]
        .where(Delivery.digest_id == digest.id)
        .order_by(Delivery.rank, Delivery.id)  # type: ignore[arg-type]
    ).all()
    live = [
        (d, p)
        for d, p in rows
        if at is None or (p.status == "open" and (p.valid_through is None or p.valid_through > at))
    ]
    if not live:
        return None, 0
    shaped = listings(session, [p for _, p in live])
    jobs = [
        DigestJob.from_listing(
            item,
            why=d.why,
            attribution=p.attribution,
            source_url=_credited_url(item, p.attribution),
            market_table=settings.market_pay,
        )
        for (d, p), item in zip(live, shaped, strict=True)
    ]
    total = max(digest.total_matches - (len(rows) - len(live)), len(jobs))
    ctx = DigestContext(
        to_email=subscriber.email,
        subscriber_name=subscriber.name,
        search_name=search.name,
        cadence=search.cadence,
        jobs=jobs,
        total_matches=total,
        more_url=links.jobs_url(settings, search),
        manage_url=links.manage_url(settings, subscriber.id),  # type: ignore[arg-type]
        unsubscribe_url=links.unsubscribe_url(settings, subscriber.id),  # type: ignore[arg-type]
        feed_url=links.feed_url(settings, search.id),  # type: ignore[arg-type]
        postal_address=settings.postal_address,
        period_label=_period_label(digest, search),
    )
    return render_digest(ctx), len(jobs)


def _credited_url(listing: dict[str, Any], attribution: str | None) -> str | None:
    """The URL of the source to credit: the one named like the attribution, else the first."""
    sources = [s for s in listing.get("sources", []) if s.get("url")]
    if not attribution or not sources:
        return None
    word = attribution.casefold().split()[0] if attribution.split() else ""
    named = [s for s in sources if word and word in str(s.get("source", "")).casefold()]
    return (named or sources)[0]["url"]


def _period_label(digest: Digest, search: SavedSearch) -> str:
    if digest.window_start is None:
        return ""
    local = digest.window_start.astimezone(cad.zone(search.timezone))
    return f"since {local:%a}, {local:%b} {local.day}"


def render_digest_for(
    session: Session, settings: Settings, digest_id: int, *, at: datetime | None = None
) -> RenderedEmail:
    """A stored digest as its email (for the demo's .html files); postings as recorded.

    With `at`, postings closed or expired by then are left out, as a send would. Raises
    `LookupError` for an unknown digest or one with nothing to show.
    """
    digest = session.get(Digest, digest_id)
    if digest is None:
        raise LookupError(f"no digest {digest_id}")
    subscriber = session.get(Subscriber, digest.subscriber_id)
    search = session.get(SavedSearch, digest.saved_search_id)
    if subscriber is None or search is None:
        raise LookupError(f"digest {digest_id} has no subscriber or search any more")
    rendered, _ = _render(session, settings, digest, subscriber, search, at)
    if rendered is None:
        raise LookupError(f"digest {digest_id} has no jobs to show")
    return rendered


# --- dry run ----------------------------------------------------------------------------------


def _plan(
    settings: Settings, engine: Engine, at: datetime, summary: DigestSummary, progress: ProgressFn
) -> None:
    """What a run at `at` would claim and send, read-only (the transaction is rolled back)."""
    with Session(engine) as session:
        try:
            for digest in session.execute(
                select(Digest).where(Digest.status.in_(("pending", "sending"))).order_by(Digest.id)  # type: ignore[attr-defined]
            ).scalars():
                sub = session.get(Subscriber, digest.subscriber_id)
                search = session.get(SavedSearch, digest.saved_search_id)
                summary.planned.append(
                    PlannedDigest(
                        digest.saved_search_id,
                        sub.email if sub else "?",
                        search.name if search else "?",
                        digest.period_key,
                        digest.job_count,
                        digest.total_matches,
                        resumed=True,
                    )
                )
                summary.resumed += 1
            due = _due(session, at)
            summary.due = len(due)
            progress("claim", 0, len(due))
            matches, broken = _match_all(session, due, at)
            taken: set[tuple[int, int]] = set()  # (subscriber, posting) this plan already used
            for n, d in enumerate(due, 1):
                progress("claim", n, len(due))
                if d.search.id in broken:
                    summary.failed += 1
                    continue
                found = matches.get(d.search.id, [])  # type: ignore[arg-type]
                eligible = _eligible(session, d, [m.posting_id for m in found], at)
                ranked = [
                    m
                    for m in found
                    if m.posting_id in eligible and (d.subscriber.id, m.posting_id) not in taken
                ]
                chosen = ranked[: settings.digest_cap]
                taken.update((d.subscriber.id, m.posting_id) for m in chosen)  # type: ignore[misc]
                if not chosen:
                    summary.empty += 1
                    continue
                titles = _titles(session, [m.posting_id for m in chosen])
                summary.planned.append(
                    PlannedDigest(
                        d.search.id,
                        d.subscriber.email,
                        d.search.name,
                        d.period_key,  # type: ignore[arg-type]
                        len(chosen),
                        len(ranked),
                        tuple(titles),
                    )
                )
        finally:
            session.rollback()


def _titles(session: Session, ids: list[int]) -> list[str]:
    names = dict(
        session.execute(
            select(Posting.id, Posting.title + " · " + Posting.company).where(
                Posting.id.in_(bindparam("ids", expanding=True))  # type: ignore[union-attr]
            ),
            {"ids": ids},
        ).all()
    )
    return [names[i] for i in ids if i in names]


# --- the operator -----------------------------------------------------------------------------


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
