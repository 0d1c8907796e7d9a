"""The posting tables: postings, their sightings on each source, and crawl runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from db import JSONType, UTCDateTime, utcnow


class Posting(SQLModel, table=True):
    """One job, however many sources list it."""

    __tablename__ = "postings"
    __table_args__ = (
        Index("ix_postings_status_listed", "status", "listed_at"),
        Index("ix_postings_dedup", "company_key", "title_key"),
        Index("ix_postings_geo", "latitude", "longitude"),
        Index("ix_postings_first_seen", "first_seen_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str
    company: str
    url: str | None = None
    apply_url: str | None = None
    location_text: str | None = None
    city: str | None = Field(default=None, index=True)
    region: str | None = Field(default=None, index=True)
    country: str | None = Field(default=None, index=True)
    latitude: float | None = None
    longitude: float | None = None
    workplace: str | None = Field(default=None, index=True)
    employment_type: str | None = None
    salary_min: float | None = None
    salary_max: float | None = None
    salary_currency: str | None = None
    salary_period: str | None = None
    annual_min_usd: float | None = None
    annual_max_usd: float | None = None
    seniority: str | None = Field(default=None, index=True)
    industries: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    skills: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    # plant facts with their quotes (`pipeline.facts`), and the values searches filter on
    facts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    shifts: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    standards: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    team_size: int | None = Field(default=None, index=True)
    description_text: str = ""
    description_html: str = ""
    attribution: str | None = None
    # the role-profile rule that kept it (`pipeline.relevance`): feedback is counted per rule
    relevance_rule: str | None = None
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # posted_at is a bound: posted then or earlier (Workday's "Posted 30+ Days Ago")
    posted_or_earlier: bool = False
    valid_through: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # posted_at when known, else first_seen_at: the "newest first" order, kept as a column to index
    listed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status: str = "open"  # open | closed
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # normalized keys for cross-source dedup: company, title, and place
    company_key: str = ""
    title_key: str = ""
    place_key: str = ""


class PostingSource(SQLModel, table=True):
    """One sighting: a posting as listed by one source under its own id."""

    __tablename__ = "posting_sources"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_posting_sources_source_external"),
        Index("ix_posting_sources_source_seen", "source", "last_seen_at"),
        Index("ix_posting_sources_source_req", "source", "req_id"),
        Index("ix_posting_sources_url_key", "url_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    posting_id: int = Field(foreign_key="postings.id", index=True, ondelete="CASCADE")
    source: str
    external_id: str
    url: str | None = None
    url_key: str | None = None  # canonical URL without tracking parameters, for dedup
    req_id: str | None = None
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status: str = "open"  # open | closed: this source no longer lists it
    # hash of the raw item last stored (`pipeline.fingerprint`): unchanged items skip the pipeline
    fingerprint: str | None = None


class CrawlRun(SQLModel, table=True):
    """One crawl of one source, with what each stage counted."""

    __tablename__ = "crawl_runs"
    __table_args__ = (Index("ix_crawl_runs_source_started", "source", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str
    kind: str
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = "running"  # running | finished | failed | partial
    finish_reason: str | None = None
    fetched: int = 0
    kept: int = 0
    dropped: int = 0
    new: int = 0
    updated: int = 0
    merged: int = 0
    closed: int = 0
    errors: int = 0
    message: str | None = None  # the first error line, or why nothing was closed
    stats: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))


class DroppedItem(SQLModel, table=True):
    """A raw item the relevance stage dropped, kept by its fingerprint (`pipeline.fingerprint`):
    seen again unchanged, it is dropped again for the same reason without being judged."""

    __tablename__ = "dropped_items"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_dropped_items_source_external"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str
    external_id: str
    fingerprint: str  # salted with the role profile and PIPELINE_VERSION: a new one re-judges
    reason: str  # the relevance stage's reason, counted again on each drop
    seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
