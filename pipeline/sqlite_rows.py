"""`insert_rows`: many rows in one INSERT … VALUES statement on SQLite, converted as SQLAlchemy
would convert them (the store's new postings and sightings)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import lru_cache
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import JSON, Table, insert
from sqlmodel import Session

from db import UTCDateTime


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT the rows (dicts with the same keys): what `session.execute(insert(table), rows)`
    stores; on SQLite as multi-row VALUES statements, each row's values converted here by the
    columns' own bind processors.

    An executemany on SQLite runs one statement per row, each in a savepoint, where FTS5 writes
    what it holds as a new index segment: the full-text trigger of `postings` wrote a segment
    per posting and kept merging them. SQLAlchemy's per-row parameter handling cost as much again.
    """
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), rows)
        return
    plan = _values_plan(table, tuple(rows[0]), conn.dialect)
    driver = cast(sqlite3.Connection, conn.connection.driver_connection)
    limit = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    per_statement = max(1, min(_MAX_VALUES_ROWS, limit // plan.width))
    seen: dict[Any, Any] = {}
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        params: list[Any] = []
        for row in chunk:
            if len(row) != plan.width:
                raise ValueError(f"the rows to insert into {table.name} differ in their keys")
            params += plan.values(row, seen)
        conn.exec_driver_sql(plan.sql(len(chunk)), tuple(params))


# Rows per multi-row INSERT: a store batch (200 by default) is one statement. SQLite's limit on
# bound parameters (32,766 since 3.32) caps it further for wide tables.
_MAX_VALUES_ROWS = 1_000


class _ValuesPlan:
    """How `insert_rows` writes rows with one set of keys into one table on SQLite."""

    def __init__(self, table: Table, keys: tuple[str, ...], dialect: Any) -> None:
        by_key = {c.key: c for c in table.columns}
        if unknown := sorted(set(keys) - by_key.keys()):
            raise ValueError(f"{table.name} has no column {unknown}")
        columns = [by_key[key] for key in keys]
        processors = {c.key: c.type._cached_bind_processor(dialect) for c in columns}
        plain = [c for c in columns if processors[c.key] is None]
        converted = [c for c in columns if processors[c.key] is not None]
        self.width = len(columns)
        # plain values first, all taken by one itemgetter (it returns a bare value for one key)
        self._plain = itemgetter(*(c.key for c in plain)) if len(plain) > 1 else None
        self._plain_keys = [c.key for c in plain]
        self._converted: list[tuple[str, Callable[[Any], Any], object]] = [
            (c.key, cast(Callable[[Any], Any], processors[c.key]), _kind(c.type)) for c in converted
        ]
        quote = dialect.identifier_preparer.quote
        self._head = (
            f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
            f"({', '.join(quote(c.name) for c in [*plain, *converted])}) VALUES "
        )
        self._sql: dict[int, str] = {}

    def values(self, row: dict[str, Any], seen: dict[Any, Any]) -> list[Any]:
        """The row's parameters in the statement's column order, converted as SQLAlchemy would;
        `seen` keeps the conversions of a batch's repeated values."""
        if self._plain is not None:
            out = list(self._plain(row))
        else:
            out = [row[key] for key in self._plain_keys]
        for key, convert, kind in self._converted:
            value = row[key]
            memo: Any = None
            if kind is _INSTANT and value is not None:
                # a batch's rows share a few instants (its time, posted dates): a UTC column's
                # text depends on the instant only, and equal instants are equal dict keys
                memo = value
            elif kind is _JSON and type(value) is list and all(type(v) is str for v in value):
                # lists of words (skills, industries, shifts) repeat: equal lists of str are
                # the same JSON text
                memo = (key, *value)
            if memo is None:
                out.append(convert(value))
                continue
            text = seen.get(memo)
            if text is None:
                text = seen[memo] = convert(value)
            out.append(text)
        return out

    def sql(self, rows: int) -> str:
        sql = self._sql.get(rows)
        if sql is None:
            one = "(" + ", ".join("?" * self.width) + ")"
            sql = self._sql[rows] = self._head + ", ".join([one] * rows)
        return sql


_values_plan = lru_cache(maxsize=32)(_ValuesPlan)
# what `_ValuesPlan.values` may remember of a column's values: instants, lists of words, nothing
_INSTANT, _JSON, _OTHER = object(), object(), object()


def _kind(type_: Any) -> object:
    if isinstance(type_, UTCDateTime):
        return _INSTANT
    return _JSON if isinstance(type_, JSON) else _OTHER
