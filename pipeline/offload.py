"""The pipeline worker: the CPU-bound stages of a crawl in one forked process beside the crawl.

Relevance and normalization are pure functions of the item and most of an all-new crawl's CPU;
the crawl process also runs Scrapy, the skip, dedup and store stages. Split in two, a stage that
offers `handles(item)`, `compute(item)` (pure: a picklable result), `advance(item, result)` (what
the next stage gets, None when dropped, without side effects) and `apply(item, result)` (the
side effects: stats, log lines, drops; what `process_item` returns) can have its `compute` run
in the worker while `apply` and every other stage run in the crawl process, on the same results.

Transport: the items of one reactor turn go as one pickled batch over a pipe while fewer than
two batches are in the worker; else they gather until a batch comes back or `MAX_BATCH` of them
wait (Scrapy hands over a spider's start() items one a turn). Results come back in order on
another pipe, read by the asyncio loop (`add_reader`). Each item waits in one FIFO
queue, so items reach the stages after the worker (dedup, store) in the order they came, also
those that skip the worker (an unchanged item, anything the stages do not handle).

The worker is forked (multiprocessing's "fork" context), not spawned: it starts in a few ms with
the crawl's warm state (the compiled role profile, the place gazetteer, the stages' memos and
regexes, built by each stage's `warm` before the fork) where a spawned one would import and build
all of it again (~3 s of CPU: 2 s of imports, 1.4 s for the gazetteer). It ignores Ctrl-C, logs nothing itself (its log records come back with
the results and are emitted by the crawl process) and ends when the crawl closes its pipe.

If the worker dies or a batch cannot be pickled, the items in flight and all later ones are
computed in the crawl process (one warning, with the count): no item is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import gc
import logging
import multiprocessing
import os
import pickle
import signal
import struct
import sys
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

log = logging.getLogger(__name__)

# a batch's items (and results) at most: a result comes back after its whole batch is computed
MAX_BATCH = 128
# batches sent and not yet back: one being computed and one waiting keep the worker busy
MAX_WAITING = 2
PIPE_SIZE = 1 << 20  # Linux's default cap for unprivileged pipes (/proc/sys/fs/pipe-max-size)
_HEAD = struct.Struct("!Q")
_PROTOCOL = pickle.HIGHEST_PROTOCOL
_JOIN_S = 5.0

# The crawl-side pipe ends of every running worker: a worker forked later closes them all, or a
# pipe would never see its end (another worker would still hold its write end).
_CRAWL_FDS: set[int] = set()


@runtime_checkable
class Splittable(Protocol):
    """A stage whose work splits in a pure `compute` and the crawl process's `apply`."""

    def handles(self, item: Any) -> bool: ...

    def compute(self, item: Any) -> Any: ...

    def advance(self, item: Any, result: Any) -> Any: ...

    def apply(self, item: Any, result: Any) -> Any: ...


