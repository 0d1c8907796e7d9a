"""The statements of the send phase, each built once: the take (the digest with its subscriber
and search), a digest's jobs with only the columns an email shows, and the mark `sending`.

`select(Delivery, Posting)` then `listings()` loaded every posting whole (both descriptions,
~10 KB each) and read the sources in a second query; here one query reads the few columns
`DigestJob.from_listing` and the source credit use, with the sources joined in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, exists, false, or_, select, true, update
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from alerts.digests.rows import is_live
from alerts.models import ClosedNotice, Delivery, Digest, SavedSearch, Subscriber
from db import utcnow
from pipeline.models import Posting, PostingSource
from search.sql import _iso, salary_of

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
        """Open and unexpired at `at` (`rows.is_live`)."""
        return is_live(self, at)


def claimable(cutoff: Any) -> ColumnElement[bool]:
    """Pending, or left `sending` before `cutoff` (its sender presumably died)."""
    return or_(
        col(Digest.status) == "pending",
        and_(col(Digest.status) == "sending", col(Digest.sending_at) < cutoff),
    )


def _claimable_unindexed(cutoff: Any) -> ColumnElement[bool]:
    """`claimable`, as a CASE no index on `status` can answer.

    The take walks the primary key up from `after_` and stops at the first claimable digest no
    other sender holds, a few rows in. With `claimable`'s OR, PostgreSQL may (and, with the
    statistics of a digests table filled since its last ANALYZE, did) read every `pending` and
    `sending` entry of the status index instead, dead ones too (each status change adds one),
    and sort the window's rows, for each digest sent.
    """
    return case(
        (col(Digest.status) == "pending", true()),
        (col(Digest.status) == "sending", col(Digest.sending_at) < cutoff),
        else_=false(),
    )


def _take_statement(lock: bool) -> Any:
    # The digest is chosen (and locked) in a subquery; its subscriber and search are joined to
    # that one row, not to every claimable row of the window before the LIMIT.
    first = (
        select(Digest)
        .where(
            col(Digest.id) > bindparam("after_"),
            col(Digest.id) <= bindparam("upto_"),
            _claimable_unindexed(bindparam("cutoff_")),
        )
        .order_by(col(Digest.id))
        .limit(1)
    )
    if lock:
        first = first.with_for_update(skip_locked=True)
    taken = aliased(Digest, first.subquery("taken"))
    return (
        select(taken, Subscriber, SavedSearch)
        .outerjoin(Subscriber, col(Subscriber.id) == taken.subscriber_id)
        .outerjoin(SavedSearch, col(SavedSearch.id) == taken.saved_search_id)
        .execution_options(populate_existing=True)
    )


def _jobs_statement() -> Any:
    digest_id: Any = bindparam("digest_id_")
    closed = exists().where(col(ClosedNotice.digest_id) == digest_id)
    return (
        select(
            col(Delivery.why), *_POSTING_COLUMNS,
            col(PostingSource.source), col(PostingSource.external_id), col(PostingSource.url),
            closed.label("any_closed"),
        )
        .select_from(Digest)
        .join(Delivery, col(Delivery.digest_id) == col(Digest.id))
        .join(Posting, col(Posting.id) == col(Delivery.posting_id))
        .outerjoin(PostingSource, col(PostingSource.posting_id) == col(Posting.id))
        .where(col(Digest.id) == digest_id)
        .order_by(
            col(Delivery.rank), col(Delivery.id),
            col(PostingSource.first_seen_at), col(PostingSource.id),
        )
        # PostgreSQL plans no statement that locks rows in parallel. Without statistics on
        # deliveries (filled since the last ANALYZE: a claim phase's work) it expects thousands
        # of rows per digest and starts a worker, ~10 ms a digest for ~20 rows. The send phase
        # already holds the digest FOR UPDATE, so this weaker lock on it changes nothing there.
        .with_for_update(of=Digest, read=True, key_share=True)
    )  # fmt: skip


# Built once: a digest's statements differ only in their parameters.
_TAKE = {lock: _take_statement(lock) for lock in (False, True)}
_JOBS = _jobs_statement()
# Core, not ORM: the ORM's UPDATE would first evaluate the WHERE on the session's objects.
_MARK = (
    update(Digest.__table__)  # type: ignore[attr-defined]
    .where(
        Digest.__table__.c.id == bindparam("digest_id_"),  # type: ignore[attr-defined]
        claimable(bindparam("cutoff_")),
    )
    .values(
        status="sending",
        sending_at=bindparam("now_"),
        attempts=Digest.__table__.c.attempts + 1,  # type: ignore[attr-defined]
        job_count=bindparam("job_count_"),
    )
)


def take_next(
    session: Session, after_id: int, upto_id: int, cutoff: datetime
) -> tuple[Digest, Subscriber | None, SavedSearch | None] | None:
    """The first digest in ids (`after_id`, `upto_id`] still claimable (`cutoff`) that no other
    sender holds, locked; with its subscriber and search, read fresh, in the same query (only
    the digest is locked). PostgreSQL skips the rows other senders have locked: four senders
    walking one window each take the next free digest in one round trip instead of trying
    every id in turn. The id range (a window of `claimable_ids`) keeps what is ordered small:
    `ORDER BY id LIMIT 1` over the whole queue made PostgreSQL sort it for each digest."""
    lock = session.get_bind().dialect.name == "postgresql"
    params = {"after_": after_id, "upto_": upto_id, "cutoff_": cutoff}
    row = session.execute(_TAKE[lock], params).one_or_none()
    return None if row is None else (row[0], row[1], row[2])


def mark_sending(session: Session, digest_id: int, cutoff: datetime, job_count: int) -> bool:
    """`sending`, if still claimable. Committed (by the caller) before the provider call: a
    crash from there on leaves `sending`, the one state that is resent rather than lost."""
    params = {"digest_id_": digest_id, "cutoff_": cutoff, "now_": utcnow(), "job_count_": job_count}
    result: Any = session.connection().execute(_MARK, params)
    return bool(result.rowcount)


def stored_jobs(session: Session, digest_id: int) -> tuple[list[StoredJob], bool]:
    """The digest's deliveries in rank order, each posting with its sources (first seen first);
    and whether the digest lists closed jobs (`liveness.closed_jobs` has rows to read)."""
    rows = session.execute(_JOBS, {"digest_id_": digest_id}).all()
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
    salary = salary_of(smin, smax, currency, period, amin, amax)
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
