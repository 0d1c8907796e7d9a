"""Poison postings on SQLite and PostgreSQL: cleaned for storage, and one refused row costs one posting."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector
from sqlalchemy import func, select
from sqlmodel import col

import db
import pipeline.store
from pipeline.models import CrawlRun, Posting, PostingSource
from pipeline.storable import MAX_DESCRIPTION, MAX_TITLE, make_storable, storable_id, storable_text
from pipeline.store import store_batch
from pipeline.storing import StorePostingPipeline
from tests.factories import T0, posting

# A description with ~250,000 distinct words: its tsvector would be ~3 MB, over PostgreSQL's 1 MB.
HUGE = " ".join(f"w{n:x}" for n in range(250_000))


def poison() -> list[Any]:
    items = [
        posting(external_id="surrogate", title="Production Manager \ud800 Nights"),
        posting(external_id="nul", title="Production Supervisor", description_text="a\x00b"),
        posting(external_id="long-title", title="Production Manager " + "W" * 5000),
        posting(external_id="huge", title="Plant Manager", description_text=HUGE),
        posting(external_id="x" * 3000, title="Long Id Manager"),
        posting(
            external_id="long-url",
            title="Long Url Manager",
            url="https://acme.example/jobs/" + "a" * 3000,
            req_id="r" * 3000,
        ),
    ]
    return [
        p if p.external_id == "long-url" else replace(p, url=f"https://acme.example/p/{n}")
        for n, p in enumerate(items)
    ]


def good(n: int) -> list[Any]:
    return [
        posting(
            external_id=f"good-{i}",
            title=f"Production Manager {i}",
            url=f"https://acme.example/jobs/{i}",
            description_text=f"Lead shift {i} of the bottling line number {i}.",
        )
        for i in range(n)
    ]


def test_storable_text_drops_what_no_database_takes():
    text = "a\x00b\ud800c\ufffed\U0010ffffe\x1b[31mf\x85g\tline\nnext"
    assert storable_text(text) == "abcde[31mfg\tline\nnext"


def test_make_storable_cuts_long_fields_and_names_them():
    item, changed = make_storable(posting(title="T\u202e " + "W" * 5000, description_text=HUGE))
    assert len(item.title) <= MAX_TITLE and "\u202e" not in item.title
    assert len(item.description_text) <= MAX_DESCRIPTION
    assert changed == ["description_text", "title"]
    same, none = make_storable(posting())
    assert none == [] and same == posting()


def test_long_ids_stay_distinct():
    a, b = "x" * 500 + "a", "x" * 500 + "b"
    assert storable_id(a) != storable_id(b)
    assert len(storable_id(a)) <= 200 and storable_id("short") == "short"


def test_poison_postings_are_stored_cleaned(engine):
    with db.session_scope(engine) as s:
        result = store_batch(s, good(20) + poison(), now=T0)
    assert result.new == 26
    assert result.cleaned["title"] == 2 and result.cleaned["external_id"] == 1
    with db.session_scope(engine) as s:
        titles = set(s.execute(select(col(Posting.title))).scalars())
        assert "Production Manager Nights" in titles
        assert s.execute(select(func.count()).select_from(PostingSource)).scalar_one() == 26


class _Spider:
    """What the store pipeline needs of a spider: a source and `fail()`."""

    name = "greenhouse"

    def __init__(self) -> None:
        self.source = SimpleNamespace(name="acme", kind="greenhouse")
        self.errors: list[str] = []

    def fail(self, message: str, *, url: str | None, key: str) -> None:
        self.errors.append(f"acme (greenhouse): {message}")


def _pipeline(engine: Any) -> tuple[StorePostingPipeline, Any]:
    spider = _Spider()
    crawler = SimpleNamespace(spider=spider, settings=Settings(), signals=None)
    crawler.stats = MemoryStatsCollector(crawler)  # type: ignore[arg-type]  # a stand-in crawler
    pipe = StorePostingPipeline(crawler, engine, batch_size=200, max_delay=60)
    pipe.open_spider()
    pipe._timer.stop()
    return pipe, spider


def test_a_refused_row_costs_that_posting_only(engine, monkeypatch):
    """Cleaning switched off: the database refuses the poison rows, the batch is retried item by item."""
    monkeypatch.setattr(pipeline.store, "make_storable", lambda item: (item, []))
    pipe, spider = _pipeline(engine)
    items = good(440)
    items[100:100] = [posting(external_id="surrogate", title="Production Manager \ud800")]
    for item in items:
        pipe.process_item(item)
    pipe.close_spider()
    pipe.crawler.stats.set_value("item_scraped_count", len(items))
    pipe.spider_closed(spider, "finished")
    with db.session_scope(engine) as s:
        stored = set(s.execute(select(col(PostingSource.external_id))).scalars())
        run = s.execute(select(CrawlRun)).scalar_one()
    assert stored == {f"good-{i}" for i in range(440)}
    assert len(spider.errors) == 1 and "'surrogate'" in spider.errors[0]
    assert pipe.crawler.stats.get_value("andon/store/failed_items") == 1
    assert (run.status, run.errors, run.new) == ("partial", 1, 440)
    assert "could not store posting 'surrogate'" in run.message
