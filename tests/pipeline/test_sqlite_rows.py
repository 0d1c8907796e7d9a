"""`sqlite_rows.insert_rows` stores on SQLite what SQLAlchemy's executemany of the Core INSERT stores:
the same values of the same SQLite types in every column, and the same full-text index."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlmodel import Session

import db
from pipeline import sqlite_rows, store
from pipeline.sqlite_rows import insert_rows
from pipeline.store import store_batch
from tests.factories import T0, posting

WORDS = ["mix", "line", "shift", "Über", "ÉQUIPE", "oven", "crew", "safety", "ﬁll", "ops"]


def _batches(seed: int) -> list[list[Any]]:
    """Postings with odd values: ints in float columns, None, non-UTC offsets, JSON of all kinds,
    equal texts (merges) and repeats of a sighting within a batch."""
    rng = random.Random(seed)
    eastern = timezone(timedelta(hours=-5))
    batches = []
    for _batch in range(3):
        batch = []
        for _item in range(rng.randint(5, 40)):
            n = rng.randrange(30)
            words = [rng.choice(WORDS) for _ in range(rng.randint(0, 50))]
            posted = rng.choice([None, T0, datetime(2026, 11, 18, 8, tzinfo=eastern)])
            batch.append(
                posting(
                    external_id=f"ext-{n}",
                    url=f"https://boards.example.com/jobs/{n}",
                    title=rng.choice(["Production Manager", "Plant Manager", "Leiter Über"]),
                    city=rng.choice(["Toledo", "Dayton", None]),
                    latitude=rng.choice([None, 41, 41.6528, -0.0]),
                    salary_min=rng.choice([None, 95000, 95000.5]),
                    industries=rng.sample(WORDS, rng.randint(0, 3)),
                    facts=rng.choice([{}, {"shift": {"value": "2nd", "quote": "Über „x“"}}]),
                    shifts=rng.choice([[], ["2nd", "3rd"]]),
                    team_size=rng.choice([None, 0, 120]),
                    posted_at=posted,
                    posted_or_earlier=rng.random() < 0.3,
                    valid_through=rng.choice([None, T0 + timedelta(days=30)]),
                    req_id=rng.choice([None, f"R{n}"]),
                    attribution=rng.choice([None, "via Example"]),
                    description_text=" ".join(words),
                    fingerprint=rng.choice([None, f"{n:032x}"]),
                )
            )
        batches.append(batch)
    return batches


def _plain_insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    session.execute(insert(table), rows)


def _dump(engine: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every column of the written tables with its SQLite type, and full-text hits."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in ("postings", "posting_sources"):
            names = [r[1] for r in conn.exec_driver_sql(f"PRAGMA table_info({table})")]
            typed = ", ".join(f'"{n}", typeof("{n}")' for n in names)
            query = f"SELECT {typed} FROM {table} ORDER BY id"
            out[table] = [tuple(r) for r in conn.exec_driver_sql(query)]
        hits = []
        for word in [*WORDS, "uber", "equipe", "manager", "leiter"]:
            match = text("SELECT rowid FROM posting_fts WHERE posting_fts MATCH :w ORDER BY rowid")
            hits.append((word, [r[0] for r in conn.execute(match, {"w": word})]))
        out["fts"] = hits
        check = "INSERT INTO posting_fts(posting_fts) VALUES ('integrity-check')"
        conn.exec_driver_sql(check)
    return out


def _store_all(url: str, seed: int) -> dict[str, list[tuple[Any, ...]]]:
    engine = db.make_engine(url)
    db.migrate(engine)
    for k, batch in enumerate(_batches(seed)):
        with db.session_scope(engine, write=True) as session:
            store_batch(session, batch, now=T0 + timedelta(minutes=k, microseconds=k))
    dump = _dump(engine)
    engine.dispose()
    return dump


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("rows_per_statement", [1_000, 7, 1])
def test_multi_row_inserts_store_what_the_core_executemany_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, rows_per_statement: int
) -> None:
    monkeypatch.setattr(sqlite_rows, "_MAX_VALUES_ROWS", rows_per_statement)
    fast = _store_all(f"sqlite:///{tmp_path}/fast.db", seed)
    monkeypatch.setattr(store, "insert_rows", _plain_insert)
    plain = _store_all(f"sqlite:///{tmp_path}/plain.db", seed)
    assert fast == plain
    assert len(fast["postings"]) > 5
    types = {row[i] for row in fast["postings"] for i in range(1, len(row), 2)}
    assert {"integer", "real", "text", "null"} <= types


def test_rows_of_other_keys_or_unknown_columns_are_refused(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path}/a.db")
    db.migrate(engine)
    table = store._SIGHTINGS
    row = {"posting_id": 1, "source": "s", "external_id": "e", "first_seen_at": T0}
    with Session(engine) as session:
        with pytest.raises(ValueError, match="differ in their keys"):
            insert_rows(session, table, [row, {**row, "url": "https://x.example"}])
        with pytest.raises(ValueError, match="no column"):
            insert_rows(session, table, [{**row, "nope": 1}])
    with Session(engine) as session, pytest.raises(ValueError, match="naive"):
        insert_rows(session, table, [{**row, "first_seen_at": datetime(2026, 1, 1)}])
    engine.dispose()
