"""One scheduler per database: a PostgreSQL advisory lock, or a renewed row in `leases`.

A second `andon run` waits for the lead instead of sending digests twice; a crashed leader is
replaced within `LEASE_TTL` (SQLite) or as soon as its connection drops (PostgreSQL).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, or_, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from db import Lease, session_scope, utcnow

log = logging.getLogger("andon.scheduler")

Clock = Callable[[], datetime]

LEASE_NAME = "scheduler"
LEASE_TTL = timedelta(seconds=60)  # a crashed leader is replaced within a minute
RENEW_EVERY_S = LEASE_TTL.total_seconds() / 3
WAIT_POLL_S = 5.0
# pg_advisory_lock keys are per database: andon databases on one server do not collide
ADVISORY_KEY = int.from_bytes(hashlib.sha256(b"andon:scheduler").digest()[:8], "big", signed=True)


class Leadership(Protocol):
    """Who may run the schedule. `acquire` never blocks; `renew` says whether we still lead."""

    holder: str

    def acquire(self) -> bool: ...
    def renew(self) -> bool: ...
    def release(self) -> None: ...
    def current_leader(self) -> str | None: ...


def new_holder() -> str:
    """`host:pid:random`: who leads, and on which machine its crawl children run."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseLeadership:
    """A `leases` row: taken when absent or expired, renewed by its holder, deleted on release.

    Each step is one conditional statement, so two contenders cannot both win: the database
    serialises the writes and the second one's WHERE no longer matches.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        name: str = LEASE_NAME,
        ttl: timedelta = LEASE_TTL,
        clock: Clock = utcnow,
        holder: str | None = None,
    ) -> None:
        self.engine = engine
        self.name = name
        self.ttl = ttl
        self.clock = clock
        self.holder = holder or new_holder()

    def acquire(self) -> bool:
        now = self.clock()
        table = Lease.__table__  # type: ignore[attr-defined]
        dialect = self.engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        with self.engine.begin() as conn:
            res = conn.execute(
                insert(table)
                .values(name=self.name, holder=self.holder, expires_at=now + self.ttl)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            if res.rowcount == 1:
                return True
            res = conn.execute(
                update(table)
                .where(
                    table.c.name == self.name,
                    or_(table.c.holder == self.holder, table.c.expires_at < now),
                )
                .values(holder=self.holder, expires_at=now + self.ttl)
            )
            return res.rowcount == 1

    def renew(self) -> bool:
        table = Lease.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as conn:
            res = conn.execute(
                update(table)
                .where(table.c.name == self.name, table.c.holder == self.holder)
                .values(expires_at=self.clock() + self.ttl)
            )
        return res.rowcount == 1

    def release(self) -> None:
        table = Lease.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as conn:
            conn.execute(
                delete(table).where(table.c.name == self.name, table.c.holder == self.holder)
            )

    def current_leader(self) -> str | None:
        with session_scope(self.engine) as session:
            lease = session.get(Lease, self.name)
            if lease is None or lease.expires_at < self.clock():
                return None
            return f"{lease.holder}, lease until {lease.expires_at:%H:%M:%S} UTC"


class AdvisoryLockLeadership:
    """`pg_try_advisory_lock` on a connection kept open while we lead (PostgreSQL).

    The lock lives as long as the session: if the connection drops, PostgreSQL releases it and
    `renew` (a ping on that connection) tells us we no longer lead.
    """

    def __init__(self, engine: Engine, *, key: int = ADVISORY_KEY) -> None:
        self.engine = engine
        self.key = key
        self.holder = new_holder()
        self.conn: Connection | None = None

    def acquire(self) -> bool:
        if self.conn is not None:
            return True
        conn = self.engine.connect()
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
            conn.commit()  # a session-level lock outlives the transaction
        except BaseException:
            conn.close()
            raise
        if got:
            self.conn = conn
            return True
        conn.close()
        return False

    def renew(self) -> bool:
        if self.conn is None:
            return False
        try:
            self.conn.execute(text("SELECT 1"))
            self.conn.commit()
            return True
        except Exception:  # the connection is gone, and the lock with it
            log.exception("the leadership connection to PostgreSQL failed")
            self.conn = None
            return False

    def release(self) -> None:
        if self.conn is None:
            return
        try:
            self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            self.conn.commit()
        except Exception:
            log.warning("could not unlock the scheduler lock; closing its connection frees it")
        finally:
            self.conn.close()
            self.conn = None

    def current_leader(self) -> str | None:
        unsigned = self.key & 0xFFFFFFFFFFFFFFFF
        with self.engine.connect() as conn:
            pid = conn.execute(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND classid = :hi AND objid = :lo AND objsubid = 1"
                ),
                {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF},
            ).scalar()
        return None if pid is None else f"PostgreSQL backend {pid} holds the scheduler lock"


def leadership_for(engine: Engine, *, clock: Clock = utcnow) -> Leadership:
    if engine.dialect.name == "postgresql":
        return AdvisoryLockLeadership(engine)
    return LeaseLeadership(engine, clock=clock)


def wait_for_leadership(
    lead: Leadership, stop: threading.Event, *, poll_s: float = WAIT_POLL_S
) -> bool:
    """Block until we lead (True) or `stop` is set (False); says once that another one leads."""
    told = False
    while not stop.is_set():
        if lead.acquire():
            if told:
                log.info("the other scheduler is gone: this one leads now")
            return True
        if not told:
            log.info(
                "another scheduler leads on this database (%s); waiting to take over",
                lead.current_leader() or "its lease is ending",
            )
            told = True
        stop.wait(poll_s)
    return False
