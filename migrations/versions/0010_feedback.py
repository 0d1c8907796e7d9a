"""Feedback from digests, "No longer open" notices, and the relevance rule kept on postings.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30

`postings.relevance_rule` is the role-profile rule that kept a posting (`pipeline.relevance`);
`feedback` holds each click of a digest's Not relevant / Hide this company / Applied links with
what it changed (for undo) and the posting's sources and rule (for the counts operators read);
`closed_notices` makes a closed job appear under "No longer open" once per subscriber.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db
from db import JSONType

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels = None
depends_on = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    # A plain ADD COLUMN: batch mode would copy `postings` and drop the full-text triggers (0007).
    op.add_column("postings", sa.Column("relevance_rule", _TEXT(), nullable=True))
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("saved_search_id", sa.Integer(), nullable=True),
        sa.Column("posting_id", sa.Integer(), nullable=True),
        sa.Column("action", _TEXT(), nullable=False),
        sa.Column("title", _TEXT(), nullable=False),
        sa.Column("company", _TEXT(), nullable=False),
        sa.Column("company_key", _TEXT(), nullable=False),
        sa.Column("title_key", _TEXT(), nullable=False),
        sa.Column("sources", JSONType, nullable=False),
        sa.Column("relevance_rule", _TEXT(), nullable=True),
        sa.Column("exclusion", _TEXT(), nullable=True),
        sa.Column("changed_search_ids", JSONType, nullable=False),
        sa.Column("created_at", db.UTCDateTime(), nullable=False),
        sa.Column("undone_at", db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["saved_search_id"], ["saved_searches.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["posting_id"], ["postings.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "subscriber_id", "posting_id", "action", name="uq_feedback_subscriber_posting_action"
        ),
    )
    op.create_index("ix_feedback_action", "feedback", ["action"])
    op.create_index("ix_feedback_subscriber_id", "feedback", ["subscriber_id"])
    op.create_table(
        "closed_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("posting_id", sa.Integer(), nullable=False),
        sa.Column("digest_id", sa.Integer(), nullable=True),
        sa.Column("created_at", db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["posting_id"], ["postings.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["digest_id"], ["digests.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "subscriber_id", "posting_id", name="uq_closed_notices_subscriber_posting"
        ),
    )
    op.create_index("ix_closed_notices_posting_id", "closed_notices", ["posting_id"])
    op.create_index("ix_closed_notices_digest_id", "closed_notices", ["digest_id"])


def downgrade() -> None:
    op.drop_table("closed_notices")
    op.drop_table("feedback")
    with op.batch_alter_table("postings") as batch:
        batch.drop_column("relevance_rule")
