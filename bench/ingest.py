"""The full item pipeline (relevance → normalize → dedup → store) against Scrapy's raw item rate.

Both runs are real Scrapy crawls in one reactor: a spider yields the same generated JobItems
(no downloads), once with no item pipelines (the baseline: what Scrapy itself costs per item)
and once with andon's pipelines writing to a fresh SQLite database. Rounds are interleaved
and the median of each is reported, twice: with every item new, and with 90% of the items
already stored (a re-crawl, the everyday case: stored items unchanged since, so they skip the
pipeline by their fingerprint, `pipeline.fingerprint`, and so do the items that crawl dropped as
not relevant, `pipeline.dropped`).

The 90% database is made by a real crawl of those items before the timed rounds; it also warms
what a process builds once (the role profile, the place gazetteer), so no round pays for it.
"""

from __future__ import annotations

import json
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import scrapy
from scrapy.crawler import CrawlerRunner
from twisted.internet import defer

from config import Settings
from db import make_engine, migrate
from pipeline.candidates import forget_shingles
from spiders.items import JobItem
from spiders.settings import DEFAULT_ITEM_PIPELINES, scrapy_settings

SIZES = {"small": 2_000, "full": 20_000}
ROUNDS = 5
SEED = 42
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)

TITLES = [
    "Production Manager", "Plant Manager", "Production Supervisor - 2nd Shift",
    "Assistant Production Manager", "Senior Production Manager", "Director of Manufacturing",
    "Production Superintendent", "Manufacturing Manager", "Video Production Manager",
    "Production Engineer (Platform)", "Machine Operator", "Produktionsleiter (m/w/d)",
]  # fmt: skip
COMPANIES = [
    "Acme Foods",
    "Bosch",
    "Tyson Foods",
    "Magna",
    "Spirit AeroSystems",
    "Pfizer",
    "Conagra",
]
PLACES = [
    "Dearborn, MI",
    "Toledo, OH",
    "Wichita, KS",
    "Springdale, AR",
    "Greenville, SC",
    "Munich, Germany",
]
SALARIES = [
    "$95,000 - $120,000 per year",
    "$28/hr - $34/hr",
    "€4.500 brutto/Monat",
    "90k–110k",
    None,
]
WORDS = [
    "lead",
    "shift",
    "teams",
    "on",
    "packaging",
    "lines",
    "drive",
    "lean",
    "OEE",
    "5S",
    "kaizen",
    "HACCP",
    "GMP",
    "safety",
    "OSHA",
    "SAP",
    "budget",
    "capacity",
    "planning",
    "maintenance",
    "quality",
    "yield",
    "scrap",
    "labor",
    "scheduling",
    "coaching",
]


def make_items(n: int, seed: int = SEED) -> list[JobItem]:
    rng = random.Random(seed)
    items = []
    for i in range(n):
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(60, 140)))
        items.append(
            JobItem(
                source="bench",
                kind="greenhouse",
                external_id=f"greenhouse:bench:{i}",
                title=rng.choice(TITLES),
                company=rng.choice(COMPANIES),
                url=f"https://boards.greenhouse.io/bench/jobs/{i}?gh_src=x",
                description_html=f"<p>{body}</p><ul><li>{rng.choice(WORDS)}</li></ul>",
                locations=[rng.choice(PLACES)],
                employment_type="Full-time",
                salary_text=rng.choice(SALARIES),
                posted=f"2026-11-{rng.randint(1, 24):02d}T08:00:00-05:00",
                crawled_at=NOW,
            )
        )
    return items


