"""Counts of subscribers, saved searches and recent digests, for `andon status`."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session, col

from alerts.models import Digest, SavedSearch, Subscriber


def subscriber_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(col(Subscriber.status), func.count()).group_by(col(Subscriber.status))
    ).all()
    return dict(rows)


def search_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(col(SavedSearch.active), func.count()).group_by(col(SavedSearch.active))
    ).all()
    counts = {"active": 0, "paused": 0}
    for active, n in rows:
        counts["active" if active else "paused"] += n
    return counts


def recent_digests(session: Session, limit: int = 10) -> list[Digest]:
    return list(
        session.execute(
            select(Digest)
            .order_by(col(Digest.created_at).desc(), col(Digest.id).desc())
            .limit(limit)
        ).scalars()
    )


def digest_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(col(Digest.status), func.count()).group_by(col(Digest.status))
    ).all()
    return dict(rows)
