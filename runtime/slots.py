"""What runs where: one row per crawl in flight, kept in the `leases` table as `crawl:<source>`.

The leader writes a slot when it starts a crawl (its own holder id, the host, the child's process
group and a random token in the child's environment, or the Scrapyd node and job) and deletes it
when the crawl has ended. A slot left by a leader that died tells the next leader what to end
(`runtime.orphans`), and `andon status` what each node runs. The `leases` table already holds
named, expiring rows; a slot's expiry is the crawl's time limit.
"""

from __future__ import annotations

import json
import socket
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from db import Lease, utcnow

PREFIX = "crawl:"
HOST = socket.gethostname()


@dataclass
class Slot:
    """One crawl in flight, as the leader that started it recorded it."""

    source: str
    leader: str  # the holder id of the leader that started it (`host:pid:random`)
    started: str  # ISO time
    host: str | None = None  # a local child: its machine, process group and token
    pgid: int | None = None
    token: str | None = None
    node: str | None = None  # a Scrapyd job: its node's URL and job id
    job: str | None = None

    def started_at(self) -> datetime:
        return datetime.fromisoformat(self.started)


def claim(engine: Engine, slot: Slot, *, expires_at: datetime) -> None:
    """Write (or overwrite) the source's slot."""
    table = Lease.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    values = {"name": PREFIX + slot.source, "holder": _dump(slot), "expires_at": expires_at}
    with engine.begin() as conn:
        conn.execute(
            insert(table)
            .values(**values)
            .on_conflict_do_update(index_elements=["name"], set_=values)
        )


def release(engine: Engine, source: str, *, leader: str | None = None) -> None:
    """Delete the source's slot (only if `leader` wrote it, when given)."""
    table = Lease.__table__  # type: ignore[attr-defined]
    name = PREFIX + source
    with engine.begin() as conn:
        holder = conn.execute(select(table.c.holder).where(table.c.name == name)).scalar()
        slot = _load(holder) if holder is not None else None
        if holder is not None and (leader is None or slot is None or slot.leader == leader):
            conn.execute(delete(table).where(table.c.name == name, table.c.holder == holder))


def all_slots(engine: Engine) -> list[tuple[Slot, datetime]]:
    """Every slot with its expiry, oldest first."""
    table = Lease.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(
            select(table.c.holder, table.c.expires_at).where(table.c.name.like(PREFIX + "%"))
        ).all()
    out = [(slot, _aware(expires)) for holder, expires in rows if (slot := _load(holder))]
    return sorted(out, key=lambda pair: pair[0].started)


def busy_sources(engine: Engine) -> set[str]:
    """Sources with a crawl in flight that has not outlived its time limit."""
    now = utcnow()
    return {slot.source for slot, expires in all_slots(engine) if expires > now}


def _dump(slot: Slot) -> str:
    return json.dumps({k: v for k, v in asdict(slot).items() if v is not None}, sort_keys=True)


def _load(holder: str) -> Slot | None:
    try:
        return Slot(**json.loads(holder))
    except (ValueError, TypeError):  # not a slot of ours
        return None


def _aware(value: datetime | str) -> datetime:
    from datetime import UTC

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
