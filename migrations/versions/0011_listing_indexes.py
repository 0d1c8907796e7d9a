"""Indexes for the listing search at a million postings (PostgreSQL; `bench scale` measures them).

Listings ask for open postings, newest first, one page: a partial index in exactly that order
lets a page stop after its 50 rows however many postings are closed. The minimum-salary filter
compares the best annual figure (max, else min), and the place filter compares the city
case-folded: both get an expression index over the open postings. SQLite stores a single
machine's postings and is left as it is.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Names start with ix_postings_open_ (tests/test_migrations.py: raw SQL, not in the models).
INDEXES = {
    "ix_postings_open_listed": "(listed_at DESC, id DESC)",
    "ix_postings_open_pay": "((coalesce(annual_max_usd, annual_min_usd)))",
    "ix_postings_open_city": "(lower(city))",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, columns in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON postings {columns} WHERE status = 'open'")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
