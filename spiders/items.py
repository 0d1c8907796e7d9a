"""`JobItem`: what every spider yields — a source's fields mapped, raw values kept for the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class JobItem:
    """One posting as a source gives it.

    Spiders map fields and nothing more: no parsing of salaries, places or dates beyond picking
    the right JSON field. The pipeline turns this into a `pipeline.record.CleanPosting`.
    """

    source: str  # the source's `name` in the sources file
    kind: str  # the spider kind: workday, greenhouse, ...
    external_id: str  # prefixed as SOURCES.md §9.1, e.g. "greenhouse:acme:4012"
    title: str | None
    company: str | None
    url: str | None  # the public job page
    apply_url: str | None = None
    description_html: str | None = None  # untrusted HTML as given (already entity-unescaped)
    description_text: str | None = None  # when the source gives plain text only
    # Location as given: free strings (first is the primary place) and/or structured parts
    # with keys city, region, country, postal_code, latitude, longitude (any may be missing).
    locations: list[str] = field(default_factory=list)
    location_parts: dict[str, Any] | None = None
    workplace_hint: str | None = None  # raw: "remote", "on-site", "hybrid", "TELECOMMUTE", ...
    remote: bool | None = None  # an explicit flag from the source, when it has one
    employment_type: str | list[str] | None = None  # raw: "Full Time", "FULL_TIME", "permanent"...
    # Salary as given: structured {"min", "max", "currency", "period"/"unit"/"interval"} and/or text.
    salary: dict[str, Any] | None = None
    salary_text: str | None = None
    posted: str | int | float | None = (
        None  # as given: ISO, epoch s/ms, RFC 822, "Posted 3 Days Ago"
    )
    # `posted` is a bound, not the date: posted then or earlier ("Posted 30+ Days Ago")
    posted_or_earlier: bool = False
    valid_through: str | int | float | None = None
    req_id: str | None = None  # requisition id (Workday jobReqId), for re-post detection
    attribution: str | None = None  # "Himalayas" where a source's terms ask for a credit line
    crawled_at: datetime | None = (
        None  # when the response was received (UTC); anchors relative dates
    )
    extra: dict[str, Any] = field(default_factory=dict)  # department, categories, seniority tags...
    relevance_rule: str | None = None  # set by the relevance stage: the profile rule that kept it
