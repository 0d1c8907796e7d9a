"""Counts of subscribers, saved searches and recent digests, for `andon status`."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from alerts.models import Digest, SavedSearch, Subscriber


def subscriber_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Subscriber.status, func.count()).group_by(Subscriber.status)
    ).all()
    return dict(rows)


def search_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(SavedSearch.active, func.count()).group_by(SavedSearch.active)
    ).all()
    counts = {"active": 0, "paused": 0}
    for active, n in rows:
        counts["active" if active else "paused"] += n
    return counts


def recent_digests(session: Session, limit: int = 10) -> list[Digest]:
    return list(
        session.execute(
            select(Digest).order_by(Digest.created_at.desc(), Digest.id.desc()).limit(limit)  # type: ignore[attr-defined]
        ).scalars()
    )


def digest_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Digest.status, func.count()).group_by(Digest.status)).all()
    return dict(rows)
