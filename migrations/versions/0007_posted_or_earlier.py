"""`postings.posted_or_earlier`: the posted date is a bound ("Posted 30+ Days Ago"), not the date.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

Workday lists a posting older than a month as "Posted 30+ Days Ago". It used to be stored as
exactly 30 days before the crawl; the flag keeps it a lower bound on the age, shown as
"30+ days ago". Existing rows cannot tell, so they keep false until the next crawl rewrites them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, not batch mode: on SQLite batch mode copies `postings` into a new table
    # and the full-text triggers (migration 0001) go with the old one, so keyword search finds
    # nothing stored after the upgrade.
    op.add_column(
        "postings",
        sa.Column("posted_or_earlier", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("postings") as batch:
        batch.drop_column("posted_or_earlier")
