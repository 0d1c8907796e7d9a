"""DedupPostingPipeline: skip a job a crawl already yielded (overlapping pages or facets).

Only repeats within one crawl are dropped here, to save work; duplicates across crawls and
sources are decided by the store against the database (`pipeline.store`), where uniqueness is a
constraint rather than a Python set.
"""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem

from pipeline.fingerprint import Unchanged
from pipeline.record import CleanPosting


class DedupPostingPipeline:
    def __init__(self, stats: Any) -> None:
        self.stats = stats
        self.seen: set[tuple[str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> DedupPostingPipeline:
        return cls(crawler.stats)

    def process_item(self, item: CleanPosting | Unchanged) -> CleanPosting | Unchanged:
        key = (item.source, item.external_id)
        if key in self.seen:
            self.stats.inc_value("andon/dedup/repeat_in_crawl")
            raise DropItem(f"repeat in this crawl: {item.external_id}", log_level="DEBUG")
        self.seen.add(key)
        return item
