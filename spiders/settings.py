"""Scrapy settings for andon crawls: polite, bounded and http(s)-only, built from the app settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.settings import default_settings

if TYPE_CHECKING:
    from config import Settings

# The pipeline's stages in order, one map with gaps ordered as Scrapy orders ITEM_PIPELINES
# (other modules own the classes; named by path only). Each class is an item pipeline of its own.
PIPELINE_STAGES: dict[str, int] = {
    # first: an item stored before and unchanged since skips every later stage but the store
    "pipeline.fingerprint.SkipUnchangedPipeline": 50,
    "pipeline.relevance.FilterRelevantPipeline": 100,
    "pipeline.normalize.NormalizePostingPipeline": 200,
    "pipeline.dedup.DedupPostingPipeline": 300,
    "pipeline.storing.StorePostingPipeline": 400,
}

# What Scrapy runs: the stages above as one item pipeline that calls them in that order
# in-process (`pipeline.chain`, reading ANDON_PIPELINE_STAGES). Listing the five in
# ITEM_PIPELINES does the same work, with Scrapy's per-stage await chain around each call.
DEFAULT_ITEM_PIPELINES: dict[str, int] = {"pipeline.chain.StageChainPipeline": 100}

MB = 1024 * 1024


def user_agent(app: Settings) -> str:
    """The descriptive User-Agent with a contact URL, as sources' terms and robots etiquette ask."""
    ua = app.user_agent.strip()
    if app.contact_url and app.contact_url not in ua:
        ua = f"{ua} (+{app.contact_url})"
    return ua


def scrapy_settings(
    app: Settings, *, item_pipelines: dict[str, int] | None = None
) -> dict[str, Any]:
    """The Scrapy settings dict for a crawl; `item_pipelines=None` means `DEFAULT_ITEM_PIPELINES`.

    Scrapy's defaults are not ours (RELIABILITY.md §0.8): robots.txt ignored, 3-minute timeouts,
    1 GiB bodies and `file://`/`s3://`/`ftp://`/`data:` handlers an operator's typo could reach.
    """
    settings: dict[str, Any] = {
        "BOT_NAME": "andon",
        "USER_AGENT": user_agent(app),
        "ROBOTSTXT_OBEY": True,
        "DOWNLOAD_TIMEOUT": 30,
        "DNS_TIMEOUT": 15,
        "DOWNLOAD_MAXSIZE": 20 * MB,
        "DOWNLOAD_WARNSIZE": 5 * MB,
        "DOWNLOAD_HANDLERS": {"file": None, "s3": None, "ftp": None, "data": None},
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 1.0,
        "AUTOTHROTTLE_MAX_DELAY": 60.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "DOWNLOAD_DELAY": 0.5,
        "TELNETCONSOLE_ENABLED": False,
        # scraped text in log lines loses its control characters (pipeline.terminal)
        "EXTENSIONS": {"pipeline.terminal.SanitizeLogsExtension": 0},
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 3,
        "RETRY_HTTP_CODES": [429, 500, 502, 503, 504, 520, 521, 522, 524, 408],
        "DOWNLOADER_MIDDLEWARES": {
            # First of all: a request to another host or to an internal address never leaves
            # (not even for its robots.txt).
            "spiders.netguard.NetGuardMiddleware": 40,
            # Replaced by a subclass that waits (Retry-After, exponential backoff) before retrying.
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "spiders.middlewares.BackoffRetryMiddleware": 550,
        },
        "ANDON_RETRY_AFTER_MAX": 120.0,
        "ANDON_RETRY_BACKOFF_BASE": 2.0,
        "ANDON_RETRY_BACKOFF_MAX": 60.0,
        "LOG_LEVEL": "INFO",
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        # A stuck source ends itself instead of holding the whole run.
        "CLOSESPIDER_TIMEOUT": max(60, int(app.crawl_timeout_s)),
        "FEED_EXPORT_ENCODING": "utf-8",
        # the relevance stage's role profile: a TOML file replacing pipeline/role_profile.toml
        "ANDON_ROLE_PROFILE": str(app.role_profile) if app.role_profile else None,
        "ITEM_PIPELINES": dict(
            DEFAULT_ITEM_PIPELINES if item_pipelines is None else item_pipelines
        ),
        # the stages `pipeline.chain.StageChainPipeline` runs, in order
        "ANDON_PIPELINE_STAGES": dict(PIPELINE_STAGES),
    }
    settings.update(_per_scrapy_version())
    if app.redis_url:
        settings.update(redis_settings(app.redis_url))
    return settings


def _per_scrapy_version() -> dict[str, Any]:
    """The settings that exist only in some Scrapy versions: set where they exist, else nothing."""
    settings: dict[str, Any] = {}
    # The remote-control extension (an HTTP server executing Python sent to it) exists only in
    # recent Scrapy versions; switch it off where it exists.
    if hasattr(default_settings, "REMOTE_CONTROL_ENABLED"):
        settings["REMOTE_CONTROL_ENABLED"] = False
    # Older Scrapy versions warn unless the modern fingerprinter is chosen; 2.19 has no setting.
    if hasattr(default_settings, "REQUEST_FINGERPRINTER_IMPLEMENTATION"):
        settings["REQUEST_FINGERPRINTER_IMPLEMENTATION"] = "2.7"
    return settings


def redis_settings(redis_url: str) -> dict[str, Any]:
    """scrapy-redis's shared queue and duplicate filter (`spiders.distributed`): processes
    crawling the same source split its requests. Keys are per source (set when the scheduler
    opens); persisted with a renewed TTL rather than flushed, see `spiders.distributed`."""
    return {
        "SCHEDULER": "spiders.distributed.SourceScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_FLUSH_ON_START": False,
        "REDIS_URL": redis_url,
    }
