"""`pipeline.chain.StageChainPipeline`: andon's stages as one Scrapy item pipeline.

The unit tests use recording stages; the comparison runs real Scrapy crawls through the chain and
through the same five stages listed in ITEM_PIPELINES, and expects the same stats and rows.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.test import get_crawler
from sqlalchemy import select
from sqlmodel import col

import db
from pipeline.chain import STAGES_SETTING, WORKER_SETTING, StageChainPipeline
from pipeline.models import CrawlRun, DroppedItem, Posting, PostingSource
from pipeline.offload import Offload
from pipeline.record import CleanPosting
from spiders.items import JobItem
from spiders.settings import PIPELINE_STAGES
from tests.pipeline.test_fingerprint import DAY1, DAY2, _jsonable, crawl, items

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


def chain(stages: Mapping[str, int | None], worker: bool | None = None) -> StageChainPipeline:
    CALLS.clear()
    crawler = get_crawler(settings_dict={STAGES_SETTING: dict(stages), WORKER_SETTING: worker})
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


class Passing:
    """A plain stage that notes each item and passes it on."""

    def process_item(self, item: Any) -> Any:
        CALLS.append(f"{type(self).__name__} {getattr(item, 'key', item)!s}")
        return item


class Before(Passing):
    pass


class After(Passing):
    pass


OFFLOAD_TESTS = "tests.pipeline.test_offload"


def test_the_chain_computes_its_split_stages_in_the_worker():
    """The first run of split stages goes to the worker, the stages before and after it run
    here, in order; a drop ends the item; without a worker the same comes out."""
    from tests.pipeline.test_offload import Doc

    stages = {f"{HERE}.Before": 10, f"{OFFLOAD_TESTS}.Judge": 20, f"{OFFLOAD_TESTS}.Shape": 30,
              f"{HERE}.After": 40}  # fmt: skip

    def run(worker: bool) -> tuple[list[Any], list[str], list[str]]:
        async def main() -> tuple[list[Any], list[str], list[str]]:
            pipe = chain(stages, worker=worker)
            pipe.open_spider()
            split = [type(s).__name__ for s in pipe._offload.stages] if pipe._offload else []
            # forked with the first item for it, not at open (a crawl's requests go first)
            assert pipe._offload is None or not pipe._offload.alive
            docs = [Doc("a", "text"), Doc("b", "drop"), Doc("c", "text")]
            results = await asyncio.gather(
                *(_settle(pipe, doc) for doc in docs), return_exceptions=True
            )
            pipe.close_spider()
            return (
                [r if not isinstance(r, Exception) else repr(r) for r in results],
                split,
                [*CALLS],
            )

        return asyncio.run(main())

    got, split, calls = run(True)
    assert split == ["Judge", "Shape"]
    expected, none, plain_calls = run(False)
    assert none == []
    assert (
        got
        == expected
        == [("a", "TEXT", ("kept",)), "DropItem('dropped b')", ("c", "TEXT", ("kept",))]
    )
    for stage in ("Before", "After"):  # each stage saw the same items in the same order
        assert [c for c in calls if c.startswith(stage)] == [
            c for c in plain_calls if c.startswith(stage)
        ]
    assert calls[:3] == ["Before a", "Before b", "Before c"]
    assert calls[3:] == ["After ('a', 'TEXT', ('kept',))", "After ('c', 'TEXT', ('kept',))"]


async def _settle(pipe: StageChainPipeline, item: Any) -> Any:
    """What Scrapy gets from the chain: the item, or what it awaits for it."""
    out = pipe.process_item(item)
    return await out if isinstance(out, asyncio.Future) else out


def test_without_an_asyncio_loop_the_chain_runs_in_process():
    from tests.pipeline.test_offload import Doc

    pipe = chain({f"{OFFLOAD_TESTS}.Judge": 20, f"{OFFLOAD_TESTS}.Shape": 30}, worker=True)
    pipe.open_spider()
    assert pipe._offload is None
    assert pipe.process_item(Doc("a", "text")) == ("a", "TEXT", ("kept",))
    pipe.close_spider()


class FakeEngine:
    """Scrapy's engine as `StageChainPipeline._nudge` sees it: idle after `busy` looks."""

    def __init__(self, busy: int) -> None:
        self.busy = busy
        self.spider = object()
        self.scheduled = 0
        self._slot = self
        self.nextcall = self

    def spider_is_idle(self) -> bool:
        self.busy -= 1
        return self.busy < 0

    def schedule(self) -> None:
        self.scheduled += 1


@pytest.mark.parametrize(("busy", "scheduled"), [(0, 1), (5, 1), (500, 0)])
def test_the_worker_has_the_engine_look_again_once_scrapy_is_done_with_the_items(busy, scheduled):
    async def main() -> FakeEngine:
        loop = asyncio.get_running_loop()
        pipe = chain({f"{HERE}.StageA": 10})
        pipe._offload = Offload([], [], loop)  # an empty queue
        pipe.crawler.engine = engine = FakeEngine(busy)
        pipe._nudge(loop, 20)
        for _ in range(30):
            await asyncio.sleep(0)
        pipe._offload = None
        return engine

    assert asyncio.run(main()).scheduled == scheduled


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


