"""`JobSpider`: the base every kind's spider builds on — source wiring, base_url, clear errors, items."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit, urlunsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import JsonRequest, Request, Response
from twisted.python.failure import Failure

from spiders.items import JobItem
from spiders.sources import Source

# Drop reasons of the pipeline that mean the source entry lacks something, and the fix.
DATA_DROP_FIXES: dict[str, str] = {
    "no_company": 'the source names no employer: add `company = "…"` to the sources entry',
    "no_title": "the source gives no job titles: check the entry's URL and `kind`",
    "no_external_id": "the source gives no job ids: check the entry's URL and `kind`",
    "no_date": "the source gives no posting dates: check the entry's URL and `kind`",
}

_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def now_utc() -> datetime:
    return datetime.now(UTC)


def apply_base_url(url: str, base_url: str | None) -> str:
    """Swap scheme, host and port of `url` for those of `base_url`; keep path, query and fragment."""
    if not base_url:
        return url
    base = urlsplit(base_url)
    parts = urlsplit(url)
    return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, parts.fragment))


def text_or_none(value: Any) -> str | None:
    """A stripped string, or None for missing/blank/non-string values."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    value = value.strip()
    return value or None


class JobSpider(scrapy.Spider):
    """Base of the one-spider-per-kind classes; a leaf spider is mostly configuration.

    Built with the `Source` it crawls (`crawler.crawl(Spider, source=...)`), it offers:

    - `url(path_or_url)`: the absolute URL of a request, with the source's `base_url` applied
      (scheme, host and port replaced; path and query kept). Every request of every kind goes
      through it, so a mirror or a test server can stand in for the real host.
    - `request(...)` / `json_request(...)`: requests through `url()`, with `errback=self.on_error`
      and the un-rewritten URL in `meta["public_url"]`.
    - `parse_json(response)`: the decoded body, or None after recording **one clear error**
      for a non-2xx status (404 → "board not found (404) — check `board` ..."), an HTML page
      where JSON was expected, an empty body or truncated JSON. Errors are logged once at
      ERROR with the source name and URL, counted in `andon/errors/<error kind>` and kept in
      `self.errors`; the crawl of other sources is never affected (one crawler per source).
    - `make_item(response, ...)`: a `JobItem` with `source`, `kind`, `crawled_at` (UTC, when the
      response was handled), the source's `attribution`, and its `company` as the default.

    Every 4xx/5xx reaches the callbacks (`handle_httpstatus_list`) after the retry middleware
    has given up, so that the message says what went wrong instead of Scrapy's generic
    "ignoring response".
    """

    kind: ClassVar[str] = ""
    # -- the kind's contract with the sources file (KIND-SPEC.md) -----------------------------
    #: Kind-specific keys a sources entry may carry (the common ones are always allowed).
    keys: ClassVar[frozenset[str]] = frozenset()
    #: Each inner tuple: at least one of these keys must be present.
    required: ClassVar[tuple[tuple[str, ...], ...]] = ()
    #: The schedule of an entry without `schedule`.
    default_schedule: ClassVar[str] = "every 12h"
    #: Seconds: a more frequent schedule is raised to this (the source asks for it).
    min_interval: ClassVar[int | None] = None
    #: Regexes (ours, on a URL a person pasted) of career-site URLs this kind reads.
    url_patterns: ClassVar[tuple[str, ...]] = ()
    #: True for a board listing many employers' jobs (its page is not the employer's own).
    aggregator: ClassVar[bool] = False
    #: A URL of this kind as a person copies it from the browser (the README shows it).
    example_url: ClassVar[str] = ""
    #: Kind-specific keys holding URLs: only http(s) is accepted in them.
    url_keys: ClassVar[tuple[str, ...]] = ()
    #: The order a pasted URL is tried in: 0 for kinds with their own hosts, higher for the
    #: generic ones (a feed before any page with JSON-LD).
    recognition_rank: ClassVar[int] = 0
    #: What a probe's one request shows: `andon sources add` prints it.
    probe_total: int | None = None
    probe_company: str | None = None
    #: The host API requests go to when a path is given to `url()`.
    api_base: str = ""  # a class default; kinds whose host depends on the entry set it per spider
    #: Hosts ("host" or "host:port") besides the entry's own and `api_base`'s that requests of
    #: this kind may go to (`spiders.netguard`): anything else remote content points at is refused.
    allowed_hosts: ClassVar[tuple[str, ...]] = ()
    #: The sources-file key a 404 points at ("check `board` in the sources file").
    board_key: ClassVar[str] = "board"
    handle_httpstatus_list: ClassVar[list[int]] = list(range(400, 600))

    def __init__(self, source: Source, *, probe: bool = False, **kwargs: Any) -> None:
        super().__init__(name=self.name, **kwargs)
        self.source = source
        self.errors: list[str] = []
        # Probe mode (`andon sources add/check`): the first listing request only, no paging,
        # no detail requests; `probe_total`/`probe_company` say what the source answered.
        self.probe = probe
        self.probe_total = None
        self.probe_company = None
        self.drop_reasons: dict[str, int] = {}
        self.kept = 0

    # -- the kind's metadata -------------------------------------------------------------------

    @classmethod
    def entry_from_url(cls, url: str) -> dict[str, Any] | None:
        """The kind-specific entry keys for a pasted URL (`{"url": url}` when a pattern matches),
        or None when the URL is not this kind's."""
        if any(re.search(p, url, re.IGNORECASE) for p in cls.url_patterns):
            return {"url": url}
        return None

    @classmethod
    def check_entry(cls, entry: dict[str, Any]) -> None:
        """Kind-specific validation of a raw entry: raise ValueError naming the key to fix."""

    @classmethod
    def prepare_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        """The entry's options as the spider reads them (after `check_entry` accepted them)."""
        return options

    def external_id(self, raw_id: Any) -> str:
        """The stable id of a posting: `{kind}:{board}:{raw id}`."""
        return f"{self.kind}:{self.board}:{raw_id}"

    @classmethod
    def liveness_url(cls, source: Source, external_id: str, url: str | None) -> str | None:
        """A per-job API URL whose 404/410 says the posting is gone; None: ask the posting's URL."""
        return None

    @classmethod
    def board_and_raw_id(cls, external_id: str) -> tuple[str, str] | None:
        """(board, raw id) of this kind's `{kind}:{board}:{raw id}`, or None for another shape."""
        kind, _, rest = external_id.partition(":")
        board, _, raw_id = rest.rpartition(":")
        return (board, raw_id) if kind == cls.kind and board and raw_id else None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        if not isinstance(kwargs.get("source"), Source):
            raise TypeError(f"{cls.__name__} needs source=<spiders.sources.Source>")
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(spider.on_item_dropped, signal=signals.item_dropped)
        return spider

    # -- no silent losses ---------------------------------------------------------------------

    def on_item_scraped(self, item: Any = None, **kwargs: Any) -> None:
        self.kept += 1

    def on_item_dropped(self, item: Any = None, exception: Any = None, **kwargs: Any) -> None:
        reason = str(exception or "").split(":", 1)[0].strip()
        self.drop_reasons[reason] = self.drop_reasons.get(reason, 0) + 1

    def closed(self, reason: str) -> None:
        """A crawl that kept nothing because every item lacked the same field is an error."""
        if reason != "finished" or self.kept or self.errors:
            return
        data_drops = {r: n for r, n in self.drop_reasons.items() if r in DATA_DROP_FIXES}
        if len(data_drops) == 1 and sum(data_drops.values()) == sum(self.drop_reasons.values()):
            why, count = next(iter(data_drops.items()))
            self.fail(
                f"kept 0: all {count} postings were dropped ({why}) — {DATA_DROP_FIXES[why]}",
                url=None,
                key=f"all_dropped_{why}",
            )

    # -- URLs and requests --------------------------------------------------------------------

    @property
    def board(self) -> str:
        """The value of the source key this kind is keyed by (board, company, site, ...)."""
        return str(self.source.option(self.board_key) or "")

    def url(self, path_or_url: str) -> str:
        """The URL to request: a path joins `api_base`; then the source's `base_url` applies."""
        if path_or_url.startswith("/"):
            path_or_url = self.api_base.rstrip("/") + path_or_url
        return apply_base_url(path_or_url, self.source.base_url)

    def request(
        self,
        url: str,
        callback: Callable[..., Any],
        *,
        meta: dict[str, Any] | None = None,
        **kw: Any,
    ) -> Request:
        public = url if not url.startswith("/") else self.api_base.rstrip("/") + url
        return Request(
            self.url(url),
            callback=callback,
            errback=kw.pop("errback", self.on_error),
            meta={"public_url": public, **(meta or {})},
            **kw,
        )

    def json_request(
        self,
        url: str,
        callback: Callable[..., Any],
        *,
        data: Any = None,
        meta: dict[str, Any] | None = None,
        **kw: Any,
    ) -> JsonRequest:
        public = url if not url.startswith("/") else self.api_base.rstrip("/") + url
        return JsonRequest(
            self.url(url),
            callback=callback,
            data=data,
            errback=kw.pop("errback", self.on_error),
            meta={"public_url": public, **(meta or {})},
            **kw,
        )

    # -- errors -------------------------------------------------------------------------------

    def fail(self, message: str, *, url: str | None, key: str) -> None:
        """Record one clear error for this source: ERROR log, `andon/errors/<key>`, `self.errors`."""
        text = f"{self.source.name} ({self.kind}): {message}"
        if url:
            text += f" [{url}]"
        self.errors.append(text)
        self.logger.error(text)
        if getattr(self, "crawler", None) is not None:
            self.crawler.stats.inc_value(f"andon/errors/{key}")

    def warn(self, message: str, *, url: str | None = None, key: str) -> None:
        """Something odd but not fatal for the source: WARNING log and `andon/warnings/<key>`."""
        self.logger.warning(
            "%s (%s): %s%s", self.source.name, self.kind, message, f" [{url}]" if url else ""
        )
        if getattr(self, "crawler", None) is not None:
            self.crawler.stats.inc_value(f"andon/warnings/{key}")

    def not_found_message(self) -> str:
        return (
            f"{self.board_key} {self.board!r} not found (404) — "
            f"check `{self.board_key}` in the sources file"
        )

    def http_error_message(self, response: Response) -> tuple[str, str]:
        status = response.status
        if status == 404:
            return self.not_found_message(), "http_404"
        retries = response.request.meta.get("retry_times", 0) if response.request else 0
        excerpt = _excerpt(response.body)
        if status in (401, 403):
            why = "access denied (bot protection, or the board is private)"
        elif status == 429:
            why = "rate limited"
        elif status >= 500:
            why = "server error"
        else:
            why = "request refused"
        msg = f"HTTP {status}: {why}"
        if retries:
            msg += f" after {retries} retries"
        if excerpt:
            msg += f"; body: {excerpt}"
        return msg, f"http_{status}"

    def parse_json(self, response: Response, *, fatal: bool = True) -> Any | None:
        """The JSON body, or None after recording why it is unusable (as an error when `fatal`).

        Detail pages pass `fatal=False`: one vanished job must not mark the whole source failed.
        """
        report = self.fail if fatal else self.warn
        if not 200 <= response.status < 300:
            msg, key = self.http_error_message(response)
            report(msg, url=response.url, key=key)
            return None
        body = response.body
        stripped = body.strip()
        if not stripped:
            report("empty body where JSON was expected", url=response.url, key="empty_body")
            return None
        ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
        if stripped[:1] == b"<" or "html" in ctype:
            title = _TITLE.search(stripped[:4096])
            name = f" titled {_clean(title.group(1))!r}" if title else ""
            report(
                f"expected JSON but got an HTML page{name} "
                f"(Content-Type {ctype or 'missing'}; a login wall, bot protection or a wrong URL)",
                url=response.url,
                key="not_json",
            )
            return None
        try:
            return json.loads(body.decode(response_encoding(response), errors="replace"))
        except json.JSONDecodeError as exc:
            text = exc.doc
            if exc.pos >= len(text.rstrip()) - 1 or "Unterminated" in exc.msg:
                report(
                    f"truncated JSON: the body ends after {len(body)} bytes ({exc.msg})",
                    url=response.url,
                    key="truncated_json",
                )
            else:
                report(
                    f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
                    url=response.url,
                    key="invalid_json",
                )
            return None

    def on_error(self, failure: Failure) -> None:
        """Errback of every request: robots.txt refusals and network failures become clear errors."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else None
        fatal = not (request is not None and request.meta.get("andon_detail"))
        report = self.fail if fatal else self.warn
        if failure.check(IgnoreRequest):
            report(f"request refused before download: {failure.value}", url=url, key="ignored")
        else:
            exc = failure.value
            report(f"download failed: {type(exc).__name__}: {exc}", url=url, key="download")

    def report_empty(self, response: Response, what: str = "jobs") -> None:
        """An empty list: an error without a search (a crawl that saw nothing must not close
        postings), an INFO line with one (a narrow search may match nothing)."""
        if self.source.search:
            self.logger.info(
                "%s: no %s match search %r [%s]",
                self.source.name,
                what,
                self.source.search,
                response.url,
            )
            self.crawler.stats.inc_value("andon/empty_search")
        else:
            self.fail(
                f"{self.board_key} {self.board!r} returned no {what} (empty board)",
                url=response.url,
                key="empty",
            )

    # -- items --------------------------------------------------------------------------------

    def make_item(
        self, *, external_id: str, crawled_at: datetime | None = None, **fields: Any
    ) -> JobItem:
        fields.setdefault("attribution", self.source.option("attribution"))
        if not text_or_none(fields.get("company")):
            fields["company"] = self.source.option("company")
        fields.setdefault("title", None)
        fields.setdefault("url", None)
        return JobItem(
            source=self.source.name,
            kind=self.kind,
            external_id=external_id,
            crawled_at=crawled_at or now_utc(),
            **fields,
        )


def response_encoding(response: Response) -> str:
    enc = getattr(response, "encoding", None)
    return enc or "utf-8"


def _clean(raw: bytes) -> str:
    return " ".join(raw.decode("utf-8", "replace").split())[:80]


def _excerpt(body: bytes, limit: int = 120) -> str:
    text = " ".join(body[:2000].decode("utf-8", "replace").split())
    text = re.sub(r"<[^>]+>", " ", text)
    text = " ".join(text.split())
    return text[:limit] + ("…" if len(text) > limit else "")


def first(value: Any) -> Any:
    """The first element of a list, or the value itself."""
    if isinstance(value, list):
        return value[0] if value else None
    return value
