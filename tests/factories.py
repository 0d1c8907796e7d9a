"""Builders for test data: clean postings with realistic defaults."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pipeline.record import CleanPosting

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

_BASE = CleanPosting(
    source="acme-greenhouse",
    external_id="greenhouse:acme:1",
    title="Production Manager",
    company="Acme Foods",
    url="https://boards.greenhouse.io/acme/jobs/1",
    apply_url="https://boards.greenhouse.io/acme/jobs/1#app",
    description_text=(
        "Lead three shifts on our packaging lines. Drive lean and OEE improvements, own HACCP "
        "and GMP compliance, and coach supervisors in a food manufacturing plant."
    ),
    description_html="<p>Lead three shifts on our packaging lines.</p>",
    location_text="Dearborn, MI",
    city="Dearborn",
    region="US-MI",
    country="US",
    latitude=42.3223,
    longitude=-83.1763,
    workplace="onsite",
    employment_type="full_time",
    salary_min=95000,
    salary_max=120000,
    salary_currency="USD",
    salary_period="year",
    annual_min_usd=95000,
    annual_max_usd=120000,
    seniority="manager",
    industries=["food_beverage", "manufacturing"],
    skills=["lean", "oee", "haccp", "gmp"],
    posted_at=T0,
    valid_through=None,
    seen_at=T0,
)


def posting(**changes: Any) -> CleanPosting:
    """A clean posting; override any field."""
    return replace(_BASE, **changes)
