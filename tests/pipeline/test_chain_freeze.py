"""The chain keeps what its first item built (the profile, the gazetteer) out of the cyclic
collector's walks while its crawl runs, and gives it back at its close."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.chain import StageChainPipeline


class _Stage:
    def process_item(self, item: Any) -> Any:
        return item


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_the_heap_is_frozen_after_the_first_item_and_unfrozen_at_the_close() -> None:
    chain = StageChainPipeline([_Stage()])
    chain.open_spider()
    assert gc.get_freeze_count() == 0  # the first item builds what a crawl keeps
    chain.process_item({"n": 1})
    assert gc.get_freeze_count() > 0
    chain.process_item({"n": 2})
    chain.close_spider()
    assert gc.get_freeze_count() == 0


def test_two_crawls_at_once_give_the_heap_back_at_the_first_close() -> None:
    first, second = StageChainPipeline([_Stage()]), StageChainPipeline([_Stage()])
    for chain in (first, second):
        chain.open_spider()
        chain.process_item({})
    first.close_spider()
    assert gc.get_freeze_count() == 0  # the other crawl runs on without it: no leak
    second.process_item({})
    second.close_spider()
    assert gc.get_freeze_count() == 0


def test_a_crawl_without_items_freezes_nothing() -> None:
    chain = StageChainPipeline([_Stage()])
    chain.open_spider()
    chain.close_spider()
    assert gc.get_freeze_count() == 0
