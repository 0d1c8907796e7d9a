"""Engine and session factory for SQLite and PostgreSQL, and the column types both share.

The bottom layer: it imports no package of andon. Each package's `models` module declares its
tables on the one `SQLModel.metadata`; whoever needs all of them (Alembic's `migrations/env.py`)
imports those modules. SQL functions a package needs it registers itself (`search.geo`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ARRAY, JSON, DateTime, Integer, String, any_, bindparam, event, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, Session, SQLModel, create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both engines (SQLite stores naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# json.dumps(obj, ensure_ascii=False) without a new encoder per value (five JSON columns a row)
_JSON_ENCODE = json.JSONEncoder(ensure_ascii=False).encode

# JSON everywhere, JSONB on PostgreSQL (GIN-indexable containment for skills and industries).
JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout for concurrent writers."""
    sa_url = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if sa_url.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    else:
        kwargs["connect_args"] = {"connect_timeout": 10}
        if sa_url.get_backend_name() == "postgresql" and sa_url.drivername == "postgresql":
            sa_url = sa_url.set(drivername="postgresql+psycopg")
    kwargs["json_serializer"] = _JSON_ENCODE
    engine = create_engine(sa_url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        _ping_when_idle(engine)
    return engine


# A server connection back in the pool for less than this is handed out without a ping.
# `pool_pre_ping` pinged at every checkout: a round trip per transaction, two per digest sent
# (the take and the provider's answer), each a few milliseconds apart. A connection idle longer
# (a restarted server, a proxy's idle timeout) is pinged and replaced as pre-ping did.
PING_AFTER_IDLE_S = 1.0
_IDLE_SINCE = "andon_idle_since"


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pessimistic disconnect handling (its checkout-event recipe), skipped for a
    connection checked in less than `PING_AFTER_IDLE_S` ago or just opened."""
    dialect = engine.dialect

    def stamp(_dbapi_conn: Any, record: Any, *_: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle = time.monotonic() - record.info.get(_IDLE_SINCE, float("-inf"))
        if idle < PING_AFTER_IDLE_S:
            return
        try:
            dialect.do_ping(dbapi_conn)
        except dialect.loaded_dbapi.Error as exc:
            # The pool drops this connection and checks out a fresh one (once more).
            raise DisconnectionError(f"ping failed: {exc}") from exc

    event.listen(engine, "connect", stamp)
    event.listen(engine, "checkin", stamp)
    event.listen(engine, "checkout", checkout)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session that commits on success and rolls back on error.

    `write=True` takes SQLite's write lock up front (BEGIN IMMEDIATE): two writers that both
    read first and write later would otherwise deadlock on the lock upgrade, and SQLite answers
    that with "database is locked" at once instead of waiting out the busy timeout.
    """
    with Session(engine, expire_on_commit=False) as session:
        if write and engine.dialect.name == "sqlite":
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


class Lease(SQLModel, table=True):
    """A named, expiring lease row: how one scheduler leads on databases without advisory locks."""

    __tablename__ = "leases"

    name: str = Field(primary_key=True)
    holder: str
    expires_at: datetime = Field(sa_type=UTCDateTime)


class DatabaseError(RuntimeError):
    """A database problem a user can act on, with a one-line message."""


def _alembic_config(connection: Any = None) -> Any:
    from alembic.config import Config

    cfg = Config(str(MIGRATIONS_DIR.parent / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with _connect(engine) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> tuple[str | None, str]:
    """Apply every migration not yet applied; returns (revision before, revision after)."""
    from alembic import command

    before = current_revision(engine)
    with _connect(engine) as conn:
        command.upgrade(_alembic_config(conn), "head")
        conn.commit()
    return before, head_revision()


def ensure_current(engine: Engine) -> None:
    """Refuse to work on a database that `andon init` has not set up or upgraded."""
    database = engine.url.database
    sqlite_file = engine.dialect.name == "sqlite" and database not in (None, "", ":memory:")
    if (
        sqlite_file and database and not Path(database).exists()
    ):  # connecting would create an empty file
        raise DatabaseError(
            f"there is no database at {safe_url(engine)}: run `andon init` to create it"
        )
    current = current_revision(engine)
    if current is None:
        raise DatabaseError(f"the database at {safe_url(engine)} is not set up: run `andon init`")
    if current != head_revision():
        raise DatabaseError(
            f"the database at {safe_url(engine)} is at revision {current}, this andon needs "
            f"{head_revision()}: run `andon init` to upgrade it"
        )


def safe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


@contextmanager
def _connect(engine: Engine) -> Iterator[Any]:
    from sqlalchemy.exc import OperationalError

    try:
        conn = engine.connect()
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(f"cannot reach the database at {safe_url(engine)}: {reason}") from None
    with conn:
        yield conn


def id_in(column: Any, ids: Sequence[int], session: Session) -> Any:
    """`column IN ids` with the ids as one parameter, not one each (SQLAlchemy renders and binds
    thousands of those per statement, and psycopg parses each placeholder again: ~0.7 s for two
    statements of 2,000 ids): an array on PostgreSQL, a JSON array on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    values = func.json_each(bindparam(None, json.dumps(list(ids)), type_=String))
    return column.in_(select(values.table_valued("value").c.value))