class FeedSpider(scrapy.Spider):
    """Yields prepared items without downloading anything."""

    name = "bench_feed"

    def __init__(self, items: list[JobItem], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.items = items

    async def start(self) -> Any:  # Scrapy ≥ 2.13
        for item in self.items:
            yield item


def _settings(app: Settings, pipelines: dict[str, int]) -> dict[str, Any]:
    s = scrapy_settings(app, item_pipelines=pipelines)
    s.update({"LOG_LEVEL": "ERROR", "ROBOTSTXT_OBEY": False, "AUTOTHROTTLE_ENABLED": False,
              "CONCURRENT_ITEMS": 100, "ANDON_STORE_BATCH": 500})  # fmt: skip
    return s


def _fresh_db(folder: Path, template: Path | None) -> str:
    path = folder / f"bench-{time.monotonic_ns()}.db"
    if template is not None:
        shutil.copy(template, path)
    else:
        # disposed, not left to the garbage collector: a pooled connection left open keeps the
        # seed crawl's last writes in the WAL file, which the template's copy would miss
        engine = make_engine(f"sqlite:///{path}")
        migrate(engine)
        engine.dispose()
    return f"sqlite:///{path}"


def run(size: str) -> Iterator[dict[str, Any]]:
    from twisted.internet import reactor as _reactor

    reactor: Any = _reactor  # typed by its zope interfaces, which mypy misreads

    n = SIZES[size]
    items = make_items(n)
    folder = Path(tempfile.mkdtemp(prefix="andon-bench-"))
    results: dict[str, list[float]] = {"raw": [], "new": [], "raw2": [], "rerun": []}
    kept: dict[str, int] = {}

    @defer.inlineCallbacks
    def crawl(app: Settings, pipelines: dict[str, int], batch: list[JobItem]) -> Any:
        runner = CrawlerRunner(_settings(app, pipelines))
        crawler = runner.create_crawler(FeedSpider)
        crawler.andon_settings = app  # type: ignore[attr-defined]
        # each crawl is its own process in production: no descriptions remembered from the last
        forget_shingles()
        start = time.perf_counter()
        yield runner.crawl(crawler, items=batch)
        elapsed = time.perf_counter() - start
        return elapsed, crawler.stats.get_stats()

    @defer.inlineCallbacks
    def rounds() -> Any:
        # the 90% case: a database that already holds 90% of the items (same source and ids)
        template = Path(_fresh_db(folder, None).removeprefix("sqlite:///"))
        seed_app = Settings(database_url=f"sqlite:///{template}")
        yield crawl(seed_app, DEFAULT_ITEM_PIPELINES, items[: int(n * 0.9)])
        for _ in range(ROUNDS):
            elapsed, _stats = yield crawl(Settings(), {}, items)
            results["raw"].append(elapsed)
            app = Settings(database_url=_fresh_db(folder, None))
            elapsed, stats = yield crawl(app, DEFAULT_ITEM_PIPELINES, items)
            results["new"].append(elapsed)
            kept["new"] = stats.get("andon/store/new", 0)
            elapsed, _stats = yield crawl(Settings(), {}, items)
            results["raw2"].append(elapsed)
            app = Settings(database_url=_fresh_db(folder, template))
            elapsed, stats = yield crawl(app, DEFAULT_ITEM_PIPELINES, items)
            results["rerun"].append(elapsed)
            kept["rerun_new"] = stats.get("andon/store/new", 0)
            kept["rerun_updated"] = stats.get("andon/store/updated", 0)
            kept["rerun_unchanged"] = stats.get("andon/store/unchanged", 0)
            kept["dropped"] = stats.get("item_dropped_count", 0)
        reactor.stop()

    reactor.callWhenRunning(rounds)
    reactor.run()
    shutil.rmtree(folder, ignore_errors=True)
    for case, ours_key, base_key in (("all_new", "new", "raw"), ("90pct_stored", "rerun", "raw2")):
        ours = statistics.median(results[ours_key])
        base = statistics.median(results[base_key])
        yield {
            "bench": "ingest",
            "size": size,
            "case": case,
            "items": n,
            "ours_s": round(ours, 4),
            "baseline": "the same items through Scrapy with no item pipelines",
            "baseline_s": round(base, 4),
            "ratio": round(base / ours, 4),
            "ours_items_per_s": round(n / ours),
            "baseline_items_per_s": round(n / base),
            "rounds": ROUNDS,
            **(
                {"stored_new": kept.get("new")}
                if case == "all_new"
                else {
                    "stored_new": kept.get("rerun_new"),
                    "stored_updated": kept.get("rerun_updated"),
                    # stored before with the same fingerprint: only last_seen_at moved
                    "stored_unchanged": kept.get("rerun_unchanged"),
                }
            ),
            "dropped_as_irrelevant": kept.get("dropped"),
        }


def main(size: str) -> None:
    from scrapy.utils.reactor import install_reactor

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    for line in run(size):
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main("small")
