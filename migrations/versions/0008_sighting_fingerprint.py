"""Sightings keep the fingerprint of the raw item they were stored from.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

A re-crawl compares each item's fingerprint (`pipeline.fingerprint`) with the one stored here:
an unchanged item only moves `last_seen_at`. Existing sightings have none, so their next crawl
goes through the whole pipeline once and stores it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN on both databases: no table rebuild, existing rows get NULL
    op.add_column("posting_sources", sa.Column("fingerprint", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("posting_sources") as batch:
        batch.drop_column("fingerprint")
