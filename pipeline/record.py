"""`CleanPosting`: one normalized posting, the shape the dedup and store stages consume."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class CleanPosting:
    """A job item normalized to the listing contract of DESIGN.md (values, not yet stored)."""

    source: str
    external_id: str
    title: str
    company: str
    url: str | None
    apply_url: str | None
    description_text: str  # plain text
    description_html: str  # sanitized HTML (nh3), safe to render with Markup
    location_text: str | None
    city: str | None
    region: str | None  # ISO 3166-2, e.g. "US-MI"
    country: str | None  # ISO 3166-1 alpha-2
    latitude: float | None
    longitude: float | None
    workplace: str | None  # onsite | hybrid | remote
    employment_type: str | None  # full_time | part_time | contract | temporary | internship
    salary_min: float | None
    salary_max: float | None
    salary_currency: str | None
    salary_period: str | None  # hour | day | week | month | year
    annual_min_usd: float | None
    annual_max_usd: float | None
    seniority: str | None  # supervisor | assistant | manager | senior | director | executive
    industries: list[str] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # `pipeline.facts`, quotes included
    shifts: list[str] = field(default_factory=list)
    standards: list[str] = field(default_factory=list)
    team_size: int | None = None
    posted_at: datetime | None = None  # UTC
    posted_or_earlier: bool = False  # posted_at is a bound: posted then or earlier ("30+ days")
    valid_through: datetime | None = None  # UTC
    req_id: str | None = None
    attribution: str | None = None
    relevance_rule: str | None = None  # the role-profile rule that kept it (`pipeline.relevance`)
    seen_at: datetime | None = None  # crawl time (UTC)
    fingerprint: str | None = (
        None  # of the raw item (`pipeline.fingerprint`), kept with the sighting
    )
