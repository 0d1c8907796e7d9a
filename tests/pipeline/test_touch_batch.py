"""Unchanged re-crawled items wait for the next batch of postings, not a transaction of their own
per `ANDON_STORE_BATCH`, up to `TOUCH_BATCH`; they still move `last_seen_at` at the close."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import col

import db
from pipeline import store as storing_store
from pipeline import storing
from pipeline.fingerprint import Unchanged
from pipeline.models import PostingSource
from tests.factories import posting
from tests.pipeline.test_storable import _pipeline


def _stored(engine: Any, n: int) -> list[Unchanged]:
    pipe, _spider = _pipeline(engine)
    for i in range(n):
        pipe.process_item(posting(external_id=f"old-{i}", title=f"Production Manager {i}"))
    pipe.close_spider()
    with db.session_scope(engine, write=True) as s:
        old = db.utcnow() - timedelta(days=3)
        s.execute(update(PostingSource).values(last_seen_at=old))
        rows = s.execute(
            select(
                col(PostingSource.id), col(PostingSource.posting_id), col(PostingSource.external_id)
            )
        )
        return [Unchanged("acme", ext, sid, pid) for sid, pid, ext in rows]


def _seen_since(engine: Any, hours: int) -> int:
    since = db.utcnow() - timedelta(hours=hours)
    with db.session_scope(engine) as s:
        rows = s.execute(
            select(col(PostingSource.id)).where(col(PostingSource.last_seen_at) >= since)
        )
        return len(rows.all())


def test_unchanged_items_wait_for_postings_then_move(engine: Any, monkeypatch: Any) -> None:
    unchanged = _stored(engine, 6)
    pipe, _spider = _pipeline(engine)
    pipe.batch_size = 2
    for item in unchanged[:5]:
        pipe.process_item(item)
    assert len(pipe.touches) == 5 and _seen_since(engine, 1) == 0  # more than a batch: waiting
    pipe.process_item(posting(external_id="new-1", title="Plant Manager"))
    pipe.process_item(posting(external_id="new-2", title="Production Supervisor"))
    assert pipe.touches == [] and _seen_since(engine, 1) == 5 + 2  # went with the postings
    monkeypatch.setattr(storing, "TOUCH_BATCH", 1)
    pipe.process_item(unchanged[5])
    assert pipe.touches == [] and _seen_since(engine, 1) == 6 + 2  # a full touch batch goes alone
    assert pipe.crawler.stats.get_value("andon/store/unchanged") == 6


def test_waiting_unchanged_items_move_at_the_close(engine: Any) -> None:
    unchanged = _stored(engine, 4)
    pipe, _spider = _pipeline(engine)
    pipe.batch_size = 1
    for item in unchanged:
        pipe.process_item(item)
    assert _seen_since(engine, 1) == 0
    pipe.close_spider()
    assert _seen_since(engine, 1) == 4


def test_touches_and_postings_share_one_transaction(engine: Any, monkeypatch: Any) -> None:
    unchanged = _stored(engine, 3)
    pipe, _spider = _pipeline(engine)
    scopes: list[bool] = []
    real_scope = storing.session_scope

    def counted(*args: Any, **kwargs: Any) -> Any:
        scopes.append(kwargs.get("write", False))
        return real_scope(*args, **kwargs)

    monkeypatch.setattr(storing, "session_scope", counted)
    for item in unchanged:
        pipe.process_item(item)
    pipe.process_item(
        posting(external_id="new-1", title="Plant Manager", url="https://x.example/new-1")
    )
    pipe.close_spider()
    assert scopes == [True]
    assert _seen_since(engine, 1) == 3 + 1
    assert pipe.crawler.stats.get_value("andon/store/unchanged") == 3
    assert pipe.crawler.stats.get_value("andon/store/batches") == 1
    assert (pipe.totals.new, pipe.totals.unchanged, pipe.failed_batches) == (1, 3, 0)


def test_a_failing_batch_does_not_cost_the_touches(engine: Any, monkeypatch: Any) -> None:
    """The shared transaction fails on a poison posting: the touches go alone, the postings one by
    one, and only the poison one is lost (named in the errors)."""
    monkeypatch.setattr(storing_store, "make_storable", lambda item: (item, []))
    unchanged = _stored(engine, 3)
    pipe, spider = _pipeline(engine)
    for item in unchanged:
        pipe.process_item(item)
    pipe.process_item(
        posting(external_id="good", title="Plant Manager", url="https://x.example/good")
    )
    pipe.process_item(
        posting(external_id="poison", title="Production Manager \ud800", url="https://x.example/p")
    )
    pipe.close_spider()
    assert _seen_since(engine, 1) == 3 + 1
    assert (pipe.totals.new, pipe.totals.unchanged, pipe.failed_batches) == (1, 3, 0)
    assert len(spider.errors) == 1 and "'poison'" in spider.errors[0]
    stats = pipe.crawler.stats
    assert stats.get_value("andon/store/retried_batches") == 1
    assert stats.get_value("andon/store/batches") is None  # no batch went in whole


def test_a_failing_touch_makes_the_crawl_partial_but_the_postings_go_in(
    engine: Any, monkeypatch: Any
) -> None:
    unchanged = _stored(engine, 2)
    pipe, _spider = _pipeline(engine)

    def broken(*_args: Any, **_kwargs: Any) -> int:
        raise RuntimeError("no touching today")

    monkeypatch.setattr(storing, "touch_unchanged", broken)
    for item in unchanged:
        pipe.process_item(item)
    pipe.process_item(
        posting(external_id="new-1", title="Plant Manager", url="https://x.example/new-1")
    )
    pipe.close_spider()
    assert _seen_since(engine, 1) == 1  # the new posting's sighting only
    assert (pipe.totals.new, pipe.totals.unchanged, pipe.failed_batches) == (1, 0, 1)
    assert pipe.crawler.stats.get_value("andon/store/failed_batches") == 1
    assert pipe.crawler.stats.get_value("andon/store/unchanged") is None


def test_waiting_unchanged_items_move_while_the_crawl_is_idle(
    engine: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(storing, "IDLE_TOUCHES", 3)
    unchanged = _stored(engine, 4)
    pipe, _spider = _pipeline(engine)
    for item in unchanged[:2]:
        pipe.process_item(item)
    pipe.process_item(
        posting(external_id="new-1", title="Plant Manager", url="https://x.example/1")
    )
    pipe.last_item_at -= 2 * storing.IDLE_S
    pipe._tick()
    assert _seen_since(engine, 1) == 0  # idle, but too few unchanged items wait
    pipe.process_item(unchanged[2])
    pipe._tick()
    assert _seen_since(engine, 1) == 0  # enough wait, but an item just came
    pipe.last_item_at -= 2 * storing.IDLE_S
    pipe._tick()
    assert pipe.touches == [] and len(pipe.buffer) == 1  # the postings still wait for a batch
    assert _seen_since(engine, 1) == 3
    pipe.process_item(unchanged[3])
    pipe.close_spider()
    assert _seen_since(engine, 1) == 4 + 1
    assert pipe.crawler.stats.get_value("andon/store/unchanged") == 4
