"""Alembic environment: runs on the connection `andon init` hands over, or on a URL from config."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import alerts.models  # noqa: F401  (each models module adds its tables to the metadata)
import db
import pipeline.models  # noqa: F401
import web.models  # noqa: F401

target_metadata = SQLModel.metadata

# Tables that belong to others (APScheduler's job store, if an operator enables one).
IGNORED_TABLES = {"apscheduler_jobs"}


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    return not (
        type_ == "table" and (name in IGNORED_TABLES or (name or "").startswith("posting_fts"))
    )


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        url = context.config.get_main_option("sqlalchemy.url")
        if url is None:
            raise RuntimeError("alembic.ini names no sqlalchemy.url and no connection was given")
        engine = db.make_engine(url)
        with engine.begin() as conn:
            _run(conn)
        engine.dispose()
    else:
        _run(connection)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
