"""The values searches compare: a stored posting's searchable fields and a resolved place."""

from __future__ import annotations

from dataclasses import dataclass


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
    shifts: tuple[str, ...] = ()  # plant facts (`pipeline.facts`)
    standards: tuple[str, ...] = ()
    team_size: int | None = None


def best_annual_usd(annual_min: float | None, annual_max: float | None) -> float | None:
    """The figure a minimum salary is compared with: the top of the range, else its bottom."""
    return annual_max if annual_max is not None else annual_min
