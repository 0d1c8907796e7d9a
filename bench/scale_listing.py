"""`bench scale`'s listing search: /api/jobs per common query shape, with and without indexes.

Each shape is asked through the web app in this process (FastAPI's TestClient: routing,
validation, the SQL, the listing contract's JSON) with varied values, for p50 and p95. The
query's own SQL time is measured with the listing indexes of migration 0011 and, in a
transaction that drops them and rolls back, without them (the baseline); `EXPLAIN ANALYZE` of
each shape goes into the notes.
"""

from __future__ import annotations

import importlib.util
import random
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from starlette.exceptions import StarletteDeprecationWarning

from bench.scale_data import connect
from config import Settings
from db import make_engine
from pipeline.models import Posting
from search.query import parse_query
from search.sql import PG_SEARCH_SETTINGS, build_filters, where_clauses
from web.app import create_app

PLACES = ["Detroit, MI", "Chicago, IL", "Wichita, KS", "Greenville, SC", "Cork, Ireland"]
QUERIES = ["production manager", '"plant manager"', "supervisor haccp", "title:director", "lean"]
SENIORITY = ["supervisor", "manager", "director", "executive"]
# shape name -> a function of a random generator giving one request's parameters
SHAPES: dict[str, Any] = {
    "newest": lambda r: {},
    "query": lambda r: {"q": r.choice(QUERIES)},
    "place_radius": lambda r: {"location": r.choice(PLACES), "within": r.choice([25, 50, 100])},
    "workplace": lambda r: {"workplace": r.choice(["remote", "hybrid"])},
    "min_salary": lambda r: {"min_salary": r.choice([90_000, 120_000, 180_000])},
    "seniority": lambda r: {"seniority": r.choice(SENIORITY)},
    "since": lambda r: {"since": r.choice(["1d", "7d", "30d"])},
    "combined": lambda r: {
        "q": r.choice(QUERIES),
        "location": r.choice(PLACES),
        "within": 50,
        "min_salary": 90_000,
        "seniority": r.choice(SENIORITY),
        "since": "30d",
    },
}
with warnings.catch_warnings():
    # Starlette asks for httpx2 under its TestClient; the project pins httpx (as tests/web do)
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

_MIGRATION = Path(__file__).resolve().parents[1] / "migrations/versions/0011_listing_indexes.py"


def _new_indexes() -> dict[str, str]:
    spec = importlib.util.spec_from_file_location("listing_indexes", _MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.INDEXES)


def _sql(params: dict[str, Any]) -> str:
    """The SQL `search_postings` runs for these parameters, with literal values."""
    filters = build_filters(
        location=params.get("location"),
        within=params.get("within"),
        workplaces=[params["workplace"]] if "workplace" in params else (),
        min_salary=params.get("min_salary"),
        seniorities=[params["seniority"]] if "seniority" in params else (),
        since=params.get("since"),
    )
    from sqlalchemy import select

    stmt = (
        select(Posting)
        .where(*where_clauses(parse_query(params.get("q")), filters, "postgresql"))
        .order_by(Posting.listed_at.desc(), Posting.id.desc())  # type: ignore[attr-defined]
        .limit(50)
    )
    return str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def _explain(conn: Any, sql: str) -> tuple[float, list[str]]:
    rows = [r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS OFF) " + sql).fetchall()]
    ms = next(float(r.split(":")[1].split()[0]) for r in rows if r.startswith("Execution Time"))
    return ms / 1000, rows


def _sql_times(
    url: str, sqls: list[str], drop: bool, rounds: int
) -> tuple[list[float], list[list[str]]]:
    """Median SQL time of each statement over `rounds`, and the last plan of each."""
    with connect(url) as conn:
        conn.execute(f"SELECT {', '.join(PG_SEARCH_SETTINGS)}")  # as the app's searches run
        if drop:  # inside this transaction only: rolled back below
            for name in _new_indexes():
                conn.execute(f"DROP INDEX {name}")
        times: list[list[float]] = [[] for _ in sqls]
        plans: list[list[str]] = [[] for _ in sqls]
        for _ in range(rounds):
            for i, sql in enumerate(sqls):
                seconds, plans[i] = _explain(conn, sql)
                times[i].append(seconds)
        conn.rollback()
    return [statistics.median(t) for t in times], plans


def _http(client: TestClient, params: dict[str, Any]) -> float:
    start = time.perf_counter()
    response = client.get("/api/jobs", params=params)
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"/api/jobs {params}: {response.status_code} {response.text[:300]}")
    return elapsed


def measure(url: str, settings: Settings, requests: int, rounds: int) -> list[dict[str, Any]]:
    """One result per shape: HTTP p50/p95, SQL time with and without the indexes, the plan."""
    engine = make_engine(url)
    rng = random.Random(7)
    out = []
    try:
        client = TestClient(create_app(settings, engine))
        samples = {name: [make(rng) for _ in range(requests)] for name, make in SHAPES.items()}
        with client:
            for params in samples["combined"][:3]:
                _http(client, params)  # warm: templates, gazetteer, connection pool
            http = {name: sorted(_http(client, p) for p in ps) for name, ps in samples.items()}
        sqls = [_sql(ps[0]) for ps in samples.values()]
        ours, plans = _sql_times(url, sqls, drop=False, rounds=rounds)
        base, _ = _sql_times(url, sqls, drop=True, rounds=rounds)
        with engine.connect() as conn:
            open_count = conn.execute(text("SELECT count(*) FROM postings WHERE status='open'"))
            opened = open_count.scalar_one()
        for (name, times), o, b, plan, ps in zip(
            http.items(), ours, base, plans, samples.values(), strict=True
        ):
            out.append(
                {
                    "shape": name,
                    "example": ps[0],
                    "http_p50_ms": round(_pct(times, 50) * 1000, 1),
                    "http_p95_ms": round(_pct(times, 95) * 1000, 1),
                    "requests": len(times),
                    "sql_s": o,
                    "sql_without_new_indexes_s": b,
                    "explain": plan,
                    "open_postings": opened,
                }
            )
    finally:
        engine.dispose()
    return out


def _pct(sorted_times: list[float], p: int) -> float:
    return sorted_times[min(len(sorted_times) - 1, round(p / 100 * (len(sorted_times) - 1)))]
