"""Great-circle geometry and the SQLite function the search package registers for it."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import text

import db
from pipeline.location import geocode
from search.geo import EARTH_RADIUS_MILES, SQLITE_MILES_FUNCTION, bounding_box, haversine_miles


def test_haversine_and_bounding_box() -> None:
    detroit, dearborn = geocode("Detroit, MI"), geocode("Dearborn, MI")
    assert detroit
    assert dearborn
    assert detroit.latitude is not None
    assert detroit.longitude is not None
    assert dearborn.latitude is not None
    assert dearborn.longitude is not None
    miles = haversine_miles(
        detroit.latitude, detroit.longitude, dearborn.latitude, dearborn.longitude
    )
    assert 5 < miles < 12
    # New York to London is about 3,460 miles.
    assert haversine_miles(40.7128, -74.006, 51.5074, -0.1278) == pytest.approx(3460, rel=0.01)
    min_lat, max_lat, min_lon, max_lon = bounding_box(detroit.latitude, detroit.longitude, 25)
    assert min_lat < dearborn.latitude < max_lat
    assert min_lon < dearborn.longitude < max_lon
    assert max_lat - min_lat == pytest.approx(2 * math.degrees(25 / EARTH_RADIUS_MILES))
    # Points on the box's edge at the centre latitude are at least the radius away.
    assert haversine_miles(detroit.latitude, detroit.longitude, detroit.latitude, max_lon) >= 24.9
    assert bounding_box(89.9999999, 0, 10)[2:] == (-180.0, 180.0)
    assert all(math.isfinite(v) for v in bounding_box(-33.9, 151.2, 100))


def test_every_sqlite_connection_gets_the_miles_function(tmp_path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        miles = conn.execute(
            text(f"SELECT {SQLITE_MILES_FUNCTION}(42.3314, -83.0458, 42.3223, -83.1763)")
        ).scalar()
        missing = conn.execute(text(f"SELECT {SQLITE_MILES_FUNCTION}(42.3, -83.0, NULL, -83.1)"))
        assert missing.scalar() is None
    engine.dispose()
    assert miles == pytest.approx(haversine_miles(42.3314, -83.0458, 42.3223, -83.1763))