class _Raised:
    """An exception `compute` raised in the worker, raised again by the crawl process."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc


def compute_all(stages: Sequence[Splittable], item: Any) -> list[Any]:
    """Each stage's result for the item, up to the stage that drops it (the worker's part)."""
    results: list[Any] = []
    for stage in stages:
        try:
            result = stage.compute(item)
        except Exception as exc:
            exc.add_note("in the pipeline worker:\n" + "".join(traceback.format_exc()))
            results.append(_Raised(exc))
            break
        results.append(result)
        item = stage.advance(item, result)
        if item is None:
            break
    return results


class _Entry:
    __slots__ = ("future", "item", "logs", "results")

    def __init__(self, item: Any, future: asyncio.Future[Any], results: list[Any] | None) -> None:
        self.item = item
        self.future = future
        self.results = results  # None: not back from the worker yet; [] computes here
        self.logs: list[logging.LogRecord] | None = None


class Offload:
    """The crawl process's side: queue items, feed the worker, apply its results in order.

    `stages` are the splittable stages the worker computes, `then` the `process_item` of the
    stages after them (run in the crawl process on what the last one returns); `emptied` is
    called when the last item waiting has been finished.
    """

    def __init__(
        self,
        stages: Sequence[Splittable],
        then: Sequence[Callable[[Any], Any]],
        loop: asyncio.AbstractEventLoop,
        emptied: Callable[[], None] | None = None,
    ) -> None:
        self.stages = tuple(stages)
        self.then = tuple(then)
        self.loop = loop
        self.emptied = emptied
        self.queue: deque[_Entry] = deque()  # every item waiting, in arrival order
        self.sent: deque[_Entry] = deque()  # sent to the worker, result not back yet
        self.outbox: list[_Entry] = []  # for the worker, not sent yet
        self.batches: deque[int] = deque()  # the size of each batch sent and not back
        self.process: Any = None
        self.alive = False
        self._to_worker = -1
        self._from_worker = -1
        self._wbuf = bytearray()
        self._rbuf = bytearray()
        self._flush_scheduled = False
        self._draining = False
        self._frozen = False
        self._tried = False  # `begin` ran: the worker is running, or could not be started

    # -- lifecycle ----------------------------------------------------------------------------
    def begin(self) -> None:
        """Warm the stages (each one's `warm`, if any) and start the worker; on the first item
        that needs it, so a crawl's first requests do not wait for it. The first item would
        have built the same in-process. A worker that cannot start leaves the stages here."""
        self._tried = True
        for stage in self.stages:
            try:
                if hasattr(stage, "warm"):
                    stage.warm()  # before the fork: built once, shared by every later worker
            except Exception:
                # only slower: the worker builds it on its first items
                log.exception("%s.warm failed", type(stage).__name__)
        try:
            self.start()
        except (OSError, NotImplementedError) as exc:
            log.warning("no pipeline worker (%s): the stages run in-process", exc)

    def start(self) -> None:
        """Fork the worker and watch its pipe; raises OSError when it cannot be started."""
        items_r, items_w = os.pipe()
        results_r, results_w = os.pipe()
        for fd in (items_w, results_w):
            with contextlib.suppress(OSError):  # a smaller pipe only means more wake-ups
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        _CRAWL_FDS.update((items_w, results_r))
        context = multiprocessing.get_context("fork")
        self.process = context.Process(
            target=_serve,
            args=(self.stages, items_r, results_w),
            name="andon-pipeline-worker",
            daemon=True,
        )
        # anything buffered would be written twice, by both processes
        sys.stdout.flush()
        sys.stderr.flush()
        # What exists now (the warm gazetteer and profile, the crawl's objects) is left out of
        # the cyclic collector until the crawl ends (`close` unfreezes it): the crawl's full
        # collections then walk only what it makes since, and write no collector bookkeeping
        # into pages it shares with the worker (each such write copies a page).
        gc.freeze()
        collecting = gc.isenabled()
        gc.disable()  # the worker freezes what it inherits before any collection (`_serve`)
        try:
            self.process.start()
        except BaseException:
            gc.unfreeze()
            _CRAWL_FDS.difference_update((items_w, results_r))
            for fd in (items_r, items_w, results_r, results_w):
                os.close(fd)
            raise
        finally:
            if collecting:
                gc.enable()
        self._frozen = True
        os.close(items_r)
        os.close(results_w)
        os.set_blocking(items_w, False)
        os.set_blocking(results_r, False)
        self._to_worker, self._from_worker = items_w, results_r
        self.alive = True
        try:
            self.loop.add_reader(results_r, self._readable)
        except BaseException:
            self._from_worker = -1  # not watched: nothing to remove
            _CRAWL_FDS.discard(results_r)
            os.close(results_r)
            self._stop()
            raise

    def close(self) -> None:
        """End the worker (if it started) after its last result (Scrapy closes the pipeline with none in
        flight; any left are computed here)."""
        if self.alive and self.queue:
            self._fall_back(None)
        self._stop()

    def _stop(self) -> None:
        if self._from_worker >= 0:
            self.loop.remove_reader(self._from_worker)
        if self._wbuf:
            self.loop.remove_writer(self._to_worker)
            self._wbuf.clear()
        for fd in (self._to_worker, self._from_worker):
            if fd >= 0:
                _CRAWL_FDS.discard(fd)
                os.close(fd)  # the worker reads the end of its input and exits
        self._to_worker = self._from_worker = -1
        self.alive = False
        if self.process is not None:
            self.process.join(_JOIN_S)
            if self.process.is_alive():
                log.warning("the pipeline worker did not end; killed")
                self.process.kill()
                self.process.join()
            self.process.close()
            self.process = None
        if self._frozen:
            self._frozen = False
            gc.unfreeze()  # what was left out is collected again (in the next full collection)

    # -- items in ------------------------------------------------------------------------------
    def submit(self, item: Any) -> Any:
        """The item after the stages, or a future of it (failing with the stage's exception)."""
        worker = any(stage.handles(item) for stage in self.stages)
        if worker and not self._tried and not self.alive:
            self.begin()
        worker = worker and self.alive
        if not worker and not self.queue:
            return self._finish(item, [])  # nothing before it: straight on
        entry = _Entry(item, self.loop.create_future(), None if worker else [])
        self.queue.append(entry)
        if worker:
            self.outbox.append(entry)
            if not self._flush_scheduled and (
                len(self.batches) < MAX_WAITING or len(self.outbox) >= MAX_BATCH
            ):
                self._flush_scheduled = True
                self.loop.call_soon(self._flush)
        return entry.future

    def _flush(self) -> None:
        self._flush_scheduled = False
        while self.outbox and self.alive:
            batch, self.outbox = self.outbox[:MAX_BATCH], self.outbox[MAX_BATCH:]
            try:
                data = pickle.dumps([entry.item for entry in batch], _PROTOCOL)
            except Exception as exc:
                self.outbox = batch + self.outbox
                self._fall_back(f"a batch could not be pickled ({type(exc).__name__}: {exc})")
                return
            self.sent.extend(batch)
            self.batches.append(len(batch))
            self._write(_HEAD.pack(len(data)) + data)

    def _write(self, data: bytes) -> None:
        if self._wbuf:
            self._wbuf += data
            return
        try:
            written = os.write(self._to_worker, data)
        except BlockingIOError:
            written = 0
        except OSError as exc:
            self._fall_back(f"its pipe failed ({exc})")
            return
        if written < len(data):
            self._wbuf += memoryview(data)[written:]
            self.loop.add_writer(self._to_worker, self._writable)

    def _writable(self) -> None:
        try:
            written = os.write(self._to_worker, self._wbuf)
        except BlockingIOError:
            return
        except OSError as exc:
            self._fall_back(f"its pipe failed ({exc})")
            return
        del self._wbuf[:written]
        if not self._wbuf:
            self.loop.remove_writer(self._to_worker)

    # -- results back --------------------------------------------------------------------------
    def _readable(self) -> None:
        try:
            data = os.read(self._from_worker, PIPE_SIZE)
        except BlockingIOError:
            return
        except OSError as exc:
            self._fall_back(f"its pipe failed ({exc})")
            return
        if not data:
            self._fall_back("it stopped", dead=True)
            return
        buf = self._rbuf
        buf += data
        while len(buf) >= _HEAD.size:
            (size,) = _HEAD.unpack_from(buf)
            end = _HEAD.size + size
            if len(buf) < end:
                break
            frame = bytes(memoryview(buf)[_HEAD.size : end])
            del buf[:end]
            try:
                results = pickle.loads(frame)  # noqa: S301  # our own worker's
            except Exception as exc:
                self._fall_back(f"its results could not be read ({type(exc).__name__}: {exc})")
                return
            self.batches.popleft()
            for result, logs in results:
                entry = self.sent.popleft()
                entry.results, entry.logs = result, logs
        self._drain()
        if self.outbox and not self._flush_scheduled and len(self.batches) < MAX_WAITING:
            self._flush()

    def _drain(self) -> None:
        """Finish the items at the head of the queue whose results are in."""
        if self._draining:
            return  # the outer call goes on
        self._draining = True
        queue = self.queue
        finished = bool(queue)
        try:
            while queue and (results := queue[0].results) is not None:
                entry = queue.popleft()
                if entry.logs:
                    for record in entry.logs:
                        logging.getLogger(record.name).handle(record)
                try:
                    value = self._finish(entry.item, results)
                except Exception as exc:
                    if not entry.future.done():  # not cancelled meanwhile
                        entry.future.set_exception(exc)
                else:
                    if not entry.future.done():
                        entry.future.set_result(value)
        finally:
            self._draining = False
        if finished and not queue and self.emptied is not None:
            self.emptied()

    def _finish(self, item: Any, results: list[Any]) -> Any:
        """Apply the worker's results (computing here those it did not give), then the rest."""
        for i, stage in enumerate(self.stages):
            result = results[i] if i < len(results) else stage.compute(item)
            if isinstance(result, _Raised):
                raise result.exc
            item = stage.apply(item, result)
        for process in self.then:
            item = process(item)
        return item

    def _fall_back(self, why: str | None, *, dead: bool = False) -> None:
        """Compute the items in flight and all later ones here, and end the worker."""
        waiting = [entry for entry in self.queue if entry.results is None]
        for entry in waiting:
            entry.results = []
        self.sent.clear()
        self.outbox.clear()
        self.batches.clear()
        if why is not None:
            if dead and self.process is not None:
                self.process.join(1.0)  # its pipe is closed: it is ending
                why = f"{why} (exit code {self.process.exitcode})"
            log.warning(
                "the pipeline worker failed: %s; %d items in flight and all later ones are "
                "computed in the crawl process",
                why, len(waiting),
            )  # fmt: skip
        self._stop()
        self._drain()


# -- the worker process ----------------------------------------------------------------------------
class _Collect(logging.Handler):
    """The worker's only log handler: records kept for the crawl process to emit."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        # as logging.handlers.QueueHandler.prepare: the message and traceback as text
        record.msg = record.getMessage()
        record.args = None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        self.records.append(record)


def _quiet() -> _Collect:
    """No signal handler of the crawl's (Ctrl-C is the crawl's to handle) and no log handler."""
    signal.set_wakeup_fd(-1)  # the crawl's asyncio loop listens there
    for sig in signal.valid_signals():
        try:
            if callable(signal.getsignal(sig)):
                signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):
            continue
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]  # fmt: skip
    for logger in loggers:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
    collect = _Collect()
    logging.getLogger().addHandler(collect)
    logging.captureWarnings(True)
    return collect


def _serve(stages: Sequence[Splittable], items_fd: int, results_fd: int) -> None:
    """The worker: read batches of items, write their results, until the input ends."""
    code = 0
    try:
        # what the crawl process owns is never collected here (its finalizers would close the
        # crawl's connections); the collector runs again on what the worker makes
        gc.freeze()
        gc.enable()
        for fd in _CRAWL_FDS:
            with contextlib.suppress(OSError):
                os.close(fd)
        collect = _quiet()
        _answer(stages, items_fd, results_fd, collect)
    except BrokenPipeError:
        pass  # the crawl process is gone, or has given up on this worker
    except BaseException:
        code = 1
        with contextlib.suppress(OSError):
            os.write(2, f"andon pipeline worker: {traceback.format_exc()}".encode())
    finally:
        # at once: no exit handlers, no flush of buffers (or their locks) copied from the crawl
        os._exit(code)


def _answer(
    stages: Sequence[Splittable], items_fd: int, results_fd: int, collect: _Collect
) -> None:
    with os.fdopen(items_fd, "rb", buffering=PIPE_SIZE) as source:
        while True:
            head = source.read(_HEAD.size)
            if len(head) < _HEAD.size:
                return  # the crawl closed its end: done
            (size,) = _HEAD.unpack(head)
            items = pickle.loads(source.read(size))  # noqa: S301  # from the crawl
            out = []
            for item in items:
                collect.records = []
                results = compute_all(stages, item)
                out.append((results, collect.records or None))
            try:
                data = pickle.dumps(out, _PROTOCOL)
            except Exception:
                data = pickle.dumps([_portable(result) for result in out], _PROTOCOL)
            _write_all(results_fd, _HEAD.pack(len(data)) + data)


def _portable(result: tuple[list[Any], Any]) -> tuple[list[Any], Any]:
    """An item's results as sent, or none (the crawl process computes them) if they won't pickle."""
    try:
        pickle.dumps(result, _PROTOCOL)
    except Exception:
        return [], None
    return result


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
