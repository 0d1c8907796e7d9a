"""Migrations and models agree, on SQLite and PostgreSQL, and go down and up again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import alerts.models  # noqa: F401  (the models register their tables on SQLModel.metadata)
import db
import pipeline.models  # noqa: F401
import web.models  # noqa: F401

# Created by raw SQL in the migrations (full-text search), so not in the models.
RAW_SQL_OBJECTS = (
    "search_vector",
    "ix_postings_skills",
    "ix_postings_industries",
    "ix_postings_shifts",
    "ix_postings_standards",
    "ix_postings_open_",
)


def _include(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and (name or "").startswith("posting_fts"))


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _include})
        diff = [
            d
            for d in compare_metadata(context, SQLModel.metadata)
            if not any(o in str(d) for o in RAW_SQL_OBJECTS)
        ]
    assert diff == []


def test_downgrade_to_nothing_and_upgrade_again(engine):
    with engine.connect() as conn:
        command.downgrade(db._alembic_config(conn), "base")
        conn.commit()
    assert db.current_revision(engine) is None
    db.migrate(engine)
    assert db.current_revision(engine) == db.head_revision()
