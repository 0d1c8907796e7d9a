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
"""

from __future__ import annotations

import gc
import inspect
import logging
from collections.abc import Callable
from typing import Any

from scrapy.exceptions import NotConfigured
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.internet.defer import Deferred

log = logging.getLogger(__name__)

STAGES_SETTING = "ANDON_PIPELINE_STAGES"


class StageChainPipeline:
    """Runs the configured stages' `open_spider`, `process_item` and `close_spider` in order."""

    def __init__(self, stages: list[Any]) -> None:
        self.stages = stages
        # bound once: the per-item loop only calls them
        self._process: tuple[Callable[[Any], Any], ...] = tuple(
            s.process_item for s in stages if hasattr(s, "process_item")
        )
        # The heap is out of the cyclic collector's sight from the first item to the close
        # (`gc.freeze`). What a crawl builds once and keeps (the role profile, the place
        # gazetteer with its alternate names: ~220,000 objects the collector tracks, ~320,000
        # with the imports) lives in its oldest generation, and each full collection the crawl's
        # allocations set off walked all of it again (`python -m bench ingest`'s run: 1.18 s of
        # full collections -> 0.67). Unfrozen at the close, garbage made before (and any cycles
        # in it) is collected as before; objects made during the crawl are collected as usual.
        # Crawls at once in one process: the first to close gives the heap back and the others
        # run on without the freeze (a cost, never a leak).
        self._froze = False

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
        return cls(stages)

    def open_spider(self) -> None:
        for stage in self.stages:
            if hasattr(stage, "open_spider"):
                _plain(stage.open_spider(), stage, "open_spider")

    def process_item(self, item: Any) -> Any:
        # what Scrapy's chain does with these stages: each one's result is the next one's item
        try:
            for process in self._process:
                item = process(item)
        finally:
            if not self._froze:
                self._froze = True
                gc.freeze()  # after the first item, which built what the crawl keeps
        return item

    def close_spider(self) -> None:
        """Close the stages last to first (as Scrapy closes item pipelines), every one of them
        even when one fails; the first failure is raised after."""
        error: BaseException | None = None
        if self._froze:
            self._froze = False
            gc.unfreeze()
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
