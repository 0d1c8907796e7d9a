"""`run_crawl`: crawl several sources at once in one Scrapy process, one crawler (and report) per source."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings as ScrapySettings
from twisted.python.failure import Failure

from config import Settings, load_settings
from spiders.guard import CrawlGuard, expedite_downloads
from spiders.registry import spider_for
from spiders.settings import scrapy_settings
from spiders.sources import Source, SourcesError, load_sources

log = logging.getLogger("andon.crawl")

ProgressCallback = Callable[[str, dict[str, Any]], None]

_DROP_PREFIXES = ("item_dropped_reasons_count/", "andon/dropped/")


@dataclass
class SourceReport:
    """How one source's crawl went. `ok` only when it finished cleanly without errors: callers
    must not treat jobs missing from anything else as closed (a partial crawl closes nothing)."""

    name: str
    kind: str
    finish_reason: str | None
    items_scraped: int = 0
    items_dropped: int = 0
    dropped_reasons: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    responses: int = 0
    status_counts: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.finish_reason == "finished" and not self.errors

    def to_dict(self, *, stats: bool = True) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        if not stats:
            data.pop("stats")
        return data


class _Run:
    """One source's crawler plus the counters its progress callback reports."""

    def __init__(self, source: Source, crawler: Crawler, on_progress: ProgressCallback | None):
        self.source = source
        self.crawler = crawler
        self.on_progress = on_progress
        self.counts = {"items_scraped": 0, "items_dropped": 0, "responses": 0}
        self.start_errors: list[str] = []
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(self.response_received, signal=signals.response_received)

    def _progress(self, event: str) -> None:
        if self.on_progress is None:
            return
        spider = self.crawler.spider
        errors = len(getattr(spider, "errors", ()))
        self.on_progress(self.source.name, {"event": event, **self.counts, "errors": errors})

    def item_scraped(self, item: Any, response: Any, spider: Any) -> None:
        self.counts["items_scraped"] += 1
        self._progress("item_scraped")

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Any) -> None:
        self.counts["items_dropped"] += 1
        self._progress("item_dropped")

    def response_received(self, response: Any, request: Any, spider: Any) -> None:
        self.counts["responses"] += 1
        self._progress("response")

    def failed(self, failure: Failure) -> None:
        """The crawl could not start or crashed: the source reports it, the others go on."""
        self.start_errors.append(
            f"{self.source.name} ({self.source.kind}): crawl failed: "
            f"{getattr(failure.type, '__name__', 'error')}: {failure.getErrorMessage()}"
        )

    def report(self) -> SourceReport:
        stats: dict[str, Any] = dict(self.crawler.stats.get_stats()) if self._has_stats() else {}
        spider = self.crawler.spider
        dropped: dict[str, int] = {}
        for key, value in stats.items():
            for prefix in _DROP_PREFIXES:
                if key.startswith(prefix):
                    dropped[key[len(prefix) :]] = dropped.get(key[len(prefix) :], 0) + int(value)
        status_prefix = "downloader/response_status_count/"
        return SourceReport(
            name=self.source.name,
            kind=self.source.kind,
            finish_reason=stats.get("finish_reason"),
            items_scraped=int(stats.get("item_scraped_count", self.counts["items_scraped"])),
            items_dropped=int(stats.get("item_dropped_count", self.counts["items_dropped"])),
            dropped_reasons=dropped,
            requests=int(stats.get("downloader/request_count", 0)),
            responses=int(stats.get("response_received_count", self.counts["responses"])),
            status_counts={
                k[len(status_prefix) :]: int(v)
                for k, v in stats.items()
                if k.startswith(status_prefix)
            },
            retries=int(stats.get("retry/count", 0)),
            errors=[*self.start_errors, *getattr(spider, "errors", [])],
            elapsed_s=float(stats.get("elapsed_time_seconds", 0.0)),
            stats=stats,
        )

    def _has_stats(self) -> bool:
        try:
            return self.crawler.stats is not None
        except AttributeError:  # the crawler failed before its stats were built
            return False


