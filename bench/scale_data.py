"""Generated data for `bench scale`: a PostgreSQL database of its own, filled with COPY.

Postings come from `bench.matching`'s realistic generator: the day's new postings are each
generated, the older ones reuse a pool of generated descriptions (generating a million would
take minutes) with their own place, dates, status and salary. The schema is production's as migrated: COPY
goes into the real `postings` table, whose generated search vector PostgreSQL computes row by
row; only the non-unique indexes are dropped for the load and built after it, and the postings
go in as two COPY streams at once (one per core). The search vector is most of the COPY's
cost: ~50 us of server CPU a row (to_tsvector of the description ~40), against ~12 us for
Python to make the line (50 before its pools were pre-escaped). Subscribers and saved searches
use the matching bench's query and filter mix; every daily search is due at the bench's moment
`at` (its timezone and local hour are chosen so), weekly ones fall on other weekdays.
"""

from __future__ import annotations

import random
import time
from bisect import bisect
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any
from uuid import uuid4

import psycopg
from sqlalchemy.engine import make_url

from alerts import cadence as cad
from bench.matching import CITIES, _filters, _query_text, make_postings
from bench.scale_copy import copy_lines as _copy
from bench.scale_copy import field as _f
from db import make_engine, migrate
from search.posting import PostingDoc

DAY_NEW = 10_000  # postings first seen in the day before `at`
HISTORY_DAYS = 100  # older postings: DAY_NEW a day before that
OPEN_DAYS = 35  # a posting stays open about this long
POOL = 4_000  # generated descriptions the older postings reuse
STREAMS = 2  # concurrent COPY streams of postings (this machine has two cores)
SEED = 20261130
# IANA zones and their share of subscribers; each search's hour is its zone's local hour at `at`
ZONES = [
    ("America/New_York", 30), ("America/Chicago", 30), ("America/Denver", 6),
    ("America/Los_Angeles", 12), ("Europe/Berlin", 8), ("Europe/London", 6), ("UTC", 8),
]  # fmt: skip


@dataclass(frozen=True)
class Size:
    postings: int
    subscribers: int
    searches: int
    day_new: int = DAY_NEW


