"""Plant facts on postings, and the shift, team-size and standard filters of saved searches.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

`postings.facts` holds what `pipeline.facts` read from the description (each fact with its
quote); `shifts`, `standards` and `team_size` are the values the filters compare. Existing
postings are read here once: a re-crawl of an unchanged item skips the pipeline (its fingerprint
is stored), so it would otherwise never get its facts.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db import JSONType

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None

_BATCH = 500


def upgrade() -> None:
    # Plain ADD COLUMNs, not batch mode: on SQLite batch mode would copy `postings` and drop
    # the full-text triggers of migration 0001 (see 0007).
    for name, default in (("facts", "'{}'"), ("shifts", "'[]'"), ("standards", "'[]'")):
        op.add_column(
            "postings",
            sa.Column(name, JSONType, nullable=False, server_default=sa.text(default)),
        )
    op.add_column("postings", sa.Column("team_size", sa.Integer(), nullable=True))
    op.create_index("ix_postings_team_size", "postings", ["team_size"])
    for name in ("shifts", "standards"):
        op.add_column(
            "saved_searches",
            sa.Column(name, JSONType, nullable=False, server_default=sa.text("'[]'")),
        )
    op.add_column("saved_searches", sa.Column("min_team", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_postings_shifts ON postings USING gin (shifts)")
        op.execute("CREATE INDEX ix_postings_standards ON postings USING gin (standards)")
    _backfill()


def _backfill() -> None:
    """Read the facts of every stored posting, a batch at a time (keyset paging on id)."""
    from pipeline.facts import extract_facts, fact_columns

    bind = op.get_bind()
    postings = sa.table(
        "postings",
        sa.column("id", sa.Integer),
        sa.column("description_text", sa.Text),
        sa.column("facts", JSONType),
        sa.column("shifts", JSONType),
        sa.column("standards", JSONType),
        sa.column("team_size", sa.Integer),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(postings.c.id, postings.c.description_text)
            .where(postings.c.id > last)
            .order_by(postings.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            columns = fact_columns(extract_facts(row.description_text or ""))
            if columns["facts"]:
                bind.execute(postings.update().where(postings.c.id == row.id).values(**columns))
        last = rows[-1].id


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_postings_shifts")
        op.execute("DROP INDEX IF EXISTS ix_postings_standards")
    op.drop_index("ix_postings_team_size", table_name="postings")
    with op.batch_alter_table("saved_searches") as batch:
        for name in ("shifts", "standards", "min_team"):
            batch.drop_column(name)
    with op.batch_alter_table("postings") as batch:
        for name in ("facts", "shifts", "standards", "team_size"):
            batch.drop_column(name)
