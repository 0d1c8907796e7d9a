"""The web app's own tables: rate-limit counters, processed webhook events, searches awaiting consent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from db import UTCDateTime, utcnow


class RateLimitCounter(SQLModel, table=True):
    """Hits of one key (e.g. subscribe attempts of one address) in one fixed window.

    Kept in the database, not in memory, so limits hold across restarts and across several
    web workers; the window start is part of the key so an increment is one atomic upsert.
    """

    __tablename__ = "web_rate_limits"
    __table_args__ = (Index("ix_web_rate_limits_window", "window_start"),)

    key: str = Field(primary_key=True)
    window_start: datetime = Field(primary_key=True, sa_type=UTCDateTime)
    count: int = 0


class WebhookEvent(SQLModel, table=True):
    """A mail-provider event already handled: deliveries are at-least-once, handling is once."""

    __tablename__ = "web_webhook_events"

    id: int | None = Field(default=None, primary_key=True)
    provider: str = "sendgrid"
    # sg_event_id when given; SendGrid is reported to change it between retries, hence also...
    event_id: str = Field(unique=True)
    # ...a fingerprint of (message id, event, timestamp, address) that a retry keeps
    fingerprint: str = Field(unique=True)
    event: str
    digest_id: int | None = None  # our andon_digest_id custom arg, for reconciling sends
    provider_message_id: str | None = None
    action: str | None = None  # what we did: "bounced", "complained", "unsubscribed", None
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PendingSearch(SQLModel, table=True):
    """A search added through the web form to an already-confirmed subscriber.

    It stays paused until the mailbox owner clicks the confirmation link, so nobody can add
    searches (and so extra digests) to somebody else's address.
    """

    __tablename__ = "web_pending_searches"

    saved_search_id: int = Field(
        primary_key=True, foreign_key="saved_searches.id", ondelete="CASCADE"
    )
    subscriber_id: int = Field(foreign_key="subscribers.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