def pg_url(base: str, name: str) -> str:
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def _plain(url: str) -> str:
    """A libpq URL (no SQLAlchemy driver suffix) for psycopg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(admin_url: str) -> str:
    """A fresh database next to `admin_url`'s, migrated to head; its URL."""
    name = f"andon_scale_{uuid4().hex[:10]}"
    with psycopg.connect(_plain(admin_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        # This VM's disk takes ~10 ms per fsync: a commit per claimed search would measure the
        # disk, not andon. Only this database; a crash may lose the last ~0.2 s of commits.
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    url = pg_url(admin_url, name)
    engine = make_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    return url


def drop_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(_plain(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def connect(url: str, **kw: Any) -> psycopg.Connection[Any]:
    return psycopg.connect(_plain(url), **kw)


# --- postings -------------------------------------------------------------------------------------

POSTING_COLS = (
    "id, title, company, url, location_text, city, region, country, latitude, longitude, "
    "workplace, employment_type, salary_min, salary_max, salary_currency, salary_period, "
    "annual_min_usd, annual_max_usd, seniority, industries, skills, description_text, "
    "description_html, posted_or_earlier, listed_at, first_seen_at, last_seen_at, status, "
    "closed_at, company_key, title_key, place_key"
)
SOURCE_COLS = "posting_id, source, external_id, url, url_key, first_seen_at, last_seen_at, status"


Static = tuple[str, str, str]  # a pool posting's title, company, workplace..posted_or_earlier


def _static(doc: PostingDoc) -> Static:
    """The fields of a pool posting that its copies share, already escaped."""
    has_pay = doc.annual_min_usd is not None
    fields = [
        doc.workplace, doc.employment_type,
        doc.annual_min_usd, doc.annual_max_usd, "USD" if has_pay else None,
        "year" if has_pay else None, doc.annual_min_usd, doc.annual_max_usd, doc.seniority,
        list(doc.industries), list(doc.skills), doc.description, "", False,
    ]  # fmt: skip
    return _f(doc.title), _f(doc.company), "\t".join(_f(v) for v in fields)


# Each town's fields as COPY text (location text to country), its centre and its place key.
_TOWNS = [
    ("\t".join(_f(v) for v in (f"{c}, {r[3:]}", c, r, n)), lat, lon, _f(f"{c}|{r}".lower()))
    for c, r, n, lat, lon, _ in CITIES
]
_TOWN_CUM = list(accumulate(town[-1] for town in CITIES))
_TOWN_TOTAL = _TOWN_CUM[-1] + 0.0  # as random.choices weighs them


def _posting_line(
    pid: int, static: Static, rng: random.Random, seen: datetime, at: datetime
) -> str:
    """One COPY line: a pool posting's shared fields with this copy's place, dates and status.

    The draws are `_weighted(rng, CITIES)`'s and `_f`'s text, without their per-row overhead
    (tests/search/test_listing_bench_data.py checks the lines against `_f` field by field).
    """
    town, lat, lon, place_key = _TOWNS[bisect(_TOWN_CUM, rng.random() * _TOWN_TOTAL)]
    if rng.random() < 0.9:  # a plant somewhere around the town, not all on one point
        coords = f"{lat + rng.uniform(-0.4, 0.4)}\t{lon + rng.uniform(-0.4, 0.4)}"
    else:
        coords = "\\N\t\\N"
    seen_s = seen.isoformat()
    if seen > at - timedelta(days=OPEN_DAYS) or rng.random() < 0.1:
        last, closed = (at - timedelta(hours=rng.randrange(1, 12))).isoformat(), "open\t\\N"
    else:
        last = (seen + timedelta(7)).isoformat()
        closed = f"closed\t{last}"
    title, company, rest = static
    return (
        f"{pid}\t{title}\t{company}\thttps://jobs.example.com/{pid}\t{town}\t{coords}\t{rest}\t"
        f"{seen_s}\t{seen_s}\t{last}\t{closed}\tcompany{pid % 997}\ttitle{pid % 1009}\t"
        f"{place_key}\n"
    )


def _posting_streams(size: Size, at: datetime) -> list[Iterator[str]]:
    """The COPY lines of every posting, dealt by id into STREAMS interleaved streams."""
    old = size.postings - size.day_new
    pool = [_static(d) for d in make_postings(random.Random(SEED), min(POOL, max(old, 1)))]
    fresh = make_postings(random.Random(SEED + 1), size.day_new, first_id=old + 1)
    news = [(d.id, _static(d)) for d in fresh]
    return [_lines(pool, news, old, at, k) for k in range(STREAMS)]


def _lines(
    pool: list[Static], news: list[tuple[int, Static]], old: int, at: datetime, stream: int
) -> Iterator[str]:
    rng = random.Random(SEED + 10 + stream)
    span = timedelta(days=HISTORY_DAYS).total_seconds()
    day_start = at - timedelta(days=1)
    for pid in range(1 + stream, old + 1, STREAMS):
        seen = day_start - timedelta(seconds=span * (old - pid) / max(old, 1) + 1)
        yield _posting_line(pid, pool[rng.randrange(len(pool))], rng, seen, at)
    for n in range(stream, len(news), STREAMS):
        seen = day_start + timedelta(seconds=86_400 * (n + 1) / (len(news) + 1))
        yield _posting_line(news[n][0], news[n][1], rng, seen, at)


def _source_lines(size: Size) -> Iterator[str]:
    for pid in range(1, size.postings + 1):
        url = f"https://jobs.example.com/{pid}"
        yield f"{pid}\tboard{pid % 400}\text:{pid}\t{url}\t{url}\t2026-01-01T00:00:00+00:00\t2026-01-01T00:00:00+00:00\topen\n"


# --- subscribers and saved searches -------------------------------------------------------------


def _local_hour(zone: str, at: datetime) -> int:
    return at.astimezone(cad.zone(zone)).hour


def zone_of(subscriber_id: int) -> str:
    """The subscriber's timezone, by the weights of ZONES (its searches use it too)."""
    return _ZONE_SLOTS[(subscriber_id * 37) % len(_ZONE_SLOTS)]


_ZONE_SLOTS = [zone for zone, weight in ZONES for _ in range(weight)]


def _subscriber_lines(size: Size, at: datetime, rng: random.Random) -> Iterator[str]:
    for sid in range(1, size.subscribers + 1):
        roll = rng.random()
        status = "active" if roll < 0.9 else "pending" if roll < 0.94 else "unsubscribed"
        created = at - timedelta(days=rng.randrange(30, 400))
        confirmed = created + timedelta(minutes=5) if status != "pending" else None
        fields = [sid, f"subscriber{sid}@example.com", None, status, zone_of(sid), created]
        yield "\t".join(_f(v) for v in [*fields, confirmed]) + "\tbench\n"


def _search_row(rng: random.Random, zone: str, at: datetime) -> list[Any]:
    filter_only = rng.random() < 0.2
    query = "" if filter_only else _query_text(rng)
    f = _filters(rng, filter_only)
    p = f.place
    place = [None] * 7 if p is None else [
        p.text, p.within_miles, p.city, p.region, p.country, p.latitude, p.longitude,
    ]  # fmt: skip
    hour = _local_hour(zone, at)
    weekly = rng.random() < 0.15
    # Weekly searches fall on another weekday: the bench measures one day's daily cycle.
    local_day = at.astimezone(cad.zone(zone)).weekday()
    weekday = (local_day + rng.randrange(1, 7)) % 7 if weekly else 0
    kw: dict[str, Any] = {
        "cadence": "weekly" if weekly else "daily",
        "hour": hour,
        "weekday": weekday,
    }
    due = cad.next_due(**kw, timezone=zone, after=at - timedelta(days=1))
    last = due - timedelta(days=7 if weekly else 1)
    return [
        (query or "all jobs")[:80], query, *place,
        sorted(f.workplaces), f.min_salary_usd, f.salary_required, sorted(f.seniorities),
        sorted(f.industries), sorted(f.skills), sorted(f.employment_types),
        sorted(f.exclude_companies), kw["cadence"], hour, weekday, zone,
        rng.random() >= 0.05, at - timedelta(days=60), at - timedelta(days=60), last, due,
    ]  # fmt: skip


SEARCH_COLS = (
    "subscriber_id, name, query, location, within_miles, place_city, place_region, "
    "place_country, place_latitude, place_longitude, workplaces, min_salary_usd, "
    "salary_required, seniorities, industries, skills, employment_types, exclude_companies, "
    "cadence, send_hour, weekday, timezone, active, created_at, updated_at, last_digest_at, "
    "next_due_at"
)


def _search_lines(size: Size, at: datetime, rng: random.Random) -> Iterator[str]:
    # every subscriber has one search; the rest go to random subscribers (some have several)
    owners = list(range(1, size.subscribers + 1))
    owners += [rng.randrange(1, size.subscribers + 1) for _ in range(size.searches - len(owners))]
    owners.sort()
    for sub in owners:
        yield "\t".join(_f(v) for v in [sub, *_search_row(rng, zone_of(sub), at)]) + "\n"


# --- loading --------------------------------------------------------------------------------------


def _postings_indexes(conn: psycopg.Connection[Any]) -> list[tuple[str, str, str]]:
    """(name, definition, table) of the indexes COPY goes faster without."""
    rows = conn.execute(
        "SELECT indexname, indexdef, tablename FROM pg_indexes WHERE tablename IN "
        "('postings', 'posting_sources') AND indexdef NOT LIKE 'CREATE UNIQUE%'"
    ).fetchall()  # the unique ones back constraints and stay
    return [(name, sql, table) for name, sql, table in rows]


def _in_parallel(url: str, jobs: list[Callable[[psycopg.Connection[Any]], None]]) -> None:
    """Each job on a connection of its own, at once; each commits when it is done."""

    def run(job: Callable[[psycopg.Connection[Any]], None]) -> None:
        with connect(url) as conn:
            # memory to sort in, and two workers a B-tree build may share its heap scan with
            conn.execute("SET maintenance_work_mem = '1GB'")
            conn.execute("SET max_parallel_maintenance_workers = 2")
            job(conn)
            conn.commit()

    with ThreadPoolExecutor(len(jobs)) as pool:
        for future in [pool.submit(run, job) for job in jobs]:
            future.result()


def _copier(table: str, cols: str, lines: Iterator[str]) -> Callable[[Any], None]:
    return lambda conn: _copy(conn, table, cols, lines)


def _builder(sqls: list[str]) -> Callable[[Any], None]:
    def build(conn: psycopg.Connection[Any]) -> None:
        for sql in sqls:
            conn.execute(sql)

    return build


def _people(size: Size, at: datetime) -> Callable[[psycopg.Connection[Any]], None]:
    """Subscribers, their saved searches, the sequences, and the state `reset` restores."""

    def job(conn: psycopg.Connection[Any]) -> None:
        rng = random.Random(SEED + 2)
        sub_cols = "id, email, name, status, timezone, created_at, confirmed_at, consent_source"
        _copy(conn, "subscribers", sub_cols, _subscriber_lines(size, at, rng))
        _copy(conn, "saved_searches", SEARCH_COLS, _search_lines(size, at, rng))
        for table in ("postings", "posting_sources", "subscribers", "saved_searches"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        conn.execute(
            "CREATE TABLE scale_search_state AS "
            "SELECT id, last_digest_at, next_due_at FROM saved_searches"
        )

    return job


def load(url: str, size: Size, at: datetime) -> dict[str, float]:
    """Fill the database; seconds per step. Indexes are dropped for COPY and built after."""
    timings: dict[str, float] = {}
    with connect(url) as conn:
        indexes = _postings_indexes(conn)
        for name, _, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.commit()
    start = time.perf_counter()
    streams = _posting_streams(size, at)
    _in_parallel(url, [_copier("postings", POSTING_COLS, lines) for lines in streams])
    timings["copy_postings_s"] = time.perf_counter() - start
    start = time.perf_counter()
    # The full-text index takes about as long as all the others: one connection builds it, one
    # the other indexes of postings, and one loads the sources (then builds their indexes) and
    # the subscribers meanwhile (Python makes their lines while the server builds).
    gin = [sql for name, sql, _ in indexes if name == "ix_postings_search_vector"]
    rest = [sql for name, sql, table in indexes if table == "postings" and sql not in gin]
    sources = [sql for _, sql, table in indexes if table == "posting_sources"]

    def others(conn: psycopg.Connection[Any]) -> None:
        _copy(conn, "posting_sources", SOURCE_COLS, _source_lines(size))
        _builder(sources)(conn)
        _people(size, at)(conn)

    _in_parallel(url, [_builder(gin), _builder(rest), others])
    timings["index_and_people_s"] = time.perf_counter() - start
    with connect(url, autocommit=True) as conn:
        start = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        timings["vacuum_analyze_s"] = time.perf_counter() - start
    return timings


def reset(url: str) -> None:
    """Undo a digest run: no digests (nor rows that point at them), no deliveries, every search due again as loaded."""
    with connect(url) as conn:
        conn.execute("TRUNCATE deliveries, digests CASCADE")
        conn.execute(
            "UPDATE saved_searches s SET last_digest_at = o.last_digest_at, "
            "next_due_at = o.next_due_at FROM scale_search_state o WHERE o.id = s.id "
            "AND s.next_due_at IS DISTINCT FROM o.next_due_at"
        )
        conn.commit()
    with connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE saved_searches, digests, deliveries")
