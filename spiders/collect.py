"""`CollectItemsPipeline`: writes every item as a JSON line to a file (tests and debugging)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any, Self

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured


class CollectItemsPipeline:
    """Appends `{"...JobItem fields"}` lines to `ANDON_COLLECT_PATH`; returns items unchanged.

    Several crawlers of one process may share the file: each line is written and flushed in
    one call from the reactor thread, so lines never interleave.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        path = crawler.settings.get("ANDON_COLLECT_PATH")
        if not path:
            raise NotConfigured("ANDON_COLLECT_PATH is not set")
        return cls(Path(path))

    def open_spider(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("a", encoding="utf-8")

    def close_spider(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def process_item(self, item: Any) -> Any:
        if self._fh is not None:
            line = json.dumps(ItemAdapter(item).asdict(), default=str, ensure_ascii=False)
            self._fh.write(line + "\n")
            self._fh.flush()
        return item
