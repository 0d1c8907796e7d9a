"""`pipeline.chain.StageChainPipeline`: andon's stages as one Scrapy item pipeline.

The unit tests use recording stages; the comparison runs real Scrapy crawls through the chain and
through the same five stages listed in ITEM_PIPELINES, and expects the same stats and rows.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.test import get_crawler
from sqlalchemy import select
from sqlmodel import col

import db
from pipeline.chain import STAGES_SETTING, StageChainPipeline
from pipeline.models import CrawlRun, DroppedItem, Posting, PostingSource
from spiders.items import JobItem
from spiders.settings import PIPELINE_STAGES
from tests.pipeline.test_fingerprint import DAY1, DAY2, crawl, items

PROJECT = Path(__file__).resolve().parents[2]
HERE = "tests.pipeline.test_chain"
CALLS: list[str] = []


class _Recording:
    """A stage that notes each call and appends its name to the item (a list)."""

    name = "?"

    @classmethod
    def from_crawler(cls, crawler: Any) -> _Recording:
        return cls()

    def open_spider(self) -> None:
        CALLS.append(f"open {self.name}")

    def process_item(self, item: list[str]) -> list[str]:
        CALLS.append(f"item {self.name}")
        if "drop" in item and self.name == "b":
            raise DropItem("dropped by b")
        return [*item, self.name]

    def close_spider(self) -> None:
        CALLS.append(f"close {self.name}")


class StageA(_Recording):
    name = "a"


class StageB(_Recording):
    name = "b"


class StageC(_Recording):
    name = "c"


class FailsToClose(_Recording):
    name = "f"

    def close_spider(self) -> None:
        CALLS.append("close f")
        raise RuntimeError("cannot close")


class NotWanted(_Recording):
    @classmethod
    def from_crawler(cls, crawler: Any) -> NotWanted:
        raise NotConfigured("not in this crawl")


class AsyncStage:
    async def process_item(self, item: Any) -> Any:
        return item


class SpiderStage:
    def process_item(self, item: Any, spider: Any) -> Any:
        return item


def chain(stages: dict[str, int | None]) -> StageChainPipeline:
    CALLS.clear()
    crawler = get_crawler(settings_dict={STAGES_SETTING: stages})
    return StageChainPipeline.from_crawler(crawler)


def test_stages_run_in_their_order_and_close_last_to_first():
    # listed out of order, as ITEM_PIPELINES may be: the numbers decide; None leaves one out
    pipe = chain({f"{HERE}.StageC": 30, f"{HERE}.StageA": 10, f"{HERE}.StageB": 20,
                  f"{HERE}.NotWanted": 5, f"{HERE}.FailsToClose": None})  # fmt: skip
    pipe.open_spider()
    assert pipe.process_item(["x"]) == ["x", "a", "b", "c"]
    pipe.close_spider()
    assert CALLS == ["open a", "open b", "open c", "item a", "item b", "item c",
                     "close c", "close b", "close a"]  # fmt: skip


def test_a_drop_ends_the_item_where_it_is_raised():
    pipe = chain({f"{HERE}.StageA": 10, f"{HERE}.StageB": 20, f"{HERE}.StageC": 30})
    with pytest.raises(DropItem, match="dropped by b"):
        pipe.process_item(["drop"])
    assert CALLS == ["item a", "item b"]


def test_every_stage_closes_when_one_fails_and_the_failure_is_raised():
    pipe = chain({f"{HERE}.StageA": 10, f"{HERE}.FailsToClose": 20, f"{HERE}.StageC": 30})
    with pytest.raises(RuntimeError, match="cannot close"):
        pipe.close_spider()
    assert CALLS == ["close c", "close f", "close a"]


def test_a_coroutine_stage_a_spider_taking_stage_or_no_stage_is_refused():
    with pytest.raises(TypeError, match="coroutine"):
        chain({f"{HERE}.AsyncStage": 10})
    with pytest.raises(TypeError, match="takes the spider"):
        chain({f"{HERE}.SpiderStage": 10})
    with pytest.raises(ValueError, match="names no stage"):
        chain({})


def run_crawls(
    db_url: str, tmp_path: Path, pipelines: dict[str, int], crawls: list[list[JobItem]]
) -> list[dict[str, Any]]:
    batches = [{"items": batch} for batch in crawls]
    return crawl(db_url, tmp_path, *batches, item_pipelines=pipelines)


def _comparable(stats: dict[str, Any]) -> dict[str, Any]:
    """What the stages decided: andon's counters and Scrapy's item counts (not times)."""
    return {
        k: v
        for k, v in stats.items()
        if k.startswith(("andon/", "item_")) and k != "andon/store/batches"
    }


# when the crawl ran, not what it decided
_CLOCK_READINGS = ("id", "first_seen_at", "last_seen_at", "listed_at", "closed_at")


def _rows(url: str) -> dict[str, Any]:
    """The stored postings (with their fingerprints), remembered drops and crawl runs."""
    engine = db.make_engine(url)
    try:
        with db.session_scope(engine) as s:
            query = select(col(PostingSource.external_id), col(PostingSource.fingerprint), Posting)
            postings = {
                ext: (fp, p.closed_at is not None, {k: v for k, v in p.model_dump().items()
                                                    if k not in _CLOCK_READINGS})
                for ext, fp, p in s.execute(query.join(Posting))
            }  # fmt: skip
            columns = (DroppedItem.external_id, DroppedItem.fingerprint, DroppedItem.reason)
            drops = sorted(s.execute(select(*map(col, columns))).tuples())
            runs = [
                (r.status, r.fetched, r.kept, r.dropped, r.new, r.updated, r.closed)
                for r in s.execute(select(CrawlRun).order_by(col(CrawlRun.id))).scalars()
            ]
            return {"postings": postings, "drops": drops, "runs": runs}
    finally:
        engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_chain_stores_what_the_five_scrapy_pipelines_store(db_url, tmp_path):
    """Same stats, same rows, same drops over a first crawl and a re-crawl that has unchanged,
    changed, remembered-irrelevant, irrelevant, repeated and missing items."""
    first = items(8, crawled_at=DAY1)
    first[5] = replace(first[5], title="Software Engineer, Production Systems")  # irrelevant
    second = [
        replace(i, salary_text="$140,000 per year") if i.external_id.endswith(":2") else i
        for i in items(8, crawled_at=DAY2)[:7]  # :7 is gone
    ]
    second[5] = replace(second[5], title="Software Engineer, Production Systems")  # dropped again
    second[6] = replace(second[6], title="Video Production Manager")  # newly irrelevant
    second.append(second[0])  # a repeat within the crawl
    second.append(items(10, crawled_at=DAY2)[9])  # new
    crawls = [first, second]
    other = tmp_path / "other.db"
    other_url = f"sqlite:///{other}"
    eng = db.make_engine(other_url)
    db.migrate(eng)
    eng.dispose()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    chained = run_crawls(db_url, tmp_path / "a", {"pipeline.chain.StageChainPipeline": 100}, crawls)
    separate = run_crawls(other_url, tmp_path / "b", dict(PIPELINE_STAGES), crawls)
    assert [_comparable(s) for s in chained] == [_comparable(s) for s in separate]
    # the comparison sees every path: unchanged, changed, dropped again, judged, repeated, new
    got = chained[1]
    assert got["andon/fingerprint/unchanged"] == 5  # four items and the repeat
    assert got["andon/store/unchanged"] == 4
    assert got["andon/fingerprint/changed"] == 2
    assert got["andon/store/updated"] == 1  # the other changed one is now irrelevant
    assert got["andon/fingerprint/dropped_unchanged"] == 1
    assert got["andon/dedup/repeat_in_crawl"] == 1
    assert got["andon/store/new"] == 1
    assert got["andon/store/closed"] == 2  # the one gone and the one now irrelevant
    assert _rows(db_url) == _rows(other_url)
