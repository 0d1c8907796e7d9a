"""Shared fixtures: a fresh database per test on SQLite and, where configured, PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

import db

POSTGRES_ENV = "ANDON_TEST_POSTGRES_URL"
REDIS_ENV = "ANDON_TEST_REDIS_URL"


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1/test)"
        )
    return url


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_url: str) -> Iterator[str]:
    """A migrated database created for this test session, dropped at its end."""
    admin = db.make_engine(postgres_admin_url)
    name = f"andon_test_{uuid.uuid4().hex[:10]}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    eng = db.make_engine(url)
    db.migrate(eng)
    eng.dispose()
    yield url
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_postgres(eng: Engine) -> None:
    with eng.begin() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                )
            )
        ]
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """The URL of an empty, migrated database: SQLite in a temp folder, or PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'andon.db'}"
        eng = db.make_engine(url)
        db.migrate(eng)
        eng.dispose()
        yield url
        return
    url = request.getfixturevalue("postgres_template")
    eng = db.make_engine(url)
    _truncate_postgres(eng)
    eng.dispose()
    yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = db.make_engine(db_url)
    yield eng
    eng.dispose()


def _runs_on_postgres(item: pytest.Item) -> bool:
    fixtures = getattr(item, "fixturenames", ())
    if "postgres_admin_url" in fixtures or "postgres_template" in fixtures:
        return True
    callspec = getattr(item, "callspec", None)
    return callspec is not None and callspec.params.get("db_url") == "postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that needs PostgreSQL carries the `postgres` marker, so `-m postgres` finds all."""
    for item in items:
        if _runs_on_postgres(item) and item.get_closest_marker("postgres") is None:
            item.add_marker(pytest.mark.postgres)
