"""The listing search's place filter, indexed and estimated (PostgreSQL).

A radius search asks for postings near a place, or remote in its country, or without
coordinates in its city. Each part now has an index over open postings: the one-degree cells
of `search.place.PG_CELL_SQL` (a radius's bounding box is a handful of cells), remote postings
by country, and postings without coordinates by city. Statistics on the cell expression tell the
planner how many postings a place's cells hold (for latitude and longitude bands it multiplies
their shares as if they were independent, ~20x too few), and statistics on the best annual pay
(a partial index's expression has none) do the same for the minimum-salary filter: with counts
near the truth, a search matching thousands walks the newest-first index and stops after a
page, and one matching few fetches just those. SQLite is left as it is.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As search.place.PG_CELL_SQL, unqualified (a migration keeps its own copy).
CELL = "floor(latitude) * 1000 + floor(longitude)"
# Names start with ix_postings_open_ (tests/test_migrations.py: raw SQL, not in the models).
INDEXES = {
    "ix_postings_open_cell": f"(({CELL})) WHERE status = 'open'",
    "ix_postings_open_remote": "(country) WHERE status = 'open' AND workplace = 'remote'",
    "ix_postings_open_nocoords": (
        "(lower(city)) WHERE status = 'open' AND (latitude IS NULL OR longitude IS NULL)"
    ),
}
STATISTICS = {
    "st_postings_cell": f"({CELL})",
    "st_postings_best_pay": "(coalesce(annual_max_usd, annual_min_usd))",
}


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgresql():
        return
    for name, rest in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON postings {rest}")
    # statistics on an expression need PostgreSQL 14; older servers only estimate worse
    if (op.get_bind().dialect.server_version_info or (0,)) >= (14,):
        for name, expression in STATISTICS.items():
            op.execute(f"CREATE STATISTICS IF NOT EXISTS {name} ON {expression} FROM postings")


def downgrade() -> None:
    if not _postgresql():
        return
    for name in STATISTICS:
        op.execute(f"DROP STATISTICS IF EXISTS {name}")
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
