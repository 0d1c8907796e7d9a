"""`pipeline.offload`: split stages computed in a forked worker give what they give in-process.

Each test runs an asyncio loop with a real worker process and compares with the stages' own
`process_item` called in order, as the chain calls them without a worker.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from scrapy.exceptions import DropItem

from pipeline import offload
from pipeline.offload import Offload, Splittable, compute_all

log = logging.getLogger("tests.offload")
pytestmark = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="the worker is forked (Linux)"
)


@dataclass
class Doc:
    key: str
    text: str
    notes: list[str] = field(default_factory=list)
    hook: Any = None  # an unpicklable value (a lambda) makes the item unpicklable


def in_worker() -> bool:
    return multiprocessing.parent_process() is not None


class Judge:
    """Like the relevance stage: a verdict, counted; "drop" in the text drops the item."""

    def __init__(self, kill_at: str | None = None) -> None:
        self.counts: Counter[str] = Counter()
        self.pids: set[int] = set()
        self.kill_at = kill_at

    def process_item(self, item: Any) -> Any:
        return self.apply(item, self.compute(item))

    def handles(self, item: Any) -> bool:
        return isinstance(item, Doc)

    def compute(self, item: Any) -> tuple[bool, int] | None:
        if not isinstance(item, Doc):
            return None
        if item.key == self.kill_at and in_worker():
            os.kill(os.getpid(), signal.SIGKILL)
        if "boom" in item.text:
            raise ValueError(f"boom in {item.key}")
        if "log" in item.text:
            log.warning("odd text in %s", item.key)
        return "drop" not in item.text, os.getpid()

    @staticmethod
    def advance(item: Any, result: tuple[bool, int] | None) -> Any:
        if result is None:
            return item
        if not result[0]:
            return None
        item.notes.append("kept")
        return item

    def apply(self, item: Any, result: tuple[bool, int] | None) -> Any:
        if result is None:
            return item
        self.pids.add(result[1])
        if result[0]:
            self.counts["kept"] += 1
            self.advance(item, result)
            return item
        self.counts["dropped"] += 1
        raise DropItem(f"dropped {item.key}")


class Shape:
    """Like the normalize stage: a new object from the item."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def process_item(self, item: Any) -> Any:
        return self.apply(item, self.compute(item))

    def handles(self, item: Any) -> bool:
        return isinstance(item, Doc)

    def compute(self, item: Any) -> tuple[str, str, tuple[str, ...]] | None:
        if not isinstance(item, Doc):
            return None
        return item.key, item.text.upper(), tuple(item.notes)

    @staticmethod
    def advance(item: Any, result: Any) -> Any:
        return item if result is None else result

    def apply(self, item: Any, result: Any) -> Any:
        if result is not None:
            self.counts["shaped"] += 1
        return self.advance(item, result)


