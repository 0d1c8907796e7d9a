"""`salary_required` is a filter of its own: "only jobs that state pay", with or without a minimum.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

Before, `salary_required` only counted together with a minimum salary. Now it leaves out postings
without a salary on its own, so a stored search that had it set without a minimum would start
leaving them out; this clears the flag there, and every stored search keeps its meaning.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.get_bind().execute(
        sa.text(
            "UPDATE saved_searches SET salary_required = :no "
            "WHERE min_salary_usd IS NULL AND salary_required = :yes"
        ).bindparams(no=False, yes=True)
    )


def downgrade() -> None:
    # Nothing to undo: without a minimum the old code ignored the flag, and it is clear there.
    pass
