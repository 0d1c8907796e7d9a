"""A Scrapyd node's view of andon: the Scrapy settings module and the spider loader it runs.

`scrapy.cfg` at the project root names this module (`[settings] andon = runtime.node`), so a
Scrapyd started there runs the installed andon as its project `andon` (no egg). A crawl is
scheduled as spider `<kind>` with the spider argument `source=<name>`; the spider loads that
source from the node's sources file (`ANDON_SOURCES`) and crawls with the node's settings
(`ANDON_DATABASE_URL` and the rest, from its environment or `andon.toml`), through the same
pipelines as a local crawl, so it records its own `CrawlRun`.
"""

from __future__ import annotations

import builtins
from typing import Any, Self

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings

from config import Settings, load_settings
from spiders.registry import SPIDERS, spider_for
from spiders.settings import scrapy_settings
from spiders.sources import Source, load_sources


def node_settings(app: Settings) -> dict[str, Any]:
    """Andon's Scrapy settings for a node: the local crawl's, the overrides, this loader."""
    settings = scrapy_settings(app)
    settings.update(app.scrapy_overrides)
    out = {k: v for k, v in settings.items() if k.isupper()}
    out["SPIDER_LOADER_CLASS"] = f"{__name__}.SourceSpiderLoader"
    return out


def find_source(app: Settings, name: str) -> Source:
    """The named entry of the node's sources file."""
    for source in load_sources(app.sources):
        if source.name == name:
            return source
    raise ValueError(f"no source named {name!r} in {app.sources}")


class SourceSpiderLoader:
    """Spiders by kind; each loaded class resolves its `source=<name>` argument to a `Source`."""

    def __init__(self, settings: BaseSettings) -> None:
        self.settings = settings

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        return cls(settings)

    def list(self) -> list[str]:
        return sorted(SPIDERS)

    # `list` here would name the method above (Scrapy's loader interface calls it that).
    def find_by_request(self, request: Request) -> builtins.list[str]:
        return []

    def load(self, spider_name: str) -> type[Spider]:
        base: Any = spider_for(spider_name)

        class NodeSpider(base):
            @classmethod
            def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Any:
                app = load_settings()
                name = kwargs.pop("source", None)
                if not isinstance(name, str):
                    raise ValueError("a Scrapyd crawl needs the spider argument source=<name>")
                source = find_source(app, name)
                crawler.andon_settings = app  # type: ignore[attr-defined]
                crawler.andon_source = source  # type: ignore[attr-defined]
                return super().from_crawler(crawler, *args, source=source, **kwargs)

        NodeSpider.__name__ = NodeSpider.__qualname__ = base.__name__
        return NodeSpider


# The settings module proper: Scrapy reads the upper-case names of this module.
globals().update(node_settings(load_settings()))
