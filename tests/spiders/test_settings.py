"""Scrapy settings, the Retry-After middleware's arithmetic, the collecting pipeline and reports."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from scrapy.settings import default_settings
from scrapy.utils.test import get_crawler

from config import Settings
from spiders.base import JobSpider, apply_base_url
from spiders.collect import CollectItemsPipeline
from spiders.items import JobItem
from spiders.middlewares import BackoffRetryMiddleware, retry_after_seconds
from spiders.runner import SourceReport, _parse_set
from spiders.settings import DEFAULT_ITEM_PIPELINES, PIPELINE_STAGES, scrapy_settings


def test_scrapy_settings_are_polite_and_bounded():
    app = Settings(user_agent="andon-jobs/0.1", contact_url="https://example.org/andon")
    s = scrapy_settings(app, item_pipelines=None)
    assert s["ROBOTSTXT_OBEY"] is True
    assert s["DOWNLOAD_TIMEOUT"] == 30
    assert s["DOWNLOAD_MAXSIZE"] == 20 * 1024 * 1024
    assert s["DOWNLOAD_HANDLERS"] == {"file": None, "s3": None, "ftp": None, "data": None}
    assert s["AUTOTHROTTLE_ENABLED"] is True
    assert s["CONCURRENT_REQUESTS_PER_DOMAIN"] == 2
    assert s["TELNETCONSOLE_ENABLED"] is False
    assert s["USER_AGENT"] == "andon-jobs/0.1 (+https://example.org/andon)"
    assert {429, 500, 502, 503, 504} <= set(s["RETRY_HTTP_CODES"])
    assert s["DOWNLOADER_MIDDLEWARES"]["spiders.middlewares.BackoffRetryMiddleware"] == 550
    assert s["DOWNLOADER_MIDDLEWARES"]["scrapy.downloadermiddlewares.retry.RetryMiddleware"] is None
    assert s["LOG_LEVEL"] == "INFO"
    assert s["ITEM_PIPELINES"] == DEFAULT_ITEM_PIPELINES
    # Scrapy runs one item pipeline, which calls the stages in their order (pipeline.chain)
    assert DEFAULT_ITEM_PIPELINES == {"pipeline.chain.StageChainPipeline": 100}
    assert s["ANDON_PIPELINE_STAGES"] == PIPELINE_STAGES
    assert list(PIPELINE_STAGES.values()) == [50, 100, 200, 300, 400]
    if hasattr(default_settings, "REMOTE_CONTROL_ENABLED"):
        assert s["REMOTE_CONTROL_ENABLED"] is False
    else:
        assert "REMOTE_CONTROL_ENABLED" not in s
    assert scrapy_settings(Settings(), item_pipelines={})["ITEM_PIPELINES"] == {}
    # the default user agent already carries the contact URL: not added twice
    assert scrapy_settings(Settings(), item_pipelines={})["USER_AGENT"].count("github.com") == 1


def test_the_default_pipeline_runs_the_stages_in_order(tmp_path):
    """Unchanged items are recognised first, then relevance, normalise, dedup and the store."""
    from pipeline.chain import StageChainPipeline

    app = Settings(database_url=f"sqlite:///{tmp_path / 'andon.db'}")
    settings = scrapy_settings(app)
    del settings["TWISTED_REACTOR"]  # whichever reactor this test process runs
    crawler = get_crawler(settings_dict=settings)
    crawler.andon_settings = app  # type: ignore[attr-defined]
    (name,) = crawler.settings.getdict("ITEM_PIPELINES")
    assert name == "pipeline.chain.StageChainPipeline"
    chain = StageChainPipeline.from_crawler(crawler)
    assert [type(stage).__name__ for stage in chain.stages] == [
        "SkipUnchangedPipeline",
        "FilterRelevantPipeline",
        "NormalizePostingPipeline",
        "DedupPostingPipeline",
        "StorePostingPipeline",
    ]
    for stage in chain.stages:
        engine = getattr(stage, "engine", None)
        if engine is not None:
            engine.dispose()


def test_retry_after_values():
    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(b"7") == 7.0
    assert retry_after_seconds("Wed, 25 Nov 2026 12:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("Wed, 25 Nov 2026 11:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_backoff_grows_and_is_capped():
    crawler = get_crawler(
        settings_dict={"ANDON_RETRY_BACKOFF_BASE": 1.0, "ANDON_RETRY_BACKOFF_MAX": 5.0}
    )
    mw = BackoffRetryMiddleware.from_crawler(crawler)
    assert 0.8 <= mw.backoff(1) <= 1.2
    assert 3.2 <= mw.backoff(3) <= 4.8
    assert mw.backoff(10) == 5.0
    assert mw.retry_after_max == 120.0


def test_apply_base_url():
    assert apply_base_url("https://api.lever.co/v0/postings/x?mode=json", "http://127.0.0.1:9") == (
        "http://127.0.0.1:9/v0/postings/x?mode=json"
    )
    assert apply_base_url("https://a.example/p", None) == "https://a.example/p"


def test_spider_needs_a_source():
    with pytest.raises(TypeError, match="needs source="):
        JobSpider.from_crawler(get_crawler(JobSpider))


def test_collect_pipeline_writes_json_lines(tmp_path):
    out = tmp_path / "items.jsonl"
    crawler = get_crawler(settings_dict={"ANDON_COLLECT_PATH": str(out)})
    pipe = CollectItemsPipeline.from_crawler(crawler)
    pipe.open_spider()
    item = JobItem(
        source="s",
        kind="rss",
        external_id="rss:1",
        title="T",
        company=None,
        url=None,
        crawled_at=datetime(2026, 11, 25, tzinfo=UTC),
    )
    assert pipe.process_item(item) is item
    pipe.close_spider()
    row = json.loads(out.read_text())
    assert row["external_id"] == "rss:1"
    assert row["crawled_at"].startswith("2026-11-25")


def test_source_report_ok_and_set_parsing():
    assert SourceReport(name="a", kind="rss", finish_reason="finished").ok
    assert not SourceReport(name="a", kind="rss", finish_reason="finished", errors=["x"]).ok
    assert not SourceReport(name="a", kind="rss", finish_reason="closespider_timeout").ok
    assert "stats" not in SourceReport(name="a", kind="rss", finish_reason=None).to_dict(
        stats=False
    )
    assert _parse_set(["DOWNLOAD_DELAY=0", "LOG_LEVEL=DEBUG", "X=true"]) == {
        "DOWNLOAD_DELAY": 0,
        "LOG_LEVEL": "DEBUG",
        "X": True,
    }


def test_progress_callback_counts_signals():
    from scrapy import signals

    from spiders.runner import _Run
    from spiders.sources import parse_sources

    source = parse_sources({"sources": [{"name": "gh", "kind": "greenhouse", "board": "x"}]})[0]
    crawler = get_crawler(JobSpider)
    seen: list[tuple[str, dict]] = []
    run = _Run(source, crawler, lambda name, info: seen.append((name, info)))
    crawler.signals.send_catch_log(
        signals.response_received, response=None, request=None, spider=None
    )
    crawler.signals.send_catch_log(signals.item_scraped, item=None, response=None, spider=None)
    crawler.signals.send_catch_log(
        signals.item_dropped, item=None, response=None, exception=Exception("x"), spider=None
    )
    assert [e[1]["event"] for e in seen] == ["response", "item_scraped", "item_dropped"]
    assert seen[-1] == (
        "gh",
        {
            "event": "item_dropped",
            "items_scraped": 1,
            "items_dropped": 1,
            "responses": 1,
            "errors": 0,
        },
    )
    assert run.counts["items_scraped"] == 1
