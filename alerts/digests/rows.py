"""The few SQL statements the digest stages share: insert-if-absent, a digest update, "live"."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from psycopg import sql as psql
from sqlalchemy import and_, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from alerts.models import Digest
from pipeline.models import Posting


def insert_ignore(session: Session, table: Any, values: dict[str, Any], keys: list[str]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the new id, or None when the row existed.

    On PostgreSQL a concurrent insert of the same key waits for the other transaction and then
    does nothing; no exception poisons ours.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
    return session.execute(stmt.returning(table.c.id)).scalar_one_or_none()


def insert_ignore_many(
    session: Session,
    table: Any,
    rows: list[dict[str, Any]],
    keys: list[str],
    returning: list[Any] | None = None,
) -> list[tuple[Any, ...]]:
    """`insert_ignore` of many rows: of each row inserted, its `returning` columns.

    PostgreSQL takes the rows as one statement over arrays (`insert_columns`); the rows
    returned come in no particular order.
    """
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        columns = {name: [r[name] for r in rows] for name in rows[0]}
        return insert_columns(session, table, columns, keys, returning)
    # An executemany from one cached compilation (`.values(rows)` would compile a statement
    # each time). With RETURNING, SQLAlchemy batches the rows into multi-row INSERTs.
    stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=keys)
    if returning is None:
        session.execute(stmt, rows)
        return []
    return [tuple(r) for r in session.execute(stmt.returning(*returning), rows)]


def insert_columns(
    session: Session,
    table: Any,
    values_of: dict[str, list[Any]],
    keys: list[str],
    returning: list[Any] | None = None,
) -> list[tuple[Any, ...]]:
    """`insert_ignore_many` of rows given as one list per column (of equal lengths), the shape
    PostgreSQL's statement takes: no dict per row to build and take apart again.

    On PostgreSQL: INSERT … SELECT * FROM unnest(:a, :b, …) ON CONFLICT DO NOTHING, one statement,
    one array per column, however many rows (PostgreSQL unnests the arrays in lockstep, in array
    order, so rows go in the order given). A row-by-row executemany costs the server a statement
    per row: ~4,000 rows/s for the deliveries of a digest run, against tens of thousands here.

    The arrays go in binary (psycopg's `%b`), through the session's own connection and
    transaction: as text every element is quoted and escaped into an array literal, ~60 ms of
    CPU for a claim's 7,500 deliveries against ~14 ms. SQLAlchemy would send them as text, so
    the column types' bind and result processing (`UTCDateTime`'s) is applied here.
    """
    if session.get_bind().dialect.name != "postgresql":
        names = list(values_of)
        rows = [dict(zip(names, row, strict=True)) for row in zip(*values_of.values(), strict=True)]
        return insert_ignore_many(session, table, rows, keys, returning)
    if not values_of or not next(iter(values_of.values())):
        return []
    dialect = session.get_bind().dialect
    returning = returning or []
    columns = [table.c[name] for name in values_of]
    arrays = []
    for column in columns:
        values = values_of[column.name]
        process = column.type.bind_processor(dialect)
        if process is not None:
            values = _processed(values, process)
        arrays.append(values)
    statement = _unnest_statement(table, columns, keys, returning, dialect)
    driver = session.connection().connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        cursor.execute(statement, arrays)
        if not returning:
            return []
        got = cursor.fetchall()
    processors = [c.type.result_processor(dialect, None) for c in returning]
    return [
        tuple(v if p is None else p(v) for p, v in zip(processors, row, strict=True)) for row in got
    ]


def _unnest_statement(
    table: Any, columns: list[Any], keys: list[str], returning: list[Any], dialect: Any
) -> psql.Composed:
    """INSERT … SELECT * FROM unnest(%b::type[], …) ON CONFLICT (keys) DO NOTHING [RETURNING …]."""
    return psql.SQL(
        "INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) "
        "ON CONFLICT ({keys}) DO NOTHING{returning}"
    ).format(
        table=psql.Identifier(table.name),
        names=psql.SQL(", ").join(psql.Identifier(c.name) for c in columns),
        arrays=psql.SQL(", ").join(
            psql.SQL("%b::{}[]").format(psql.SQL(c.type.compile(dialect=dialect))) for c in columns
        ),
        keys=psql.SQL(", ").join(psql.Identifier(k) for k in keys),
        returning=psql.SQL(" RETURNING {}").format(
            psql.SQL(", ").join(psql.Identifier(c.name) for c in returning)
        )
        if returning
        else psql.SQL(""),
    )


def _processed(values: list[Any], process: Any) -> list[Any]:
    """Each value bound as its column binds it; a run of one object (a claim's moment, given
    for every row) is converted once. By identity: values need not be hashable."""
    out: list[Any] = []
    last: Any = out  # nothing given is this list
    done: Any = None
    for value in values:
        if value is not last:
            last, done = value, process(value)
        out.append(done)
    return out


def set_digest(session: Session, digest_id: int, **values: Any) -> None:
    """UPDATE one digest row (in the caller's transaction)."""
    session.execute(update(Digest).where(Digest.id == digest_id).values(**values))  # type: ignore[arg-type]


def live(at: datetime) -> Any:
    """Open and not expired at `at` (invariant 5)."""
    return and_(
        col(Posting.status) == "open",
        or_(col(Posting.valid_through).is_(None), col(Posting.valid_through) > at),
    )


class Lifetime(Protocol):
    """What `is_live` reads: a `Posting`, or a digest's stored job (`send_rows.StoredJob`)."""

    status: str
    valid_through: datetime | None


def is_live(posting: Lifetime, at: datetime | None) -> bool:
    """`live` for a loaded posting; with no `at` every posting counts (a stored digest as sent)."""
    if at is None:
        return True
    return posting.status == "open" and (
        posting.valid_through is None or posting.valid_through > at
    )
