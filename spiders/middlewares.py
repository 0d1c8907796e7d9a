"""Retries that wait: honour `Retry-After` on 429/503 and back off exponentially on 5xx and timeouts."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.response import response_status_message

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)

RETRY_AFTER_STATUSES = frozenset({429, 503})


def retry_after_seconds(value: str | bytes | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware (same settings and stats) that waits before handing back a retry.

    Scrapy retries 429 at once and ignores `Retry-After` (scrapy/scrapy#3849). Here a 429/503
    with `Retry-After` waits that long, capped at `ANDON_RETRY_AFTER_MAX` (counted in
    `andon/retry_after/<status>`); other retryable statuses and network errors wait
    `ANDON_RETRY_BACKOFF_BASE * 2**(attempt-1)` (± 20 % jitter) capped at `ANDON_RETRY_BACKOFF_MAX`.
    The wait happens in the middleware (an asyncio sleep), so it delays this request only.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler.settings)
        self.crawler = crawler
        settings = crawler.settings
        self.retry_after_max = settings.getfloat("ANDON_RETRY_AFTER_MAX", 120.0)
        self.backoff_base = settings.getfloat("ANDON_RETRY_BACKOFF_BASE", 2.0)
        self.backoff_max = settings.getfloat("ANDON_RETRY_BACKOFF_MAX", 60.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def backoff(self, attempt: int) -> float:
        delay = self.backoff_base * 2 ** max(0, attempt - 1)
        return min(self.backoff_max, delay * random.uniform(0.8, 1.2))

    # Scrapy 2.13 runs coroutine middleware methods; its annotations still declare them plain.
    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        new_request = self._retry(request, response_status_message(response.status))
        if new_request is None:
            return response
        delay = None
        if response.status in RETRY_AFTER_STATUSES:
            delay = retry_after_seconds(response.headers.get(b"Retry-After"))
            if delay is not None:
                self.crawler.stats.inc_value(f"andon/retry_after/{response.status}")
                if delay > self.retry_after_max:
                    logger.warning(
                        "Retry-After %.0f s from %s is above the %.0f s cap; waiting the cap",
                        delay,
                        request.url,
                        self.retry_after_max,
                    )
                    delay = self.retry_after_max
        if delay is None:
            delay = self.backoff(new_request.meta.get("retry_times", 1))
        await self._wait(delay, request, response.status)
        return new_request

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | None:
        if request.meta.get("dont_retry", False) or not isinstance(
            exception, self.exceptions_to_retry
        ):
            return None
        new_request = self._retry(request, exception)
        if new_request is not None:
            await self._wait(
                self.backoff(new_request.meta.get("retry_times", 1)),
                request,
                type(exception).__name__,
            )
        return new_request

    async def _wait(self, delay: float, request: Request, why: int | str) -> None:
        if delay <= 0:
            return
        logger.info("Waiting %.1f s before retrying %s (%s)", delay, request.url, why)
        # Scrapy annotates inc_value as int; the stats collectors add any number.
        self.crawler.stats.inc_value("andon/retry_wait_seconds", round(delay, 3))  # type: ignore[arg-type]
        await asyncio.sleep(delay)
