"""The fingerprints of items the relevance stage dropped, so a re-crawl need not judge them again.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30

Most items of a broad search are dropped as not relevant, and each re-crawl judged them all
again. `dropped_items` keeps each one's raw-item fingerprint (`pipeline.fingerprint`, salted
with the role profile and the pipeline's version) and the reason: an unchanged item is dropped
again for the same reason. Rows of items a complete crawl no longer lists are deleted.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels = None
depends_on = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "dropped_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", _TEXT(), nullable=False),
        sa.Column("external_id", _TEXT(), nullable=False),
        sa.Column("fingerprint", _TEXT(), nullable=False),
        sa.Column("reason", _TEXT(), nullable=False),
        sa.Column("seen_at", db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "external_id", name="uq_dropped_items_source_external"),
    )


def downgrade() -> None:
    op.drop_table("dropped_items")
