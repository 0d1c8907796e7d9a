"""The reads of the send phase, each one statement: the digest with its subscriber and search,
and a digest's jobs with only the columns an email shows.

`select(Delivery, Posting)` then `listings()` loaded every posting whole (both descriptions,
~10 KB each) and read the sources in a second query; here one query reads the few columns
`DigestJob.from_listing` and the source credit use, with the sources joined in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from alerts.models import ClosedNotice, Delivery, Digest, SavedSearch, Subscriber
from pipeline.models import Posting, PostingSource
from search.sql import _iso, _num

# what `DigestJob.from_listing` reads of a listing, and `is_live` of a posting
_POSTING_COLUMNS: tuple[Any, ...] = (
    Posting.id, Posting.title, Posting.company, Posting.url, Posting.apply_url,
    Posting.location_text, Posting.country, Posting.workplace, Posting.seniority,
    Posting.salary_min, Posting.salary_max, Posting.salary_currency, Posting.salary_period,
    Posting.annual_min_usd, Posting.annual_max_usd, Posting.posted_at, Posting.posted_or_earlier,
    Posting.facts, Posting.attribution, Posting.status, Posting.valid_through,
)  # fmt: skip


@dataclass(slots=True)
class StoredJob:
    """One delivery of a digest: why it matched, and its posting as a (partial) listing."""

    why: str
    attribution: str | None
    status: str
    valid_through: datetime | None
    listing: dict[str, Any]

    def is_live(self, at: datetime | None) -> bool:
        """`rows.is_live` for the posting's status and expiry."""
        if at is None:
            return True
        return self.status == "open" and (self.valid_through is None or self.valid_through > at)


def take_with_people(
    session: Session, digest_id: int, claimable: ColumnElement[bool]
) -> tuple[Digest, Subscriber | None, SavedSearch | None] | None:
    """The digest, locked, if it is still `claimable` and no other sender holds it (PostgreSQL
    skips a row another sender has locked: each takes one the others have not); with its
    subscriber and search, read fresh, in the same query. Only the digest row is locked."""
    stmt = (
        select(Digest, Subscriber, SavedSearch)
        .outerjoin(Subscriber, col(Subscriber.id) == col(Digest.subscriber_id))
        .outerjoin(SavedSearch, col(SavedSearch.id) == col(Digest.saved_search_id))
        .where(col(Digest.id) == digest_id, claimable)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=Digest, skip_locked=True)
    row = session.execute(stmt).one_or_none()
    return None if row is None else (row[0], row[1], row[2])


def stored_jobs(session: Session, digest_id: int) -> tuple[list[StoredJob], bool]:
    """The digest's deliveries in rank order, each posting with its sources (first seen first);
    and whether the digest lists closed jobs (`liveness.closed_jobs` has rows to read)."""
    closed = exists().where(col(ClosedNotice.digest_id) == digest_id)
    rows = session.execute(
        select(
            col(Delivery.why), *_POSTING_COLUMNS,
            col(PostingSource.source), col(PostingSource.external_id), col(PostingSource.url),
            closed.label("any_closed"),
        )
        .join(Posting, col(Posting.id) == col(Delivery.posting_id))
        .outerjoin(PostingSource, col(PostingSource.posting_id) == col(Posting.id))
        .where(col(Delivery.digest_id) == digest_id)
        .order_by(
            col(Delivery.rank), col(Delivery.id),
            col(PostingSource.first_seen_at), col(PostingSource.id),
        )
    ).all()  # fmt: skip
    jobs: list[StoredJob] = []
    for row in rows:
        why, p, source = row[0], row[1:-4], row[-4:-1]
        if not jobs or jobs[-1].listing["id"] != p[0]:
            jobs.append(_job(why, p))  # one delivery per posting in a digest (unique key)
        if source[0] is not None:
            jobs[-1].listing["sources"].append(
                {"source": source[0], "external_id": source[1], "url": source[2]}
            )
    return jobs, bool(rows and rows[0][-1])


def _job(why: str, p: Any) -> StoredJob:
    """`search.sql.listing`'s fields for one posting row, those a digest email reads."""
    (pid, title, company, url, apply_url, location_text, country, workplace, seniority,
     smin, smax, currency, period, amin, amax, posted_at, or_earlier, facts, attribution,
     status, valid_through) = p  # fmt: skip
    salary = None
    if smin is not None or smax is not None:
        salary = {
            "min": _num(smin),
            "max": _num(smax),
            "currency": currency,
            "period": period,
            "annual_min_usd": _num(amin),
            "annual_max_usd": _num(amax),
        }
    listing = {
        "id": pid,
        "title": title,
        "company": company,
        "url": url,
        "apply_url": apply_url,
        "sources": [],
        "location": {"text": location_text, "country": country},
        "workplace": workplace,
        "salary": salary,
        "seniority": seniority,
        "facts": dict(facts or {}),
        "posted_at": _iso(posted_at),
        "posted_or_earlier": bool(or_earlier),
    }
    return StoredJob(why, attribution, status, valid_through, listing)
