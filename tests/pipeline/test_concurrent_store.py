"""Two crawlers writing the same jobs at once: the database keeps one sighting per id."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

import db
from pipeline.models import PostingSource
from pipeline.store import store_batch
from tests.factories import T0, posting


def test_two_writers_storing_the_same_items_at_once_leave_one_sighting_each(db_url):
    items = [
        posting(source="acme", external_id=f"id-{n}", url=None, city=f"City{n}") for n in range(40)
    ]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer() -> None:
        eng = db.make_engine(db_url)
        try:
            barrier.wait(timeout=30)
            with db.session_scope(eng, write=True) as s:
                store_batch(s, items, now=T0)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            eng.dispose()

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    eng = db.make_engine(db_url)
    with db.session_scope(eng) as s:
        count = s.execute(select(func.count()).select_from(PostingSource)).scalar_one()
        distinct = s.execute(
            select(func.count(func.distinct(PostingSource.external_id)))
        ).scalar_one()
    eng.dispose()
    assert count == distinct == 40
