"""Items the relevance stage dropped, remembered by fingerprint so a re-crawl need not judge them.

Most items of a broad search are not relevant. `dropped_items` keeps each one's raw-item
fingerprint (`pipeline.fingerprint`) and the reason it was dropped: `SkipUnchangedPipeline`
drops an item seen again with the same fingerprint for the same reason, before relevance. The
fingerprint is salted with the role profile and `PIPELINE_VERSION`, so a new profile or a new
pipeline judges every item again. Rows of items that a complete crawl no longer lists go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from db import id_in, session_scope
from pipeline.models import DroppedItem


@dataclass(frozen=True)
class Dropped:
    """A remembered drop: the fingerprint it was judged with and the reason."""

    row_id: int
    fingerprint: str
    reason: str


@dataclass(frozen=True)
class Drop:
    """An item the relevance stage dropped in this crawl, to be remembered."""

    source: str
    external_id: str
    fingerprint: str
    reason: str


def dropped_fingerprints(engine: Engine, source: str) -> dict[str, Dropped]:
    """The source's remembered drops by external id, in one query."""
    query = select(
        col(DroppedItem.external_id),
        col(DroppedItem.id),
        col(DroppedItem.fingerprint),
        col(DroppedItem.reason),
    ).where(col(DroppedItem.source) == source)
    with session_scope(engine) as session:
        return {ext: Dropped(rid, fp, reason) for ext, rid, fp, reason in session.execute(query)}


def remember_drops(session: Session, drops: Sequence[Drop], *, now: datetime) -> None:
    """Insert the drops, or replace the fingerprint and reason of an item dropped before."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    latest = {(d.source, d.external_id): d for d in drops}  # one row per item in a statement
    rows = [
        {"source": d.source, "external_id": d.external_id, "fingerprint": d.fingerprint,
         "reason": d.reason, "seen_at": now}
        for d in latest.values()
    ]  # fmt: skip
    if not rows:
        return
    stmt = insert(DroppedItem)
    upsert = stmt.on_conflict_do_update(
        index_elements=["source", "external_id"],
        set_={
            "fingerprint": stmt.excluded.fingerprint,
            "reason": stmt.excluded.reason,
            "seen_at": stmt.excluded.seen_at,
        },
    )
    # one cached statement, executemany: a multi-row VALUES is compiled anew for every batch
    # (2,500 bound parameters per 500 rows cost more than the database's work)
    session.execute(upsert, rows)


def touch_drops(session: Session, row_ids: Sequence[int], *, now: datetime) -> None:
    """Mark remembered drops seen again (dropped again unchanged) in this crawl: one UPDATE,
    the ids one parameter (`db.id_in`); on SQLite OR FAIL, as `touch_unchanged` (no statement
    journal: no constraint can fail, and a failure fails the store's transaction)."""
    ids = sorted(set(row_ids))
    if not ids:
        return
    session.execute(
        update(DroppedItem)
        .where(id_in(col(DroppedItem.id), ids, session))
        .values(seen_at=now)
        .prefix_with("OR FAIL", dialect="sqlite")
        .execution_options(synchronize_session=False)
    )


def forget_unseen_drops(session: Session, source: str, *, since: datetime) -> int:
    """After a complete crawl: forget the source's drops it did not list (not seen since)."""
    result = session.execute(
        delete(DroppedItem).where(
            col(DroppedItem.source) == source, col(DroppedItem.seen_at) < since
        )
    )
    return result.rowcount or 0  # type: ignore[attr-defined]  # DML returns a CursorResult
