"""Compose a claimed digest: its email from the Delivery rows, and the message that carries it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from alerts import cadence as cad
from alerts import links
from alerts.digests.send_rows import stored_jobs
from alerts.feedback import LABELS
from alerts.liveness import closed_jobs
from alerts.message import OutgoingMessage, RenderedEmail, build_message, sanitize_header
from alerts.models import FEEDBACK_ACTIONS, Digest, SavedSearch, Subscriber
from alerts.render import DigestContext, DigestJob, render_digest
from config import Settings
from db import utcnow
from pipeline.board_status import BoardHealth, board_health


def render_stored(
    session: Session,
    settings: Settings,
    digest: Digest,
    subscriber: Subscriber,
    search: SavedSearch,
    at: datetime | None,
    health: dict[datetime | None, BoardHealth] | None = None,
) -> tuple[RenderedEmail | None, int]:
    """The digest email from its Delivery rows and its job count; postings closed or expired
    at `at` left out (None when none is left).

    `health` keeps the board-health lines a run computed, per window start: the digests of a
    send hour share a few windows, and the line is the same for all of them.
    """
    assert digest.id is not None
    stored, any_closed = stored_jobs(session, digest.id)
    kept = [job for job in stored if job.is_live(at)]
    if not kept:
        return None, 0
    jobs = [
        DigestJob.from_listing(
            job.listing,
            why=job.why,
            attribution=job.attribution,
            source_url=_credited_url(job.listing, job.attribution),
            market_table=settings.market_pay,
        )
        for job in kept
    ]
    for job in jobs:
        job.feedback = _feedback_links(settings, digest, job.posting_id)
    total = max(digest.total_matches - (len(stored) - len(kept)), len(jobs))
    ctx = _context(settings, digest, subscriber, search, jobs, total)
    if any_closed:  # most digests list none: no query for them
        ctx.closed = closed_jobs(session, digest.id, search.timezone)
    boards = _board_health(session, digest.window_start, at, health)
    ctx.boards, ctx.boards_failing = boards.boards, boards.failing
    ctx.status_url = f"{settings.base_url}/status"
    return render_digest(ctx), len(jobs)


def _board_health(
    session: Session,
    since: datetime | None,
    at: datetime | None,
    cache: dict[datetime | None, BoardHealth] | None,
) -> BoardHealth:
    if cache is None or at is None:
        return board_health(session, since=since, at=at or utcnow())
    if since not in cache:
        cache[since] = board_health(session, since=since, at=at)
    return cache[since]


def _context(
    settings: Settings,
    digest: Digest,
    subscriber: Subscriber,
    search: SavedSearch,
    jobs: list[DigestJob],
    total: int,
) -> DigestContext:
    assert subscriber.id is not None and search.id is not None
    return DigestContext(
        to_email=subscriber.email,
        subscriber_name=subscriber.name,
        search_name=search.name,
        cadence=search.cadence,
        jobs=jobs,
        total_matches=total,
        more_url=links.jobs_url(settings, search),
        manage_url=links.manage_url(settings, subscriber.id),
        unsubscribe_url=links.unsubscribe_url(settings, subscriber.id),
        feed_url=links.feed_url(settings, search.id),
        postal_address=settings.postal_line(),
        period_label=_period_label(digest, search),
    )


def _feedback_links(
    settings: Settings, digest: Digest, posting_id: int
) -> tuple[tuple[str, str], ...]:
    """Not relevant, Hide this company, Applied: signed for this subscriber, search and job."""
    return tuple(
        (LABELS[action], links.feedback_url(
            settings, digest.subscriber_id, digest.saved_search_id, posting_id, action
        ))
        for action in FEEDBACK_ACTIONS
    )  # fmt: skip


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


def digest_message(
    settings: Settings, digest: Digest, subscriber: Subscriber, rendered: RenderedEmail
) -> OutgoingMessage:
    """The outgoing message of a digest; `ValueError` when it cannot be built (bad address)."""
    assert subscriber.id is not None
    msg = build_message(
        settings,
        to=subscriber.email,
        rendered=rendered,
        unsubscribe_url=links.unsubscribe_url(settings, subscriber.id),
        digest_id=digest.id,
        kind="digest",
    )
    # The same Message-ID on a resend: a duplicate from the ambiguous window is one message
    # to clients that deduplicate by it.
    domain = sanitize_header(settings.from_domain()) or "andon.localhost"
    msg.message_id = f"<andon.digest.{digest.id}.{digest.period_key}@{domain}>"
    return msg


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
    rendered, _ = render_stored(session, settings, digest, subscriber, search, at)
    if rendered is None:
        raise LookupError(f"digest {digest_id} has no jobs to show")
    return rendered
