"""Probing sources: each spider in probe mode (its first listing request only), and what it saw.

`andon sources check` probes the entries of a sources file; `andon sources add` probes the
entry it built from a pasted URL (`spiders.addsource`). One Scrapy process runs every probe of
a call at once (a Twisted reactor cannot be restarted: at most one `probe` per process).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess
from twisted.python.failure import Failure

from config import Settings
from spiders.registry import spider_for
from spiders.settings import scrapy_settings
from spiders.sources import Source, SourcesError

# A probe should answer quickly: one retry, a short timeout, no item pipelines, no log.
PROBE_SETTINGS: dict[str, Any] = {
    "LOG_LEVEL": "CRITICAL",
    "RETRY_TIMES": 1,
    "DOWNLOAD_TIMEOUT": 20,
    "CLOSESPIDER_TIMEOUT": 60,
}


@dataclass
class ProbeResult:
    """What one probe saw: postings the source says it has, sample titles, the employer named."""

    name: str
    kind: str
    total: int | None = None
    titles: list[str] = field(default_factory=list)
    company: str | None = None
    items: int = 0
    errors: list[str] = field(default_factory=list)
    companies: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def postings(self) -> int:
        """The source's own count when it gives one, else the items the first page held."""
        return self.total if self.total is not None else self.items

    @property
    def error(self) -> str:
        """The first error without the `name (kind): ` prefix every spider error carries."""
        if not self.errors:
            return ""
        text = self.errors[0]
        prefix = f"{self.name} ({self.kind}): "
        return text[len(prefix) :] if text.startswith(prefix) else text


class _Probe:
    """One source's probe crawler and the items it yields."""

    def __init__(self, source: Source, crawler: Crawler) -> None:
        self.source = source
        self.crawler = crawler
        self.result = ProbeResult(name=source.name, kind=source.kind)
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)

    def item_scraped(self, item: Any, **kwargs: Any) -> None:
        self.result.items += 1
        title = " ".join(str(getattr(item, "title", "") or "").split())
        if title and len(self.result.titles) < 3:
            self.result.titles.append(title)
        company = " ".join(str(getattr(item, "company", "") or "").split())
        if company:
            self.result.companies.add(company)

    def failed(self, failure: Failure) -> None:
        self.result.errors.append(f"could not start: {failure.getErrorMessage()}")

    def finish(self) -> ProbeResult:
        spider = getattr(self.crawler, "spider", None)
        result = self.result
        if spider is not None:
            result.errors.extend(spider.errors)
            result.total = spider.probe_total
            # The employer the response names; else the one all items name (a board of many
            # employers, such as a remote-jobs site, has none).
            only = next(iter(result.companies)) if len(result.companies) == 1 else None
            result.company = spider.probe_company or only
        return result


def probe(
    sources: Sequence[Source], *, app: Settings, extra_settings: dict[str, Any] | None = None
) -> list[ProbeResult]:
    """Probe every source at once; one `ProbeResult` per source, in order."""
    settings = scrapy_settings(app, item_pipelines={})
    settings.update(app.scrapy_overrides)
    settings.update(PROBE_SETTINGS)
    settings.update(extra_settings or {})
    process = CrawlerProcess(settings)
    probes: list[_Probe] = []
    for source in sources:
        crawler = process.create_crawler(spider_for(source.kind))
        crawler.andon_settings = app  # type: ignore[attr-defined]
        crawler.andon_source = source  # type: ignore[attr-defined]
        one = _Probe(source, crawler)
        probes.append(one)
        process.crawl(crawler, source=source, probe=True).addErrback(one.failed)
    if probes:
        process.start()
    return [one.finish() for one in probes]


def with_base_url(sources: Sequence[Source], base_url: str | None) -> list[Source]:
    """The sources with every request sent to `base_url` (`andon sources check --base-url`)."""
    if not base_url:
        return list(sources)
    from dataclasses import replace

    from spiders.sources import check_base_url

    try:
        base = check_base_url(base_url)
    except ValueError as exc:
        raise SourcesError(f"--base-url: {exc}") from None
    # The operator named this address on the command line.
    return [replace(s, base_url=base, allow_private=True) for s in sources]
