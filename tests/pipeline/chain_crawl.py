"""Real Scrapy crawls through the item pipelines a plan names, fed prepared items (no downloads).

Run as `python -m tests.pipeline.chain_crawl PLAN.json`: the plan is a database URL, the
ITEM_PIPELINES to use and a list of crawls (lists of `JobItem` field dicts). Prints one JSON line
of Scrapy's stats per crawl. A subprocess, because a Twisted reactor runs once per process.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerRunner
from twisted.internet import defer

from config import Settings
from spiders.settings import scrapy_settings
from tests.pipeline.feed_crawl import FeedSpider, job_item


def main(plan_path: str) -> None:
    from scrapy.utils.reactor import install_reactor

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from twisted.internet import reactor

    plan = json.loads(Path(plan_path).read_text())
    app = Settings(database_url=plan["database_url"])

    @defer.inlineCallbacks
    def crawls() -> Any:
        try:
            for batch in plan["crawls"]:
                settings = scrapy_settings(app, item_pipelines=plan["item_pipelines"])
                settings.update({"LOG_LEVEL": "ERROR", "ROBOTSTXT_OBEY": False})
                runner = CrawlerRunner(settings)
                crawler = runner.create_crawler(FeedSpider)
                crawler.andon_settings = app  # type: ignore[attr-defined]
                yield runner.crawl(crawler, items=[job_item(i) for i in batch])
                print(json.dumps(crawler.stats.get_stats(), default=str), flush=True)
        finally:
            reactor.stop()  # type: ignore[misc]  # the reactor's zope interfaces confuse mypy

    reactor.callWhenRunning(crawls)
    reactor.run()  # type: ignore[misc]  # the reactor's zope interfaces confuse mypy


if __name__ == "__main__":
    main(sys.argv[1])
