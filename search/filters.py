"""The structured filters' public names, in one import: the values, the definitions, the geometry.

The filters themselves are defined once, in `search.definitions`; the place rules in
`search.place`; the great-circle geometry in `search.geo`. Semantics, in short:

- place without radius: same city (and region when known), else same region, else same country;
  with `within_miles`: great-circle distance from the place's centre; postings without
  coordinates then fall back to the same-city rule. Remote postings pass a place filter when
  they are open to the place's country (or say no country).
- min salary: the posting's best annual USD figure (max, else min) must reach it; a posting
  without a salary passes.
- salary required: only postings that state a salary (with a minimum: the old "strict" minimum).
- workplaces, seniorities, industries, skills, employment types: any of the given values.
- excluded companies: case-insensitive exact company name.
"""

from __future__ import annotations

from search.definitions import DEFINITIONS, Filters, build_filters
from search.filter_kinds import (
    EMPLOYMENT_TYPES,
    SENIORITIES,
    WORKPLACES,
    FilterDef,
    SearchError,
)
from search.geo import EARTH_RADIUS_MILES, bounding_box, haversine_miles
from search.place import explain_place, place_accepts
from search.posting import PlaceFilter, PostingDoc, best_annual_usd

__all__ = [
    "DEFINITIONS",
    "EARTH_RADIUS_MILES",
    "EMPLOYMENT_TYPES",
    "SENIORITIES",
    "WORKPLACES",
    "FilterDef",
    "Filters",
    "PlaceFilter",
    "PostingDoc",
    "SearchError",
    "best_annual_usd",
    "bounding_box",
    "build_filters",
    "explain_place",
    "haversine_miles",
    "place_accepts",
]
