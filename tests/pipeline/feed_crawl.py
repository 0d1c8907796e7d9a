"""Real Scrapy crawls through andon's item pipelines, fed prepared items (no downloads).

Run as `python -m tests.pipeline.feed_crawl PLAN.json`: the plan is a database URL, optional
`item_pipelines` (Scrapy's setting; the default pipeline without it) and a list of crawls, each
a list of `JobItem` field dicts and an optional role profile path. Prints one JSON
line per crawl with Scrapy's stats. A subprocess, because a Twisted reactor runs once per process.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import scrapy
from scrapy.crawler import CrawlerRunner
from twisted.internet import defer

from config import Settings
from spiders.items import JobItem
from spiders.settings import scrapy_settings


class FeedSpider(scrapy.Spider):
    """Yields the items it was given, without downloading anything."""

    name = "feed"

    def __init__(self, items: list[JobItem], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.items = items
        # the store records the run and closes unseen postings under the source's name
        self.source = SimpleNamespace(name=items[0].source, kind=items[0].kind) if items else None

    async def start(self) -> Any:
        for item in self.items:
            yield item


def job_item(fields: dict[str, Any]) -> JobItem:
    data = dict(fields)
    if data.get("crawled_at"):
        data["crawled_at"] = datetime.fromisoformat(data["crawled_at"])
    return JobItem(**data)


def main(plan_path: str) -> None:
    from scrapy.utils.reactor import install_reactor

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from twisted.internet import reactor

    plan = json.loads(Path(plan_path).read_text())
    app = Settings(database_url=plan["database_url"])

    @defer.inlineCallbacks
    def crawls() -> Any:
        try:
            for crawl in plan["crawls"]:
                settings = scrapy_settings(app, item_pipelines=plan.get("item_pipelines"))
                settings.update({"LOG_LEVEL": "ERROR", "ROBOTSTXT_OBEY": False})
                if crawl.get("profile"):
                    settings["ANDON_ROLE_PROFILE"] = crawl["profile"]
                runner = CrawlerRunner(settings)
                crawler = runner.create_crawler(FeedSpider)
                crawler.andon_settings = app  # type: ignore[attr-defined]
                yield runner.crawl(crawler, items=[job_item(i) for i in crawl["items"]])
                stats = crawler.stats.get_stats()
                print(json.dumps(stats, default=str), flush=True)
        finally:
            reactor.stop()  # type: ignore[misc]  # the reactor's zope interfaces confuse mypy

    reactor.callWhenRunning(crawls)
    reactor.run()  # type: ignore[misc]  # the reactor's zope interfaces confuse mypy


if __name__ == "__main__":
    main(sys.argv[1])
