"""A radius search's pre-filter (one-degree cells on PostgreSQL, bands on SQLite) drops no near posting."""

from __future__ import annotations

import math
import random

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql
from sqlmodel import col

import db
from pipeline.models import Posting, PostingSource
from pipeline.store import store_batch
from search import sql as search
from search.filters import Filters, PlaceFilter
from search.geo import bounding_box, haversine_miles
from search.place import PG_CELL_SQL, _box_sql
from tests.factories import T0, posting

# Close to where four one-degree cells meet, so that a radius spans several of them.
CENTRE = PlaceFilter(
    text="Somewhere, OH", city="Somewhere", region="US-OH", country="US",
    latitude=41.02, longitude=-83.97,
)  # fmt: skip


def _points(rng: random.Random) -> list[tuple[float, float]]:
    points = [(rng.uniform(40.0, 42.0), rng.uniform(-85.0, -83.0)) for _ in range(150)]
    # on the cells' edges and around the radii's rims, where a pre-filter could cut too much
    points += [(41.0, -84.0), (41.0, -83.0), (40.0, -84.0), (42.0, -85.0), (41.0, -83.97)]
    for miles in (10, 25, 50):
        for _ in range(10):
            bearing = rng.uniform(0, 360)
            dlat = (miles / 69.05) * rng.uniform(0.98, 1.02)
            lat = CENTRE.latitude + dlat * math.cos(math.radians(bearing))
            points.append((lat, CENTRE.longitude + dlat * 1.33 * rng.uniform(-1, 1)))
    return points


def test_radius_search_agrees_with_the_great_circle_distance(engine):
    points = _points(random.Random(11))
    rows = [
        posting(
            external_id=f"p{n}",
            url=None,
            company=f"Company {n}",
            city="Elsewhere",
            latitude=lat,
            longitude=lon,
        )
        for n, (lat, lon) in enumerate(points)
    ]
    with db.session_scope(engine) as s:
        store_batch(s, rows, now=T0)
    for miles in (10, 25, 50, 120):
        place = PlaceFilter(**{**CENTRE.__dict__, "within_miles": miles})
        with db.session_scope(engine) as s:
            found = {
                p.id for p in search.search_postings(s, None, Filters(place=place), limit=1000)
            }
            ext = dict(
                s.execute(
                    select(col(PostingSource.posting_id), col(PostingSource.external_id))
                ).all()
            )
        got = {ext[i] for i in found}
        want = {
            f"p{n}"
            for n, (lat, lon) in enumerate(points)
            if haversine_miles(CENTRE.latitude, CENTRE.longitude, lat, lon) <= miles  # type: ignore[arg-type]
        }
        assert got == want, miles
        assert want, miles  # the radius reaches some postings


def test_postgresql_radius_is_indexed_by_cells_and_a_wide_one_by_bands():
    near = Filters(place=PlaceFilter(**{**CENTRE.__dict__, "within_miles": 50}))
    wide = Filters(place=PlaceFilter(**{**CENTRE.__dict__, "within_miles": 2000}))

    def sql(f: Filters) -> str:
        clauses = search.where_clauses(None, f, "postgresql")
        compiled = select(text("1")).where(*clauses).compile(dialect=postgresql.dialect())
        return str(compiled)

    assert PG_CELL_SQL in sql(near) and "BETWEEN" not in sql(near)
    assert PG_CELL_SQL not in sql(wide) and "BETWEEN" in sql(wide)


def test_postgresql_plans_the_cells_on_their_index(engine):
    if engine.dialect.name != "postgresql":
        return
    box = bounding_box(41.02, -83.97, 50)
    stmt = select(col(Posting.id)).where(
        col(Posting.status) == "open", _box_sql(*box, "postgresql")
    )
    compiled = stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:  # not committed: the indexes dropped here come back
        others = conn.execute(
            text(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'postings' "
                "AND indexname <> 'ix_postings_open_cell' AND indexdef NOT LIKE 'CREATE UNIQUE%'"
            )
        ).scalars()
        for name in list(others):
            conn.execute(text(f'DROP INDEX "{name}"'))
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(r[0] for r in conn.execute(text(f"EXPLAIN {compiled}")))
    # the query's expression is the index's: PostgreSQL matches them by their parsed form
    assert "Index Cond: (((floor(latitude)" in plan, plan
    assert "ix_postings_open_cell" in plan, plan
