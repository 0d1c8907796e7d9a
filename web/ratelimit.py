"""Fixed-window rate limits counted in the database (work across restarts and web workers)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from db import utcnow
from web.models import RateLimitCounter

# Subscribe attempts: a person retrying a typo stays well inside these; a script does not.
SUBSCRIBE_PER_ADDRESS = 5
SUBSCRIBE_PER_IP = 20
WINDOW = timedelta(hours=1)


def address_key(kind: str, address: str) -> str:
    """A key for an email address without storing the address itself (it may never confirm)."""
    digest = hashlib.sha256(address.casefold().encode()).hexdigest()[:32]
    return f"{kind}:addr:{digest}"


def window_start(now: datetime, window: timedelta = WINDOW) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


def hit(
    session: Session, key: str, *, now: datetime | None = None, window: timedelta = WINDOW
) -> int:
    """Count one hit for `key` in the current window and return the window's count so far.

    One INSERT … ON CONFLICT DO UPDATE … RETURNING on both engines: two workers counting at
    the same moment both see their own increment, never a lost update.
    """
    now = now or utcnow()
    start = window_start(now, window)
    table = RateLimitCounter.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(table).values(key=key, window_start=start, count=1)
    upsert = stmt.on_conflict_do_update(
        index_elements=["key", "window_start"], set_={"count": table.c.count + 1}
    ).returning(table.c.count)
    count = int(session.execute(upsert).scalar_one())
    # Old windows are useless; dropping them here keeps the table a few rows per active key.
    session.execute(delete(table).where(table.c.window_start < start - window))
    return count


def over(session: Session, key: str, limit: int, *, now: datetime | None = None) -> bool:
    """Count a hit and say whether `key` has now gone past `limit` in this window."""
    return hit(session, key, now=now) > limit
