"""Write clean postings in batches: upsert sightings, merge duplicates, keep the database the judge.

`store_batch` is the store API (tests and the Scrapy pipeline both use it). One call is one
transaction: it reads what it needs for the whole batch with a few queries, then writes.

Dedup order for each item (first hit wins):
1. the same (source, external id) → update that posting ("updated");
2. the same requisition id at the same source, or the same canonical job URL anywhere → a
   re-post or another listing of that posting ("merged");
3. the same company, title and place with a near-identical description (shingle Jaccard ≥
   `pipeline.candidates.NEAR_DUPLICATE`), open or closed → the same job seen elsewhere or
   re-posted ("merged");
4. otherwise a new posting ("new").
The same title at the same company in two cities has two place keys, so it stays two postings.
Uniqueness of (source, external id) is a database constraint: a concurrent writer that inserted
the same sighting first turns our insert into an update, not a duplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select, text, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col

from db import utcnow
from pipeline.candidates import (
    Light,
    dedup_key,
    find_candidates,
    find_duplicate,
    load_light,
    url_key,
)
from pipeline.models import Posting, PostingSource
from pipeline.record import CleanPosting
from pipeline.sqlite_rows import insert_rows
from pipeline.storable import make_storable

log = logging.getLogger(__name__)

# Fields copied from a CleanPosting onto the posting row on insert and on update.
_POSTING_FIELDS = (
    "title", "company", "url", "apply_url", "location_text", "city", "region", "country",
    "latitude", "longitude", "workplace", "employment_type", "salary_min", "salary_max",
    "salary_currency", "salary_period", "annual_min_usd", "annual_max_usd", "seniority",
    "industries", "skills", "facts", "shifts", "standards", "team_size", "description_text",
    "description_html", "attribution", "posted_at",
    "posted_or_earlier", "valid_through", "relevance_rule",
)  # fmt: skip
# the facts and their columns come from one description: a second source fills them as a group
_FACT_FIELDS = ("facts", "shifts", "standards", "team_size")
_GAP_FIELDS = tuple(f for f in _POSTING_FIELDS if f not in _FACT_FIELDS)
# The table, not the model: the ORM's bulk INSERT groups rows by which columns are None and
# sends each small group alone; Core sends every row's every column in one executemany.
_POSTINGS = SQLModel.metadata.tables["postings"]
_SIGHTINGS = SQLModel.metadata.tables["posting_sources"]  # the same, without the ORM's bulk path


@dataclass
class BatchResult:
    """What one batch did; `posting_ids` maps (source, external id) to the posting it landed on."""

    new: int = 0
    updated: int = 0
    merged: int = 0
    reopened: int = 0
    unchanged: int = 0  # re-crawled items with their stored fingerprint: only last_seen_at moved
    posting_ids: dict[tuple[str, str], int] = field(default_factory=dict)
    # fields cut or stripped to be storable (`pipeline.storable`): name -> how many postings
    cleaned: dict[str, int] = field(default_factory=dict)

    def add(self, other: BatchResult) -> None:
        self.new += other.new
        self.updated += other.updated
        self.merged += other.merged
        self.reopened += other.reopened
        self.unchanged += other.unchanged
        self.posting_ids.update(other.posting_ids)
        for name, count in other.cleaned.items():
            self.cleaned[name] = self.cleaned.get(name, 0) + count


def store_batch(
    session: Session, items: Sequence[CleanPosting], *, now: datetime | None = None
) -> BatchResult:
    """Upsert a batch of clean postings in the caller's transaction (commit is the caller's).

    Every item is first made storable (`pipeline.storable`: unstorable characters removed,
    over-long fields cut); `BatchResult.cleaned` counts the fields that changed.
    """
    now = now or utcnow()
    cleaned: dict[str, int] = {}
    # the last copy of a (source, external id) within one batch wins
    unique: dict[tuple[str, str], CleanPosting] = {}
    for raw in items:
        item, changed = make_storable(raw)
        for name in changed:
            cleaned[name] = cleaned.get(name, 0) + 1
        unique[(item.source, item.external_id)] = item
    result = _store_retrying(session, list(unique.values()), now)
    result.cleaned = cleaned
    return result


def _store_retrying(session: Session, items: list[CleanPosting], now: datetime) -> BatchResult:
    for _attempt in range(3):
        savepoint = session.begin_nested()
        try:
            result = _store(session, items, now)
            savepoint.commit()
            return result
        except IntegrityError:
            # another writer inserted one of our sightings between our read and our write:
            # read again, and what was an insert becomes an update
            savepoint.rollback()
            log.info("concurrent insert detected; retrying the batch")
    return _store(session, items, now)


def _store(session: Session, items: list[CleanPosting], now: datetime) -> BatchResult:
    result = BatchResult()
    if not items:
        return result
    keys = [(i.source, i.external_id) for i in items]
    existing = {
        (s.source, s.external_id): s
        for s in session.execute(
            select(PostingSource).where(
                tuple_(PostingSource.source, PostingSource.external_id).in_(keys)
            )
        ).scalars()
    }
    fresh = [i for i in items if (i.source, i.external_id) not in existing]
    found = find_candidates(session, fresh)
    loaded = _load_postings(session, {s.posting_id for s in existing.values()})
    found.resolve(loaded, load_light(session, found.posting_ids - loaded.keys()))
    # New postings are plain rows until one INSERT … RETURNING gives them ids: building ORM
    # objects and flushing them one by one cost more than all the dedup logic together.
    new_rows: list[SimpleNamespace] = []
    sightings: list[tuple[CleanPosting, Target]] = []

    for item in items:
        key = (item.source, item.external_id)
        sighting = existing.get(key)
        if sighting is not None:
            posting = loaded[sighting.posting_id]
            _apply(posting, item, now)
            if posting.status == "closed":
                _reopen(posting)
                result.reopened += 1
            sighting.last_seen_at = now
            sighting.url = item.url
            sighting.url_key = url_key(item.url)
            sighting.req_id = item.req_id
            sighting.status = "open"
            sighting.fingerprint = item.fingerprint
            result.updated += 1
            result.posting_ids[key] = posting.id  # type: ignore[assignment]
            continue

        dkey = dedup_key(item)
        target = find_duplicate(item, dkey, found)
        if isinstance(target, Light):
            # the whole row only for a merge target (the identity map keeps it one object)
            target = session.get_one(Posting, target.id)
        if target is None:
            target = SimpleNamespace(
                first_seen_at=now, last_seen_at=now, listed_at=now, status="open", closed_at=None
            )
            _apply(target, item, now)
            new_rows.append(target)
            # later items of this batch can be duplicates of this one too
            found.by_key.setdefault(dkey, []).append(target)
            result.new += 1
        else:
            if target.status == "closed":
                _reopen(target)
                result.reopened += 1
            target.last_seen_at = now
            _fill_gaps(target, item)
            result.merged += 1
        sightings.append((item, target))
        if item.req_id:
            found.by_req[(item.source, item.req_id)] = target
        if ukey := url_key(item.url):
            found.by_url[ukey] = target

    if new_rows:
        for row, pid in zip(new_rows, _new_ids(session, len(new_rows)), strict=True):
            row.id = pid
        insert_rows(session, _POSTINGS, [vars(row) for row in new_rows])
    if sightings:
        insert_rows(
            session,
            _SIGHTINGS,
            [
                {
                    "posting_id": target.id, "source": item.source, "external_id": item.external_id,
                    "url": item.url, "url_key": url_key(item.url), "req_id": item.req_id,
                    "first_seen_at": now, "last_seen_at": now, "status": "open",
                    "fingerprint": item.fingerprint,
                }
                for item, target in sightings
            ],
        )  # fmt: skip
        for item, target in sightings:
            result.posting_ids[(item.source, item.external_id)] = target.id
    session.flush()
    return result


Target = Any  # a loaded Posting, or a SimpleNamespace row about to be inserted


def _new_ids(session: Session, count: int) -> list[int]:
    """Ids for new postings, so one INSERT without RETURNING writes them all (RETURNING in
    parameter order costs SQLite one statement per row): PostgreSQL's sequence, or SQLite's next
    rowids. A concurrent SQLite writer without the write lock taking the same ids makes the
    INSERT fail, and the batch is read and written again (`_store_retrying`)."""
    if session.get_bind().dialect.name == "postgresql":
        query = text(
            "SELECT nextval(pg_get_serial_sequence('postings', 'id')) FROM generate_series(1, :n)"
        )
        return list(session.execute(query, {"n": count}).scalars())
    top = session.execute(select(func.max(col(Posting.id)))).scalar() or 0
    return list(range(top + 1, top + count + 1))


def _load_postings(session: Session, ids: Iterable[int]) -> dict[int, Posting]:
    ids = list(ids)
    if not ids:
        return {}
    return {p.id: p for p in session.execute(select(Posting).where(Posting.id.in_(ids))).scalars()}  # type: ignore[union-attr]


def _apply(posting: Target, item: CleanPosting, now: datetime) -> None:
    for name in _POSTING_FIELDS:
        setattr(posting, name, getattr(item, name))
    posting.company_key, posting.title_key, posting.place_key = dedup_key(item)
    posting.last_seen_at = now
    posting.listed_at = item.posted_at or posting.first_seen_at or now


def _fill_gaps(posting: Target, item: CleanPosting) -> None:
    """A second source of a known job adds what the first one lacked (salary, coordinates...)."""
    for name in _GAP_FIELDS:
        if getattr(posting, name) in (None, "", []) and getattr(item, name) not in (None, "", []):
            setattr(posting, name, getattr(item, name))
    if not posting.facts and item.facts:
        for name in _FACT_FIELDS:
            setattr(posting, name, getattr(item, name))
    if posting.attribution is None and item.attribution:
        posting.attribution = item.attribution


def _reopen(posting: Target) -> None:
    posting.status = "open"
    posting.closed_at = None


def close_postings(session: Session, posting_ids: Iterable[int], *, now: datetime) -> int:
    """Close postings (batched UPDATE); returns how many were open."""
    ids = list(posting_ids)
    total = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        res = session.execute(
            update(Posting)
            .where(col(Posting.id).in_(chunk), col(Posting.status) == "open")
            .values(status="closed", closed_at=now)
        )
        total += res.rowcount or 0  # type: ignore[attr-defined]  # DML returns a CursorResult
    return total


def close_expired(session: Session, *, now: datetime | None = None) -> int:
    """Close open postings whose `valid_through` has passed."""
    now = now or utcnow()
    res = session.execute(
        update(Posting)
        .where(
            col(Posting.status) == "open",
            Posting.valid_through.is_not(None),  # type: ignore[union-attr]
            Posting.valid_through < now,  # type: ignore[operator,arg-type]
        )
        .values(status="closed", closed_at=now)
    )
    return int(res.rowcount or 0)  # type: ignore[attr-defined]  # DML returns a CursorResult
