"""Structured filters shared by the listing search (SQL) and the alert matcher (Python).

The semantics live here once, as `Filters.accepts(doc)`; the SQL compiler in
`search.sql` must agree with it (a test checks both on the same data).

- place without radius: same city (and region when known), else same region, else same country;
  with `within_miles`: great-circle distance from the place's centre; postings without
  coordinates then fall back to the same-city rule. Remote postings pass a place filter when
  they are open to the place's country (or say no country).
- min salary: the posting's best annual USD figure (max, else min) must reach it; a posting
  without a salary passes unless `salary_required`.
- workplaces, seniorities, industries, skills, employment types: any of the given values.
- excluded companies: case-insensitive exact company name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

WORKPLACES = ("onsite", "hybrid", "remote")
SENIORITIES = ("supervisor", "assistant", "manager", "senior", "director", "executive")
EMPLOYMENT_TYPES = ("full_time", "part_time", "contract", "temporary", "internship")
EARTH_RADIUS_MILES = 3958.8


@dataclass(frozen=True)
class PlaceFilter:
    """A place resolved from the user's text, with an optional radius."""

    text: str
    city: str | None = None
    region: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    within_miles: float | None = None


@dataclass(frozen=True)
class PostingDoc:
    """The fields of a stored posting that searches look at."""

    id: int
    title: str
    company: str
    description: str = ""
    city: str | None = None
    region: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    workplace: str | None = None
    employment_type: str | None = None
    annual_min_usd: float | None = None
    annual_max_usd: float | None = None
    seniority: str | None = None
    industries: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    location_text: str | None = None


@dataclass(frozen=True)
class Filters:
    """Everything a search can say besides its keyword query."""

    place: PlaceFilter | None = None
    workplaces: frozenset[str] = field(default_factory=frozenset)
    min_salary_usd: float | None = None
    salary_required: bool = False
    seniorities: frozenset[str] = field(default_factory=frozenset)
    industries: frozenset[str] = field(default_factory=frozenset)
    skills: frozenset[str] = field(default_factory=frozenset)
    employment_types: frozenset[str] = field(default_factory=frozenset)
    exclude_companies: frozenset[str] = field(default_factory=frozenset)  # casefolded
    since: datetime | None = None  # listings only: posted (or first seen) at or after
    include_closed: bool = False  # listings only

    def accepts(self, doc: PostingDoc) -> bool:
        """The reference predicate (without `since`/`include_closed`, which need dates and status)."""
        if self.workplaces and doc.workplace not in self.workplaces:
            return False
        if self.seniorities and doc.seniority not in self.seniorities:
            return False
        if self.employment_types and doc.employment_type not in self.employment_types:
            return False
        if self.industries and not self.industries.intersection(doc.industries):
            return False
        if self.skills and not self.skills.intersection(doc.skills):
            return False
        if self.exclude_companies and doc.company.casefold() in self.exclude_companies:
            return False
        if self.min_salary_usd is not None:
            best = best_annual_usd(doc.annual_min_usd, doc.annual_max_usd)
            if best is None:
                if self.salary_required:
                    return False
            elif best < self.min_salary_usd:
                return False
        return self.place is None or place_accepts(self.place, doc)


def best_annual_usd(annual_min: float | None, annual_max: float | None) -> float | None:
    return annual_max if annual_max is not None else annual_min


def place_accepts(place: PlaceFilter, doc: PostingDoc) -> bool:
    """Does the posting's place satisfy the place filter (see the module docstring)?"""
    if doc.workplace == "remote":
        return doc.country is None or place.country is None or doc.country == place.country
    if (
        place.within_miles is not None
        and place.latitude is not None
        and place.longitude is not None
        and doc.latitude is not None
        and doc.longitude is not None
    ):
        miles = haversine_miles(place.latitude, place.longitude, doc.latitude, doc.longitude)
        return miles <= place.within_miles
    if place.city is not None:
        return (
            _same(place.city, doc.city)
            and (place.region is None or doc.region is None or place.region == doc.region)
            and (place.country is None or doc.country is None or place.country == doc.country)
        )
    if place.region is not None:
        return doc.region == place.region
    if place.country is not None:
        return doc.country == place.country
    return bool(doc.location_text) and place.text.casefold() in doc.location_text.casefold()


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.casefold() == b.casefold()


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