class Tail:
    """The stages after the worker's (dedup, store): notes what reaches it, in order."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    def process_item(self, item: Any) -> Any:
        self.seen.append(item)
        return item


def docs() -> list[Any]:
    out: list[Any] = []
    for i in range(40):
        text = "drop" if i % 7 == 3 else "log" if i % 11 == 5 else f"text {i}"
        out.append(Doc(f"k{i}", text))
        if i % 5 == 0:
            out.append(f"plain {i}")  # not handled: goes on without the worker, in its turn
    return out


Outcome = list[tuple[str, Any]]


def in_process(stages: list[Any], tail: Tail, items: list[Any]) -> Outcome:
    outcome: Outcome = []
    for item in items:
        try:
            for stage in [*stages, tail]:
                item = stage.process_item(item)
        except Exception as exc:
            outcome.append(("error", f"{type(exc).__name__}: {exc}"))
        else:
            outcome.append(("ok", item))
    return outcome


def with_worker(
    stages: list[Any],
    tail: Tail,
    items: list[Any],
    turns: int = 4,
    factory: type[Offload] = Offload,
) -> Outcome:
    """The items through an `Offload`, `turns` items per loop turn."""

    async def main() -> Outcome:
        loop = asyncio.get_running_loop()
        work = factory(stages, [tail.process_item], loop)
        work.start()
        pending: list[Any] = []
        try:
            for i, item in enumerate(items):
                try:
                    pending.append(work.submit(item))
                except Exception as exc:
                    done: asyncio.Future[Any] = loop.create_future()
                    done.set_exception(exc)
                    pending.append(done)
                if i % turns == 0:
                    await asyncio.sleep(0)
            results = await asyncio.wait_for(
                asyncio.gather(*pending, return_exceptions=True), timeout=60
            )
        finally:
            work.close()
        assert work.process is None and not offload._CRAWL_FDS  # ended, pipes closed
        return [
            ("error", f"{type(r).__name__}: {r}") if isinstance(r, BaseException) else ("ok", r)
            for r in results
        ]

    return asyncio.run(main())


def test_the_stages_are_splittable():
    assert isinstance(Judge(), Splittable) and isinstance(Shape(), Splittable)


def test_the_worker_gives_what_the_stages_give_in_process_in_the_same_order():
    plain_stages: list[Any] = [Judge(), Shape()]
    plain_tail = Tail()
    expected = in_process(plain_stages, plain_tail, docs())
    stages: list[Any] = [Judge(), Shape()]
    tail = Tail()
    got = with_worker(stages, tail, docs())
    assert got == expected
    assert tail.seen == plain_tail.seen  # what reached the later stages, in the same order
    assert [s.counts for s in stages] == [s.counts for s in plain_stages]
    # computed in another process: the worker's, not this one
    assert len(stages[0].pids) == 1 and os.getpid() not in stages[0].pids
    assert plain_stages[0].pids == {os.getpid()}


class Recording(Offload):
    """Notes the size of each batch sent."""

    sizes: list[int] = []

    def _write(self, data: bytes) -> None:
        self.sizes.append(self.batches[-1])
        super()._write(data)


def test_items_of_one_turn_go_in_batches():
    def items() -> list[Any]:
        return [Doc(f"k{i}", f"text {i}") for i in range(400)]

    Recording.sizes = []
    got = with_worker([Judge(), Shape()], Tail(), items(), turns=1_000, factory=Recording)
    assert got == in_process([Judge(), Shape()], Tail(), items())
    assert sum(Recording.sizes) == 400
    assert max(Recording.sizes) == offload.MAX_BATCH


def test_an_exception_in_compute_is_raised_in_the_crawl_process():
    def items() -> list[Any]:
        return [Doc("a", "text"), Doc("b", "boom"), Doc("c", "text")]

    got = with_worker([Judge(), Shape()], Tail(), items())
    assert got == in_process([Judge(), Shape()], Tail(), items())
    assert got[1] == ("error", "ValueError: boom in b")


def test_log_records_of_the_worker_are_emitted_by_the_crawl_process(caplog):
    with caplog.at_level(logging.WARNING, logger="tests.offload"):
        with_worker(
            [Judge(), Shape()], Tail(), [Doc("a", "text"), Doc("b", "log"), Doc("c", "log")]
        )
    records = [r for r in caplog.records if r.name == "tests.offload"]
    assert [r.getMessage() for r in records] == ["odd text in b", "odd text in c"]
    assert {r.process for r in records} != {os.getpid()}  # made in the worker


def test_when_the_worker_dies_every_item_is_computed_here(caplog):
    plain_stages: list[Any] = [Judge(), Shape()]
    plain_tail = Tail()
    expected = in_process(plain_stages, plain_tail, docs())
    stages: list[Any] = [Judge(kill_at="k20"), Shape()]
    tail = Tail()
    with caplog.at_level(logging.WARNING, logger="pipeline.offload"):
        got = with_worker(stages, tail, docs())
    assert got == expected
    assert tail.seen == plain_tail.seen
    assert [s.counts for s in stages] == [s.counts for s in plain_stages]
    assert len(stages[0].pids) == 2  # some computed in the worker, the rest here
    warnings = [r.getMessage() for r in caplog.records if r.name == "pipeline.offload"]
    assert len(warnings) == 1
    assert "it stopped (exit code -9)" in warnings[0] and "items in flight" in warnings[0]


def test_when_a_batch_cannot_be_pickled_it_and_every_later_item_are_computed_here(caplog):
    def items() -> list[Any]:
        made = [Doc(f"k{i}", f"text {i}") for i in range(30)]
        made[12].hook = lambda: None
        return made

    expected = in_process([Judge(), Shape()], Tail(), items())
    stages: list[Any] = [Judge(), Shape()]
    with caplog.at_level(logging.WARNING, logger="pipeline.offload"):
        got = with_worker(stages, Tail(), items())
    assert got == expected
    warnings = [r.getMessage() for r in caplog.records if r.name == "pipeline.offload"]
    assert len(warnings) == 1 and "could not be pickled" in warnings[0]
    assert os.getpid() in stages[0].pids


class Unpicklable(Shape):
    """Gives a result the worker cannot send back (a lambda) for one item."""

    def compute(self, item: Any) -> Any:
        result = super().compute(item)
        if result is not None and item.key == "k3" and in_worker():
            return lambda: result
        return result


def test_a_result_the_worker_cannot_send_is_computed_here():
    def items() -> list[Any]:
        return [Doc(f"k{i}", f"text {i}") for i in range(8)]

    expected = in_process([Judge(), Shape()], Tail(), items())
    assert with_worker([Judge(), Unpicklable()], Tail(), items()) == expected


def test_compute_all_stops_at_the_stage_that_drops():
    judge, shape = Judge(), Shape()
    assert compute_all([judge, shape], Doc("a", "drop")) == [(False, os.getpid())]
    kept = compute_all([judge, shape], Doc("b", "text"))
    assert kept == [(True, os.getpid()), ("b", "TEXT", ("kept",))]
    (raised,) = compute_all([judge, shape], Doc("c", "boom"))
    assert isinstance(raised, offload._Raised) and "in the pipeline worker" in "".join(
        raised.exc.__notes__
    )


class CannotFork(Offload):
    def start(self) -> None:
        raise OSError("no fork here")


def test_a_worker_that_cannot_start_leaves_the_stages_in_process(caplog):
    async def main() -> Outcome:
        work = CannotFork([Judge(), Shape()], [Tail().process_item], asyncio.get_running_loop())
        outcome: Outcome = []
        for item in docs():
            try:
                outcome.append(("ok", work.submit(item)))  # begins on the first Doc
            except Exception as exc:
                outcome.append(("error", f"{type(exc).__name__}: {exc}"))
        work.close()
        return outcome

    with caplog.at_level(logging.WARNING, logger="pipeline.offload"):
        got = asyncio.run(main())
    assert got == in_process([Judge(), Shape()], Tail(), docs())
    warnings = [r.getMessage() for r in caplog.records if r.name == "pipeline.offload"]
    assert warnings == ["no pipeline worker (no fork here): the stages run in-process"]
