"""Great-circle geometry for radius searches, and the SQLite function that brings it to SQL.

Importing this module registers `andon_miles(lat1, lon1, lat2, lon2)` on every new SQLite
connection of any engine (not every SQLite build has the math functions to write it in SQL), so
`db.py` needs to know nothing about searching.
"""

from __future__ import annotations

import math
import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

EARTH_RADIUS_MILES = 3958.8
SQLITE_MILES_FUNCTION = "andon_miles"


def haversine_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in miles."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, miles: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) enclosing the circle; for an indexed pre-filter."""
    angle = miles / EARTH_RADIUS_MILES
    dlat = math.degrees(angle)
    # The circle's widest point is asin(sin(angle) / cos(lat)) away in longitude, a little more
    # than angle / cos(lat); a circle that reaches a pole spans every longitude.
    if angle >= math.pi / 2 - abs(math.radians(lat)):
        dlon = 180.0
    else:
        ratio = math.sin(angle) / math.cos(math.radians(lat))
        dlon = math.degrees(math.asin(max(-1.0, min(1.0, ratio))))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def _sqlite_miles(
    lat1: float | None, lon1: float | None, lat2: float | None, lon2: float | None
) -> float | None:
    # SQL NULL in, NULL out, like SQLite's own functions.
    if lat1 is None or lon1 is None or lat2 is None or lon2 is None:
        return None
    return haversine_miles(lat1, lon1, lat2, lon2)


@event.listens_for(Engine, "connect")
def _register_sqlite_miles(dbapi_conn: Any, _record: Any) -> None:
    if isinstance(dbapi_conn, sqlite3.Connection):
        dbapi_conn.create_function(SQLITE_MILES_FUNCTION, 4, _sqlite_miles, deterministic=True)
