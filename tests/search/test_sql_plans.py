"""On PostgreSQL the listing search is planned with the values searched, every time (and no JIT, exact bitmaps)."""

from __future__ import annotations

from sqlalchemy import text

import db
from search import sql as search
from search.filters import Filters


def _mode(session) -> tuple[str, ...]:
    settings = ("plan_cache_mode", "work_mem", "jit", "seq_page_cost", "random_page_cost")
    return tuple(str(session.execute(text(f"SHOW {name}")).scalar_one()) for name in settings)


def test_searches_plan_with_their_values_and_only_in_their_transaction(engine):
    with db.session_scope(engine) as session:
        if engine.dialect.name != "postgresql":
            assert search.search_postings(session, "manager", Filters()) == []
            return
        before = _mode(session)
        search.search_postings(session, "manager", Filters())
        during_search = _mode(session)
    with db.session_scope(engine) as session:
        search.count_postings(session, "manager", Filters())
        during_count = _mode(session)
    with db.session_scope(engine) as session:
        after = _mode(session)
    # a prepared statement's generic plan cannot use the partial indexes on open postings
    assert during_search == during_count == ("force_custom_plan", "64MB", "off", "0.5", "0.55")
    assert before == after != during_search
