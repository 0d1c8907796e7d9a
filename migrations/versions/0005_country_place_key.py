"""Postings placed only by country share one dedup key, remote or not.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

`pipeline.keys.place_key` used to write "remote|US" for a remote job and "||US" for a job
placed only by its country, so one job seen as "Remote - US" on an ATS and as "United States" on
a remote-jobs board became two postings. Both are now "country|US"; existing rows are rewritten so
that a re-crawl after the upgrade still finds them. A remote job in a city keeps its city key.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    # "remote|US" → "country|US"
    bind.execute(
        sa.text(
            "UPDATE postings SET place_key = 'country|' || substr(place_key, 8) "
            "WHERE place_key LIKE 'remote|%'"
        )
    )
    # "||US" → "country|US"
    bind.execute(
        sa.text(
            "UPDATE postings SET place_key = 'country|' || substr(place_key, 3) "
            "WHERE place_key LIKE '||%'"
        )
    )


def downgrade() -> None:
    # Which of the merged keys were remote is not recorded; the workplace column tells.
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "UPDATE postings SET place_key = CASE WHEN workplace = 'remote' "
            "THEN 'remote|' ELSE '||' END || substr(place_key, 9) "
            "WHERE place_key LIKE 'country|%'"
        )
    )
