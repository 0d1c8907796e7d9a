"""Subscriber, saved-search, digest and delivery tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from db import JSONType, UTCDateTime, utcnow

SUBSCRIBER_STATUSES = ("pending", "active", "unsubscribed", "bounced", "complained")
DIGEST_STATUSES = ("pending", "sending", "sent", "failed", "empty")


class Subscriber(SQLModel, table=True):
    """A person who gets digests; only `active` ones do."""

    __tablename__ = "subscribers"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True)  # normalized by email-validator
    name: str | None = None
    status: str = Field(default="pending", index=True)
    timezone: str = "UTC"
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    unsubscribed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status_reason: str | None = None  # e.g. "one-click unsubscribe", "sendgrid bounce"
    consent_source: str | None = None  # "cli --confirmed", "web form", ...


class SavedSearch(SQLModel, table=True):
    """A keyword query plus filters, a cadence and a local send time."""

    __tablename__ = "saved_searches"
    __table_args__ = (Index("ix_saved_searches_due", "active", "next_due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscribers.id", index=True, ondelete="CASCADE")
    name: str
    query: str = ""
    location: str | None = None
    within_miles: float | None = None
    # the place as resolved when the search was saved
    place_city: str | None = None
    place_region: str | None = None
    place_country: str | None = None
    place_latitude: float | None = None
    place_longitude: float | None = None
    workplaces: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    min_salary_usd: float | None = None
    salary_required: bool = False
    seniorities: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    industries: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    skills: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    employment_types: list[str] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    exclude_companies: list[str] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    # plant facts (`pipeline.facts`): any of these shifts / standards, a team of at least min_team
    shifts: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    standards: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    min_team: int | None = None
    cadence: str = "daily"  # daily | weekly
    send_hour: int = 8  # local hour
    weekday: int = 0  # 0 = Monday, for weekly
    timezone: str = "UTC"  # IANA
    active: bool = True  # False = paused
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # postings first seen after this went into no digest of this search yet
    last_digest_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Digest(SQLModel, table=True):
    """One digest of one saved search for one period: the outbox row, sent at most once."""

    __tablename__ = "digests"
    __table_args__ = (
        UniqueConstraint("saved_search_id", "period_key", name="uq_digests_search_period"),
        Index("ix_digests_status", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    saved_search_id: int = Field(foreign_key="saved_searches.id", index=True, ondelete="CASCADE")
    subscriber_id: int = Field(foreign_key="subscribers.id", index=True, ondelete="CASCADE")
    period_key: str  # "2026-11-25" (daily) or "2026-W48" (weekly), in the search's timezone
    due_at: datetime = Field(sa_type=UTCDateTime)
    window_start: datetime | None = Field(default=None, sa_type=UTCDateTime)
    window_end: datetime = Field(sa_type=UTCDateTime)
    status: str = "pending"
    job_count: int = 0
    total_matches: int = 0
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sending_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    provider_message_id: str | None = None
    error: str | None = None


class Delivery(SQLModel, table=True):
    """A posting put in a digest for a subscriber: at most once per (subscriber, posting), ever."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "posting_id", name="uq_deliveries_subscriber_posting"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscribers.id", ondelete="CASCADE")
    posting_id: int = Field(foreign_key="postings.id", index=True, ondelete="CASCADE")
    # SET NULL: deleting a saved search (and so its digests) must not forget what was sent,
    # or a later search could send the same job again (invariant 3)
    digest_id: int | None = Field(
        default=None, foreign_key="digests.id", index=True, ondelete="SET NULL"
    )
    rank: int = 0
    score: float = 0.0
    why: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


FEEDBACK_ACTIONS = ("not_relevant", "hide_company", "applied")


class Feedback(SQLModel, table=True):
    """One click from a digest (`alerts.feedback`): what it changed, so it can be undone and counted."""

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint(
            "subscriber_id", "posting_id", "action", name="uq_feedback_subscriber_posting_action"
        ),
        Index("ix_feedback_action", "action"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscribers.id", index=True, ondelete="CASCADE")
    saved_search_id: int | None = Field(
        default=None, foreign_key="saved_searches.id", ondelete="SET NULL"
    )
    # SET NULL: the counts per source and rule outlive a posting pruned later
    posting_id: int | None = Field(default=None, foreign_key="postings.id", ondelete="SET NULL")
    action: str  # FEEDBACK_ACTIONS
    title: str = ""
    company: str = ""
    # the posting's dedup keys: 'applied' keeps re-posts and copies out of later digests
    company_key: str = ""
    title_key: str = ""
    sources: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    relevance_rule: str | None = None  # the role-profile rule that kept the posting
    exclusion: str | None = None  # the query clause added, or the company excluded
    changed_search_ids: list[int] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    undone_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ClosedNotice(SQLModel, table=True):
    """A delivered job that closed, listed once under "No longer open" in a later digest."""

    __tablename__ = "closed_notices"
    __table_args__ = (
        UniqueConstraint(
            "subscriber_id", "posting_id", name="uq_closed_notices_subscriber_posting"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscribers.id", ondelete="CASCADE")
    posting_id: int = Field(foreign_key="postings.id", index=True, ondelete="CASCADE")
    # SET NULL: a deleted search must not make the notice due again
    digest_id: int | None = Field(
        default=None, foreign_key="digests.id", index=True, ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
