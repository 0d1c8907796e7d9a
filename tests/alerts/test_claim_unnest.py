"""`insert_ignore_many` without RETURNING is one INSERT … SELECT unnest(…) on PostgreSQL (an
executemany on SQLite): it must leave the same rows as inserting each row alone with
`insert_ignore`, the general path, including rows whose key exists already, keys repeated within
the batch, NULLs, long text and the order the rows were given in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

import db
from alerts.digests.rows import insert_ignore, insert_ignore_many
from alerts.models import Delivery
from tests.alerts.test_digests import add_search, job, store

KEYS = ["subscriber_id", "posting_id"]
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
_TABLE: Any = Delivery.__table__  # type: ignore[attr-defined]


def _rows(subscribers: list[int], postings: list[int]) -> list[dict[str, Any]]:
    rows = [
        {
            "subscriber_id": s,
            "posting_id": p,
            "digest_id": None,
            "rank": rank,
            "score": rank / 3,
            "why": f"manager in title · {'é' * rank} · {rank}",
            "created_at": T0 + timedelta(seconds=rank),
        }
        for rank, (s, p) in enumerate(((s, p) for s in subscribers for p in postings), 1)
    ]
    # A key given twice: the first one given wins on both paths.
    rows.append({**rows[0], "rank": 99, "why": "second"})
    return rows


def _table(engine: Engine) -> list[tuple[Any, ...]]:
    with db.session_scope(engine) as s:
        cols = [_TABLE.c[name] for name in ("id", "subscriber_id", "posting_id", "digest_id",
                                            "rank", "score", "why", "created_at")]  # fmt: skip
        return [tuple(r) for r in s.execute(select(*cols).order_by(_TABLE.c.id))]


def test_the_batch_insert_leaves_the_rows_row_by_row_inserts_leave(engine: Engine) -> None:
    subscribers = [add_search(engine, f"p{n}@example.com", query="manager")[0] for n in range(3)]
    postings = sorted(store(engine, *(job(n, f"Plant Manager {n}") for n in range(5))).values())
    rows = _rows(subscribers, postings)
    existing = [{**rows[3], "rank": 50, "why": "there before"}]

    results = []
    for one_by_one in (True, False):
        with db.session_scope(engine) as s:
            s.execute(delete(Delivery))
            insert_ignore_many(s, _TABLE, existing, KEYS)
            if one_by_one:
                for row in rows:
                    insert_ignore(s, _TABLE, row, KEYS)
            else:
                insert_ignore_many(s, _TABLE, rows, KEYS)
        got = _table(engine)
        first_id = got[0][0]
        results.append([(i - first_id, *rest) for i, *rest in got])  # ids as offsets
    assert results[0] == results[1]
    assert len(results[1]) == len(rows) - 1  # the key given twice went in once
    by_key = {(r[1], r[2]): r for r in results[1]}
    assert by_key[subscribers[0], postings[3]][6] == "there before"
    assert by_key[subscribers[0], postings[0]][6] != "second"
    assert [r[1:3] for r in results[1][1:]] == [
        (r["subscriber_id"], r["posting_id"]) for r in rows[:-1] if r is not rows[3]
    ]  # in the order given


def test_returning_gives_the_rows_inserted_and_only_those(engine: Engine) -> None:
    subscribers = [add_search(engine, f"p{n}@example.com", query="manager")[0] for n in range(2)]
    postings = sorted(store(engine, *(job(n, f"Plant Manager {n}") for n in range(3))).values())
    rows = _rows(subscribers, postings)
    returning = [_TABLE.c.subscriber_id, _TABLE.c.posting_id, _TABLE.c.id, _TABLE.c.created_at]
    with db.session_scope(engine) as s:
        s.execute(delete(Delivery))
        insert_ignore_many(s, _TABLE, [rows[2]], KEYS)
        got = insert_ignore_many(s, _TABLE, rows, KEYS, returning=returning)
    table = {(r[1], r[2]): (r[0], r[7]) for r in _table(engine)}
    # every row but the one there before and the key given twice, each with its id and its
    # time read back as the column gives it (aware UTC)
    assert sorted(got) == sorted((sub, post, *table[sub, post]) for sub, post in table
                                 if (sub, post) != (rows[2]["subscriber_id"], rows[2]["posting_id"]))  # fmt: skip
    assert len(got) == len(rows) - 2
    assert all(r[3].tzinfo is not None for r in got)
