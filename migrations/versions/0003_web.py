"""web: rate-limit counters, processed webhook events, searches awaiting consent

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-26 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_rate_limits",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("window_start", db.UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start"),
    )
    with op.batch_alter_table("web_rate_limits", schema=None) as batch_op:
        batch_op.create_index("ix_web_rate_limits_window", ["window_start"], unique=False)

    op.create_table(
        "web_webhook_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("event", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("digest_id", sa.Integer(), nullable=True),
        sa.Column("provider_message_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("received_at", db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
        sa.UniqueConstraint("fingerprint"),
    )

    op.create_table(
        "web_pending_searches",
        sa.Column("saved_search_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("created_at", db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["saved_search_id"], ["saved_searches.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("saved_search_id"),
    )
    with op.batch_alter_table("web_pending_searches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_web_pending_searches_subscriber_id"), ["subscriber_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("web_pending_searches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_pending_searches_subscriber_id"))
    op.drop_table("web_pending_searches")
    op.drop_table("web_webhook_events")
    with op.batch_alter_table("web_rate_limits", schema=None) as batch_op:
        batch_op.drop_index("ix_web_rate_limits_window")
    op.drop_table("web_rate_limits")