# -- the pipeline worker (pipeline.offload) ----------------------------------------------------


class WorkerProbe:
    """A split stage after normalize: counts in the stats whether its `compute` ran in another
    process, and kills that process at the posting whose external id ends with `KILL_AT`."""

    KILL_AT = os.environ.get("ANDON_TEST_KILL_WORKER_AT")

    def __init__(self, stats: Any) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> WorkerProbe:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        return self.apply(item, self.compute(item))

    def handles(self, item: Any) -> bool:
        return isinstance(item, CleanPosting)

    def compute(self, item: Any) -> int | None:
        if not isinstance(item, CleanPosting):
            return None
        worker = multiprocessing.parent_process() is not None
        if worker and self.KILL_AT and item.external_id.endswith(self.KILL_AT):
            os.kill(os.getpid(), signal.SIGKILL)
        return os.getpid()

    @staticmethod
    def advance(item: Any, result: int | None) -> Any:
        return item

    def apply(self, item: Any, result: int | None) -> Any:
        if result is not None:
            where = "here" if result == os.getpid() else "worker"
            self.stats.inc_value(f"test/computed/{where}")
        return item


def feed(
    db_url: str, tmp_path: Path, crawls: list[list[JobItem]], settings: dict[str, Any], env: Any
) -> list[dict[str, Any]]:
    """`tests.pipeline.feed_crawl` with more Scrapy settings and environment."""
    plan = {
        "database_url": db_url,
        "settings": settings,
        "crawls": [{"items": [_jsonable(i) for i in batch]} for batch in crawls],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    proc = subprocess.run(
        [sys.executable, "-m", "tests.pipeline.feed_crawl", str(path)],
        cwd=PROJECT, capture_output=True, text=True, timeout=600, env={**os.environ, **env},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == len(crawls), proc.stdout + proc.stderr[-3000:]
    return lines


def _two_crawls() -> list[list[JobItem]]:
    """A first crawl and a re-crawl with unchanged, changed, irrelevant, repeated, new items."""
    first = items(30, crawled_at=DAY1)
    first[5] = replace(first[5], title="Software Engineer, Production Systems")
    first[9] = replace(first[9], company="")  # unusable: dropped by normalize
    second = [
        replace(i, salary_text="$140,000 per year") if i.external_id.endswith("2") else i
        for i in items(30, crawled_at=DAY2)[:28]
    ]
    second[5] = replace(second[5], title="Software Engineer, Production Systems")
    second[6] = replace(second[6], title="Video Production Manager")
    second.insert(15, second[3])  # a repeat of an unchanged item among items for the worker
    second.insert(20, second[12])  # a repeat of a changed one
    second.extend(items(34, crawled_at=DAY2)[30:])
    return [first, second]


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="the worker is forked (Linux)"
)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_worker_stores_what_the_chain_stores_in_process_even_when_it_dies(db_url, tmp_path):
    """Worker on, worker off, and a worker killed in the middle of the first crawl: the same
    stats, postings, fingerprints, remembered drops and runs."""
    stages = {**PIPELINE_STAGES, f"{HERE}.WorkerProbe": 250}
    runs: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {}
    for name, worker, kill_at in (("on", True, ""), ("off", False, ""), ("killed", True, ":17")):
        url = db_url if name == "on" else f"sqlite:///{tmp_path / name}.db"
        if name != "on":
            eng = db.make_engine(url)
            db.migrate(eng)
            eng.dispose()
        (tmp_path / name).mkdir()
        settings = {STAGES_SETTING: stages, WORKER_SETTING: worker}
        env = {"ANDON_TEST_KILL_WORKER_AT": kill_at}
        runs[name] = (feed(url, tmp_path / name, _two_crawls(), settings, env), _rows(url))

    def decided(stats: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in _comparable(stats).items() if not k.startswith("test/")}

    expected_stats, expected_rows = runs["off"]
    for name in ("on", "killed"):
        stats, rows = runs[name]
        assert [decided(s) for s in stats] == [decided(s) for s in expected_stats], name
        assert rows == expected_rows, name
    # every path was taken
    second = expected_stats[1]
    assert second["andon/dedup/repeat_in_crawl"] == 2
    assert second["andon/fingerprint/dropped_unchanged"] == 1
    assert second["andon/store/new"] == 5  # four new, one unusable before
    assert second["andon/store/updated"] >= 1
    assert expected_stats[0]["andon/drop/no_company"] == 1
    # where compute ran: here without the worker; in it with one; both when it was killed
    assert all(s["test/computed/here"] > 0 and "test/computed/worker" not in s
               for s in expected_stats)  # fmt: skip
    assert all(s["test/computed/worker"] > 0 and "test/computed/here" not in s
               for s in runs["on"][0])  # fmt: skip
    killed = runs["killed"][0]
    assert killed[0]["test/computed/worker"] > 0 and killed[0]["test/computed/here"] > 0
    assert killed[0]["andon/store/new"] == expected_stats[0]["andon/store/new"]
