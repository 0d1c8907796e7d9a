"""`StorePostingPipeline`: the last Scrapy stage — buffer postings, write them in batches, record the run.

A batch that fails is written again one posting at a time, so one row the database refuses
costs that posting only: it is named in the source's errors (the run is then "partial" and
closes nothing) and counted in `andon/store/failed_items`.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

from scrapy import signals
from sqlmodel import Session

from db import session_scope, utcnow
from pipeline.dropped import Drop, forget_unseen_drops, remember_drops, touch_drops
from pipeline.expiry import CrawlOutcome, close_unseen, closing_verdict
from pipeline.fingerprint import FingerprintBook, Unchanged, touch_unchanged
from pipeline.models import CrawlRun
from pipeline.record import CleanPosting
from pipeline.storable import storable_text
from pipeline.store import BatchResult, store_batch

log = logging.getLogger(__name__)

# Unchanged items only move `last_seen_at`: they wait for the next batch of postings (or the
# timer, or the close), up to one UPDATE's worth (`pipeline.fingerprint._TOUCH_CHUNK`), instead
# of costing a transaction per `ANDON_STORE_BATCH` of them on a re-crawl.
TOUCH_BATCH = 5_000
# While no item has come for IDLE_S (a page being downloaded), at least IDLE_TOUCHES waiting
# unchanged items are marked seen then, not at the close, which the crawl waits for.
IDLE_S = 0.05
IDLE_TOUCHES = 500


class StorePostingPipeline:
    """The last stage: buffer clean postings and write them in batches; record the crawl run.

    A batch is written when it holds `ANDON_STORE_BATCH` postings (default 200) or
    `TOUCH_BATCH` unchanged items, or its oldest item has waited `ANDON_STORE_MAX_DELAY` seconds (default 2), and when the spider closes. The crawl
    run row is opened with the spider and finished on `spider_closed`, where the postings the
    source stopped listing are closed — only after a clean, complete crawl (`pipeline.expiry`).
    """

    def __init__(self, crawler: Any, engine: Any, batch_size: int, max_delay: float) -> None:
        self.crawler = crawler
        self.engine = engine
        self.batch_size = batch_size
        self.max_delay = max_delay
        self.buffer: list[CleanPosting] = []
        self.touches: list[Unchanged] = []  # unchanged items: only their last_seen_at moves
        self.buffer_since: float | None = None
        self.totals = BatchResult()
        self.run_id: int | None = None
        self.started_at = utcnow()
        self.failed_batches = 0
        self.failed_items: list[str] = []
        self._timer: Any = None
        self.last_item_at = time.monotonic()
        self.book: FingerprintBook | None = None  # the drops to remember are noted there

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePostingPipeline:
        from config import load_settings
        from db import make_engine

        app = getattr(crawler, "andon_settings", None) or load_settings()
        pipe = cls(
            crawler,
            make_engine(app.database_url),
            crawler.settings.getint("ANDON_STORE_BATCH", 200),
            crawler.settings.getfloat("ANDON_STORE_MAX_DELAY", 2.0),
        )
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        pipe.book = FingerprintBook.of(crawler)
        return pipe

    # -- Scrapy hooks ---------------------------------------------------------------------
    def open_spider(self) -> None:
        from twisted.internet import task

        spider = self.crawler.spider
        source = getattr(spider, "source", None)
        self.source_name = source.name if source is not None else spider.name
        self.kind = getattr(source, "kind", spider.name)
        with session_scope(self.engine) as session:
            run = CrawlRun(source=self.source_name, kind=self.kind, started_at=self.started_at)
            session.add(run)
            session.flush()
            self.run_id = run.id
        self._timer = task.LoopingCall(self._tick)
        self._timer.start(IDLE_S, now=False)

    def process_item(self, item: CleanPosting | Unchanged) -> CleanPosting | Unchanged:
        self.last_item_at = time.monotonic()
        if isinstance(item, Unchanged):
            self.touches.append(item)
        else:
            self.buffer.append(item)
        if self.buffer_since is None:
            self.buffer_since = time.monotonic()
        if len(self.buffer) >= self.batch_size or len(self.touches) >= TOUCH_BATCH:
            self.flush()
        return item

    def close_spider(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        self.flush()

    def spider_closed(self, spider: Any, reason: str) -> None:
        stats = self.crawler.stats
        scraped = stats.get_value("item_scraped_count", 0)
        dropped = stats.get_value("item_dropped_count", 0)
        # the items this stage could not store are in the spider's errors already
        source_errors = list(getattr(spider, "errors", []) or [])
        for message in self.failed_items:
            if message not in source_errors:
                source_errors.append(message)
        errors = len(source_errors) + self.failed_batches
        shared = bool(self.crawler.settings.get("REDIS_URL"))
        outcome = CrawlOutcome(reason, scraped + dropped, errors, self.started_at, shared)
        with session_scope(self.engine) as session:
            verdict = closing_verdict(session, self.source_name, outcome)
            closed = 0
            if verdict is None:
                closed = close_unseen(
                    session, self.source_name, since=self.started_at, now=utcnow()
                )
                forget_unseen_drops(session, self.source_name, since=self.started_at)
            else:
                log.warning("%s: %s", self.source_name, verdict)
            run = session.get_one(CrawlRun, self.run_id)
            status = "finished" if reason == "finished" and not errors else (
                "partial" if scraped else "failed"
            )  # fmt: skip
            first = source_errors[0] if source_errors else None
            self._finish_run(run, status, reason, closed, errors, first or verdict)
            session.add(run)
        for name, value in (("new", self.totals.new), ("updated", self.totals.updated)):
            stats.set_value(f"andon/store/{name}", value)
        stats.set_value("andon/store/merged", self.totals.merged)
        stats.set_value("andon/store/closed", closed)
        self.engine.dispose()

    def _finish_run(
        self, run: CrawlRun, status: str, reason: str, closed: int, errors: int, message: Any
    ) -> None:
        stats = self.crawler.stats
        scraped = stats.get_value("item_scraped_count", 0)
        dropped = stats.get_value("item_dropped_count", 0)
        run.finished_at = utcnow()
        run.status = status
        run.finish_reason = reason
        run.fetched = scraped + dropped
        run.kept = (
            self.totals.new + self.totals.updated + self.totals.merged + self.totals.unchanged
        )
        run.dropped = dropped
        run.new = self.totals.new
        run.updated = self.totals.updated
        run.merged = self.totals.merged
        run.closed = closed
        run.errors = errors
        # error lines quote scraped text: keep them storable (no NUL on PostgreSQL)
        run.message = storable_text(str(message))[:2000] if message else None
        run.stats = {storable_text(k): _jsonable(v) for k, v in stats.get_stats().items()}

    # -- batching -------------------------------------------------------------------------
    def _tick(self) -> None:
        """The timer: flush a buffer whose oldest item has waited `max_delay`; while the crawl is
        idle, mark enough waiting unchanged items seen."""
        now = time.monotonic()
        if self.buffer_since is not None and now - self.buffer_since >= self.max_delay:
            self.flush()
        elif len(self.touches) >= IDLE_TOUCHES and now - self.last_item_at >= IDLE_S:
            touches, self.touches = self.touches, []
            self._touch(touches)

    def flush(self) -> None:
        """Write what waits: unchanged items' `last_seen_at`, remembered drops, the postings.

        All three go in one transaction (one write lock and commit, not three). If it fails,
        each part is written alone as it would be on its own: a failed touch makes the crawl
        partial, failed drops are judged again next time, a failed batch is retried one
        posting at a time.
        """
        touches, self.touches = self.touches, []
        drops: list[Drop] = []
        redropped: list[int] = []
        if self.book is not None:
            drops, self.book.drops = self.book.drops, []
            redropped, self.book.redropped = self.book.redropped, []
        batch, self.buffer, self.buffer_since = self.buffer, [], None
        if not (touches or drops or redropped or batch):
            return
        try:
            with session_scope(self.engine, write=True) as session:
                now = utcnow()
                if touches:
                    _touch_in(session, touches, now)
                if drops or redropped:
                    remember_drops(session, drops, now=now)
                    touch_drops(session, redropped, now=now)
                result = store_batch(session, batch, now=now) if batch else None
        except Exception as exc:
            log.info("%s: a shared write failed (%s); writing its parts one by one",
                     self.source_name, _why(exc))  # fmt: skip
        else:
            self._touched(touches)
            if result is not None:
                self._stored(result)
                self.crawler.stats.inc_value("andon/store/batches")
            return
        if touches:
            self._touch(touches)
        if drops or redropped:
            self._remember_drops(drops, redropped)
        if batch:
            self._write_batch(batch)

    def _write_batch(self, batch: list[CleanPosting]) -> None:
        """Store a batch in a transaction of its own; if that fails, one posting at a time."""
        try:
            self._write(batch)
            self.crawler.stats.inc_value("andon/store/batches")
            return
        except Exception as exc:
            log.warning(
                "%s: a batch of %d postings failed (%s); storing them one by one",
                self.source_name,
                len(batch),
                _why(exc),
            )
            self.crawler.stats.inc_value("andon/store/retried_batches")
        stored = 0
        for item in batch:
            try:
                self._write([item])
                stored += 1
            except Exception as exc:
                self._item_failed(item, exc)
        if not stored and len(batch) > 1:
            # nothing went in one by one either: the database, not a row, is the problem
            self.failed_batches += 1
            self.crawler.stats.inc_value("andon/store/failed_batches")

    def _touch(self, touches: list[Unchanged]) -> None:
        """Move `last_seen_at` of unchanged items, in a transaction of their own."""
        try:
            with session_scope(self.engine, write=True) as session:
                _touch_in(session, touches, utcnow())
        except Exception as exc:
            # not marked seen, these would be closed as no longer listed: the crawl is partial
            log.warning("%s: %d unchanged postings not marked seen (%s)",
                        self.source_name, len(touches), _why(exc))  # fmt: skip
            self.failed_batches += 1
            self.crawler.stats.inc_value("andon/store/failed_batches")
            return
        self._touched(touches)

    def _touched(self, touches: list[Unchanged]) -> None:
        if touches:
            self.totals.unchanged += len(touches)
            self.crawler.stats.inc_value("andon/store/unchanged", len(touches))

    def _remember_drops(self, drops: list[Drop], redropped: list[int]) -> None:
        """Remember the items judged irrelevant, and mark those dropped again unchanged seen."""
        try:
            with session_scope(self.engine, write=True) as session:
                remember_drops(session, drops, now=utcnow())
                touch_drops(session, redropped, now=utcnow())
        except Exception as exc:
            # not fatal: those items are judged again next time, as they were before
            log.warning("%s: %d dropped items not remembered (%s)",
                        self.source_name, len(drops) + len(redropped), _why(exc))  # fmt: skip
            self.crawler.stats.inc_value("andon/store/failed_drops")

    def _write(self, batch: list[CleanPosting]) -> None:
        with session_scope(self.engine, write=True) as session:
            result = store_batch(session, batch, now=utcnow())
        self._stored(result)

    def _stored(self, result: BatchResult) -> None:
        self.totals.add(result)
        for name, count in result.cleaned.items():
            self.crawler.stats.inc_value(f"andon/store/cleaned/{name}", count)

    def _item_failed(self, item: CleanPosting, exc: Exception) -> None:
        """One posting the database refused: named in the source's errors, counted, logged."""
        title = storable_text(item.title or "")[:80]
        message = f"could not store posting {item.external_id[:120]!r} ({title!r}): {_why(exc)}"
        self.crawler.stats.inc_value("andon/store/failed_items")
        spider = self.crawler.spider
        if hasattr(spider, "fail"):
            spider.fail(message, url=item.url, key="store")
            message = spider.errors[-1]
        else:
            log.error("%s: %s", self.source_name, message)
        self.failed_items.append(message)


def _touch_in(session: Session, touches: list[Unchanged], now: datetime) -> None:
    touch_unchanged(
        session, [t.sighting_id for t in touches], [t.posting_id for t in touches], now=now
    )


def _why(exc: BaseException) -> str:
    """The database's own first line, not SQLAlchemy's statement and parameters."""
    inner = getattr(exc, "orig", None) or exc
    lines = str(inner).strip().splitlines()
    return f"{type(inner).__name__}: {lines[0][:200] if lines else ''}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return storable_text(str(value))
