"""The dry run: what a run at a moment would send and claim, read-only (rolled back)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from alerts.digests.due import BATCH, Due, count_due, due_page
from alerts.digests.match import Page, PageMatcher
from alerts.digests.summary import DigestSummary, PlannedDigest, ProgressFn
from alerts.models import Digest, SavedSearch, Subscriber
from config import Settings
from pipeline.models import Posting


def plan(
    settings: Settings,
    engine: Engine,
    at: datetime,
    summary: DigestSummary,
    progress: ProgressFn,
    batch: int | None = None,
) -> None:
    """Fill `summary` with what a run at `at` would do; the transaction is rolled back."""
    with Session(engine) as session:
        try:
            _plan_resumed(session, summary)
            total = count_due(session, at)
            progress("claim", 0, total)
            matcher = PageMatcher(at)
            after: tuple[int, int] | None = None
            while due := due_page(session, at, after, batch or BATCH):
                page = matcher.match(session, due)
                for d in due:
                    summary.due += 1
                    progress("claim", summary.due, max(total, summary.due))
                    if d.search_id in page.broken:
                        summary.failed += 1
                        continue
                    planned = _plan_one(settings, session, d, page)
                    if planned is None:
                        summary.empty += 1
                    else:
                        summary.planned.append(planned)
                matcher.done(page, due[-1])
                after = (due[-1].search.subscriber_id, due[-1].search_id)
        finally:
            session.rollback()


def _plan_resumed(session: Session, summary: DigestSummary) -> None:
    """Digests earlier runs claimed and did not send: this run would send them first."""
    for digest in session.execute(
        select(Digest)
        .where(col(Digest.status).in_(("pending", "sending")))
        .order_by(col(Digest.id))
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


def _plan_one(settings: Settings, session: Session, d: Due, page: Page) -> PlannedDigest | None:
    """The digest a claim of `d` would make (None: empty); its postings are taken."""
    subscriber_id = d.subscriber.id
    assert subscriber_id is not None
    chosen, ranked = page.top(d, settings.digest_cap)
    page.take(subscriber_id, (m.posting_id for m in chosen))
    if not chosen:
        return None
    return PlannedDigest(
        d.search_id,
        d.subscriber.email,
        d.search.name,
        d.period_key,
        len(chosen),
        ranked,
        tuple(_titles(session, [m.posting_id for m in chosen])),
    )


def _titles(session: Session, ids: list[int]) -> list[str]:
    names: dict[int, str] = dict(
        session.execute(
            select(col(Posting.id), col(Posting.title) + " · " + col(Posting.company)).where(
                Posting.id.in_(bindparam("ids", expanding=True))  # type: ignore[union-attr]
            ),
            {"ids": ids},
        ).all()
    )
    return [names[i] for i in ids if i in names]
