"""One source's crawl shared by several processes or machines through scrapy-redis.

With `ANDON_REDIS_URL` set, every `andon crawl` of a source pops requests from one Redis queue
and checks them against one Redis duplicate filter, so processes started for the same source
split its pages between them and fetch each URL once in total. No protocol of our own: this is
scrapy-redis's `Scheduler` and `RFPDupeFilter`, which work with Scrapy 2.19 and our
`async def start()` spiders (its `RedisSpider` does not: rmax/scrapy-redis #305, #317).

The subclass only changes key naming and lifetime:

- **Keys per source**: scrapy-redis names keys by spider name (`%(spider)s:requests`); our
  spiders are named by kind, so two Greenhouse sources would share one queue. The keys here are
  `andon:<source name>:requests` and `andon:<source name>:dupefilter`.
- **Persistence**: `SCHEDULER_PERSIST = True`, because with `False` the *first* process to run
  out of work deletes the queue and the duplicate filter its peers are still using (lost
  requests, refetched pages). Instead both keys get a TTL (`ANDON_REDIS_KEY_TTL`), renewed on
  every enqueue and dequeue: they outlive any pause of a live crawl and are gone soon after the
  last process finished, so the next scheduled crawl of the source starts from an empty filter
  instead of skipping every URL it saw last time. A crawl started while the keys still live
  joins (or repeats) the shared crawl and says so at INFO.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler

log = logging.getLogger(__name__)

KEY_PREFIX = "andon"


def redis_keys(source_name: str) -> dict[str, str]:
    """The Redis keys of one source's shared crawl (source names are `[A-Za-z0-9_.-]+`)."""
    name = source_name.replace("%", "%%")  # scrapy-redis %-formats the keys with the spider
    return {
        "queue": f"{KEY_PREFIX}:{name}:requests",
        "dupefilter": f"{KEY_PREFIX}:{name}:dupefilter",
    }


def key_ttl(settings: Any) -> int:
    """Seconds the keys live after the last enqueue/dequeue: longer than one request's worst
    case (timeout, Retry-After wait, throttle delay), so a live crawl never loses them."""
    worst = (
        settings.getfloat("DOWNLOAD_TIMEOUT", 30)
        + settings.getfloat("ANDON_RETRY_AFTER_MAX", 120)
        + settings.getfloat("AUTOTHROTTLE_MAX_DELAY", 60)
    )
    return max(settings.getint("ANDON_REDIS_KEY_TTL", 0), int(2 * worst), 60)


class SourceScheduler(Scheduler):
    """scrapy-redis's scheduler with per-source keys and renewed TTLs instead of a flush."""

    def open(self, spider: Any) -> None:
        source = getattr(spider, "source", None)
        name = source.name if source is not None else spider.name
        keys = redis_keys(name)
        self.queue_key = keys["queue"]
        self.dupefilter_key = keys["dupefilter"]
        settings = spider.settings
        self.df = RFPDupeFilter(
            self.server,
            key=keys["dupefilter"] % {"spider": spider.name},
            debug=settings.getbool("DUPEFILTER_DEBUG"),
        )
        self.ttl = key_ttl(settings)
        super().open(spider)
        seen = self.server.scard(self.df.key)
        log.info(
            "%s: crawl shared through Redis (queue %s, %d requests queued, %d URLs already seen)",
            name,
            self.queue.key,
            len(self.queue),
            seen,
            extra={"spider": spider},
        )

    def _touch(self) -> None:
        pipe = self.server.pipeline(transaction=False)
        pipe.expire(self.queue.key, self.ttl)
        pipe.expire(self.df.key, self.ttl)
        pipe.execute()

    # Both reimplemented rather than extended: scrapy-redis 0.9.1 passes `spider=` to
    # `StatsCollector.inc_value()`, deprecated in Scrapy 2.14 for removal (scrapy/scrapy#6750,
    # PR #7011). Otherwise the same logic, plus the TTL renewal.
    def enqueue_request(self, request: Any) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            self._touch()
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        self._touch()
        return True

    def next_request(self) -> Any:
        request = self.queue.pop(self.idle_before_close)
        if request is not None:
            if self.stats:
                self.stats.inc_value("scheduler/dequeued/redis")
            self._touch()
        return request