def run_crawl(
    sources: Sequence[Source],
    *,
    app: Settings,
    item_pipelines: dict[str, int] | None = None,
    extra_settings: dict[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
    time_limit_s: float | None = None,
    parent_pid: int | None = None,
) -> list[SourceReport]:
    """Crawl `sources` concurrently and return one `SourceReport` per source, in order.

    One `CrawlerProcess` (asyncio reactor), one crawler per source so each has its own stats,
    errors and finish reason; a failing source never stops the others. `item_pipelines=None`
    uses `spiders.settings.DEFAULT_ITEM_PIPELINES`; `extra_settings` override the Scrapy
    settings (tests use it to drop delays). `on_progress(source_name, counts)` is called from
    the reactor thread on every item scraped or dropped and every response.

    Pipelines reach the source and the app settings through the crawler:
    `crawler.spider.source` (a `Source`; also `crawler.andon_source`, set before the spider
    exists) and `crawler.andon_settings` (the `config.Settings` passed as `app`).

    A Twisted reactor cannot be restarted: call this at most once per process (run crawls
    in a subprocess, as `python -m spiders.runner` does, when a long-lived process needs more).

    SIGTERM or Ctrl-C closes every spider within seconds, storing what was crawled (see
    `spiders.guard`); so does `time_limit_s` (default: the crawl timeout plus a minute, a backstop
    to Scrapy's own CLOSESPIDER_TIMEOUT for a reactor that is stuck) and, given `parent_pid`,
    the death of that parent.
    """
    settings = ScrapySettings(scrapy_settings(app, item_pipelines=item_pipelines))
    # Explicit overrides (`--set`, ANDON_SCRAPY_OVERRIDES, tests) win over a kind's own
    # politeness in `custom_settings`, as `scrapy crawl -s` does.
    settings.setdict(extra_settings or {}, priority="cmdline")
    process = CrawlerProcess(settings)
    runs: list[_Run] = []
    for source in sources:
        crawler = process.create_crawler(spider_for(source.kind))
        crawler.andon_settings = app  # type: ignore[attr-defined]
        crawler.andon_source = source  # type: ignore[attr-defined]
        run = _Run(source, crawler, on_progress)
        runs.append(run)
        process.crawl(crawler, source=source).addErrback(run.failed)
    if runs:
        limit = time_limit_s if time_limit_s is not None else app.crawl_timeout_s + 60
        guard = CrawlGuard(
            lambda reason: _close_all(process, reason), limit_s=limit, parent_pid=parent_pid,
            expedite=expedite_downloads,
        )  # fmt: skip
        with guard.installed():
            process.start(install_signal_handlers=False)
    return [run.report() for run in runs]


def _close_all(process: CrawlerProcess, reason: str) -> None:
    """Close every running spider with `reason` (reactor thread); pipelines close as usual."""
    from scrapy.utils.defer import deferred_from_coro

    log.warning("crawl stopping (%s): closing every source, storing what was crawled", reason)
    for crawler in list(process.crawlers):
        engine = getattr(crawler, "engine", None)
        if engine is not None and engine.spider is not None:
            deferred_from_coro(engine.close_spider_async(reason=reason))
        elif crawler.crawling:
            deferred_from_coro(crawler.stop_async())


def _parse_set(values: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep:
            raise SystemExit(f"--set expects KEY=VALUE, got {item!r}")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def main(argv: list[str] | None = None) -> int:
    """`python -m spiders.runner`: crawl a sources file and print the reports as JSON."""
    parser = argparse.ArgumentParser(prog="python -m spiders.runner", description=main.__doc__)
    parser.add_argument("--sources", type=Path, help="sources TOML (default: ANDON_SOURCES)")
    parser.add_argument(
        "--only", action="append", default=[], metavar="NAME", help="crawl only NAME"
    )
    parser.add_argument(
        "--pipeline-output",
        type=Path,
        metavar="FILE",
        help="replace the pipelines by one that appends items as JSON lines to FILE",
    )
    parser.add_argument("--no-pipelines", action="store_true", help="run without item pipelines")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a Scrapy setting (JSON value)",
    )
    parser.add_argument("--stats", action="store_true", help="include the raw Scrapy stats")
    parser.add_argument("--time-limit", type=float, metavar="S", help="stop after S seconds")
    parser.add_argument(
        "--parent-pid", type=int, metavar="PID", help="stop when this parent process dies"
    )
    args = parser.parse_args(argv)
    app = load_settings()
    try:
        sources = load_sources(args.sources or app.sources)
    except SourcesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.only:
        unknown = sorted(set(args.only) - {s.name for s in sources})
        if unknown:
            print(f"error: no source named {', '.join(unknown)}", file=sys.stderr)
            return 2
        sources = [s for s in sources if s.name in args.only]
    extra = _parse_set(args.set)
    pipelines: dict[str, int] | None = None
    if args.pipeline_output:
        pipelines = {"spiders.collect.CollectItemsPipeline": 900}
        extra["ANDON_COLLECT_PATH"] = str(args.pipeline_output)
    elif args.no_pipelines:
        pipelines = {}
    reports = run_crawl(
        sources, app=app, item_pipelines=pipelines, extra_settings=extra,
        time_limit_s=args.time_limit, parent_pid=args.parent_pid,
    )  # fmt: skip
    json.dump([r.to_dict(stats=args.stats) for r in reports], sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
