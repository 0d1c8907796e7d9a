"""`StageChainPipeline`: andon's item stages as one Scrapy item pipeline, called in-process.

Scrapy runs each item pipeline's `process_item` through its own await chain: per item and per
stage a name for its deprecation warning, an awaitable check and a coroutine wrapping the plain
return value. Andon's five stages are plain functions of the item, so one pipeline calls them in
order: the same stages, the same order, the same results, with Scrapy's chain once per item
instead of five times (~11 ms less CPU in a 2,000-item re-crawl, `python -m bench ingest`).

The stages are named by class path with an order in the `ANDON_PIPELINE_STAGES` setting (a map as
`ITEM_PIPELINES` is: lowest first, `None` disables one; `spiders.settings.scrapy_settings` sets it
to `PIPELINE_STAGES`) and built as Scrapy builds item pipelines (`from_crawler`, a `NotConfigured`
one left out). Each stage class still works alone in `ITEM_PIPELINES`. A stage's `process_item` that
raises `DropItem` ends the item there, as it does in Scrapy's chain. A stage whose methods are
coroutines or take the spider (Scrapy's deprecated signature) is refused; one must not return a
Deferred from `process_item` either (nothing here would wait for it): such stages belong in
`ITEM_PIPELINES`.

The pipeline worker (`pipeline.offload`, the `ANDON_PIPELINE_WORKER` setting): the stages that
split their work in `compute` and `apply` (relevance, normalize), when they follow one another,
have `compute` run in one forked process beside the crawl while the crawl process runs Scrapy, the
stages before them (skip) and after them (dedup, store) and their `apply`: the same stats, drops,
log lines and rows, from two CPUs. The worker starts with the first item it is for (after the
stages' `warm`, which that item would have paid for in-process); `process_item` then returns an
asyncio future that Scrapy awaits. It needs Scrapy's asyncio reactor (without it the chain runs
in-process) and fork (Linux). Off by default: on the bench's 2,000-item crawls it was slower than
in-process (the crawl process stays the bottleneck, with Scrapy and the store; the worker starts
with cold memos each crawl and adds a tail); off, every stage runs here as above.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import Any

from scrapy.exceptions import NotConfigured
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.internet.defer import Deferred

from pipeline.offload import Offload, Splittable

log = logging.getLogger(__name__)

STAGES_SETTING = "ANDON_PIPELINE_STAGES"
WORKER_SETTING = "ANDON_PIPELINE_WORKER"
NUDGES = 20  # loop turns `StageChainPipeline._nudge` waits for Scrapy's item tasks to end


class StageChainPipeline:
    """Runs the configured stages' `open_spider`, `process_item` and `close_spider` in order."""

    def __init__(self, stages: list[Any], *, worker: bool = False) -> None:
        self.stages = stages
        # bound once: the per-item loop only calls them
        self._process: tuple[Callable[[Any], Any], ...] = tuple(
            s.process_item for s in stages if hasattr(s, "process_item")
        )
        self.worker = worker
        self.crawler: Any = None  # set by from_crawler: the worker nudges its engine
        self._offload: Offload | None = None
        self._before: tuple[Callable[[Any], Any], ...] = ()  # the stages before the worker's

    @classmethod
    def from_crawler(cls, crawler: Any) -> StageChainPipeline:
        paths = build_component_list(crawler.settings.getdict(STAGES_SETTING))
        if not paths:
            raise ValueError(f"{STAGES_SETTING} names no stage: nothing would be stored")
        stages = []
        for path in paths:
            try:
                stage = build_from_crawler(load_object(path), crawler)
            except NotConfigured as exc:
                # as Scrapy's own pipeline manager does with an item pipeline
                log.warning("Disabled stage %s: %s", path, exc.args[0] if exc.args else "")
                continue
            _check_plain(stage, path)
            stages.append(stage)
        chain = cls(stages, worker=crawler.settings.getbool(WORKER_SETTING, False))
        chain.crawler = crawler
        return chain

    def open_spider(self) -> None:
        for stage in self.stages:
            if hasattr(stage, "open_spider"):
                _plain(stage.open_spider(), stage, "open_spider")
        if self.worker:
            self._offload = self._start_worker()

    def process_item(self, item: Any) -> Any:
        if self._offload is not None:
            for process in self._before:
                item = process(item)
            return self._offload.submit(item)
        # what Scrapy's chain does with these stages: each one's result is the next one's item
        for process in self._process:
            item = process(item)
        return item

    def _start_worker(self) -> Offload | None:
        """The worker for the first run of splittable stages, or None (all run in-process)."""
        stages = [s for s in self.stages if hasattr(s, "process_item")]
        first = next((i for i, s in enumerate(stages) if isinstance(s, Splittable)), None)
        if first is None:
            return None
        end = first
        while end < len(stages) and isinstance(stages[end], Splittable):
            end += 1
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.info("no asyncio loop (Scrapy's asyncio reactor): the stages run in-process")
            return None
        then = [s.process_item for s in stages[end:]]
        # started with the first item for it (`Offload.begin`)
        offload = Offload(stages[first:end], then, loop, lambda: self._nudge(loop, NUDGES))
        self._before = tuple(s.process_item for s in stages[:first])
        return offload

    def _nudge(self, loop: asyncio.AbstractEventLoop, tries: int) -> None:
        """Have Scrapy's engine check now whether the crawl is over.

        Scrapy checks it when a request or an output of the spider's `start()` is handled, and
        else every 5 s (its heartbeat): items of `start()` that the worker still held when the
        last one came would keep the crawl open that long. Their Scrapy tasks end a few loop
        turns after the worker's results, so this looks again for up to `tries` turns.
        """
        if self._offload is None or self._offload.queue:
            return  # more items are on their way, whose end calls this again
        try:
            engine: Any = self.crawler.engine
            # Scrapy has no public call for it: the engine's own "look again" (a CallLaterOnce)
            nextcall = engine._slot.nextcall
            idle = engine.spider_is_idle()
        except (AttributeError, RuntimeError):
            return  # no crawl running (not yet, or closing)
        if idle:
            nextcall.schedule()
        elif tries > 0:
            loop.call_soon(self._nudge, loop, tries - 1)

    def close_spider(self) -> None:
        """Close the stages last to first (as Scrapy closes item pipelines), every one of them
        even when one fails; the first failure is raised after. The worker ends first."""
        error: BaseException | None = None
        if self._offload is not None:
            offload, self._offload = self._offload, None
            try:
                offload.close()
            except Exception as exc:
                log.exception("the pipeline worker did not close")
                error = exc
        for stage in reversed(self.stages):
            if not hasattr(stage, "close_spider"):
                continue
            try:
                _plain(stage.close_spider(), stage, "close_spider")
            except Exception as exc:
                log.exception("%s.close_spider failed", type(stage).__name__)
                error = error or exc
        if error is not None:
            raise error


def _check_plain(stage: Any, path: str) -> None:
    """Refuse a stage the chain cannot call as Scrapy would: a coroutine, or one taking the spider
    (Scrapy's deprecated signature)."""
    for name in ("open_spider", "process_item", "close_spider"):
        method = getattr(stage, name, None)
        if method is None:
            continue
        if inspect.iscoroutinefunction(method):
            raise TypeError(f"{path}.{name} is a coroutine: put it in ITEM_PIPELINES")
        if "spider" in inspect.signature(method).parameters:
            raise TypeError(f"{path}.{name} takes the spider: put it in ITEM_PIPELINES")


def _plain(result: Any, stage: Any, name: str) -> None:
    """Refuse an awaitable where a plain call was expected (it would never be awaited)."""
    if isinstance(result, Deferred) or inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()
        raise TypeError(f"{type(stage).__name__}.{name} returned an awaitable: not a chain stage")
