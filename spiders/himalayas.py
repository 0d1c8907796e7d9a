"""Himalayas remote-jobs API: the newest-first browse feed (cursor) or the search endpoint (pages)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from scrapy.http import Response

from spiders.base import JobSpider, text_or_none
from spiders.fields import common_salary
from spiders.sources import DAY

DEFAULT_MAX_PAGES = 25  # a full browse is ~5,000 requests; Himalayas asks for one sweep a day


def epoch_seconds(value: Any) -> float | None:
    """pubDate is documented in ms but observed in s: compare in seconds either way."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value / 1000 if value > 1e12 else float(value)


def watermark_seconds(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return epoch_seconds(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def salary_of(job: dict[str, Any]) -> dict[str, Any] | None:
    """{minSalary, maxSalary, currency, salaryPeriod: "annual"|"hourly"|...}; all-null when none."""
    return common_salary(
        job.get("minSalary"), job.get("maxSalary"), job.get("currency"), job.get("salaryPeriod")
    )


class HimalayasSpider(JobSpider):
    """Himalayas (`kind = "himalayas"`): with `search`, `/jobs/api/search?q=…&page=N` until a page
    has no jobs; without, `/jobs/api` following `nextCursor` until it is absent, or until a
    page is entirely older than the optional `watermark` (ISO date or epoch seconds).

    `params` adds query parameters (e.g. `{seniority = "Manager,Director"}`); `max_pages` caps
    the walk (default 25). Items carry attribution "Himalayas" (its terms ask for a credit
    and a link back to `guid`). The response's `comments` (their changelog) is logged at INFO.
    """

    name = "himalayas"
    kind = "himalayas"
    api_base = "https://himalayas.app"
    board_key = "search"
    keys = frozenset({"params", "watermark", "max_pages"})
    # Himalayas refreshes its data once a day and asks not to be polled more often.
    default_schedule = "daily"
    min_interval = DAY
    # The browse or search pages and their API; `/jobs/rss` is a feed (the rss kind reads it).
    aggregator = True  # many employers' jobs
    example_url = "https://himalayas.app/jobs?q=production+manager"
    url_patterns = (r"^https?://(?:www\.)?himalayas\.app/jobs(?:/api(?:/search)?)?/?(?:[?#].*)?$",)
    custom_settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": 1}

    @classmethod
    def entry_from_url(cls, url: str) -> dict[str, Any] | None:
        """The board itself; a `q=` in the URL becomes `search`."""
        if super().entry_from_url(url) is None:
            return None
        query = parse_qs(urlsplit(url).query).get("q", [""])[0].strip()
        return {"search": query} if query else {}

    @classmethod
    def check_entry(cls, entry: dict[str, Any]) -> None:
        params = entry.get("params")
        if params is not None and not isinstance(params, dict):
            raise ValueError('`params` must be a table, e.g. {seniority = "Manager"}')
        if entry.get("watermark") not in (None, ""):
            try:
                watermark_seconds(entry["watermark"])
            except (TypeError, ValueError):
                raise ValueError("`watermark` must be an ISO date or epoch seconds") from None

    def external_id(self, raw_id: Any) -> str:
        return f"{self.kind}:{raw_id}"

    def not_found_message(self) -> str:
        return "the Himalayas API answered 404 — has the endpoint moved? (check `base_url`)"

    def page_path(self, *, cursor: str | None = None, page: int = 1) -> str:
        params: dict[str, Any] = dict(self.source.option("params") or {})
        if self.source.search:
            params.update({"q": self.source.search, "page": page})
            return f"/jobs/api/search?{urlencode(params)}"
        if cursor:
            params["cursor"] = cursor
        return "/jobs/api" + (f"?{urlencode(params)}" if params else "")

    @property
    def max_pages(self) -> int:
        return int(self.source.option("max_pages") or DEFAULT_MAX_PAGES)

    async def start(self) -> AsyncIterator[Any]:
        self._logged_comments = False
        yield self.request(self.page_path(), self.parse, meta={"page": 1})

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        data = self.parse_json(response)
        if data is None:
            return
        page: int = response.meta["page"]
        comments = text_or_none(data.get("comments"))
        if comments and not getattr(self, "_logged_comments", False):
            self._logged_comments = True
            self.logger.info("%s: Himalayas API comments: %s", self.source.name, comments)
        jobs = data.get("jobs") or []
        if self.probe:
            total = data.get("totalCount")
            self.probe_total = total if isinstance(total, int) else len(jobs)
            yield from (self.build_item(job) for job in jobs)
            return
        if not jobs:
            if page == 1:
                self.report_empty(response)
            return  # the search endpoint ends with an empty page
        watermark = watermark_seconds(self.source.option("watermark"))
        newest = None
        for job in jobs:
            published = epoch_seconds(job.get("pubDate"))
            if published is not None:
                newest = published if newest is None else max(newest, published)
            if watermark is not None and published is not None and published < watermark:
                continue
            yield self.build_item(job)
        if watermark is not None and newest is not None and newest < watermark:
            self.logger.info("%s: reached the watermark at page %d", self.source.name, page)
            return
        if page >= self.max_pages:
            self.warn(f"stopped at max_pages={self.max_pages}", url=response.url, key="max_pages")
            return
        if self.source.search:
            yield self.request(self.page_path(page=page + 1), self.parse, meta={"page": page + 1})
        elif cursor := text_or_none(data.get("nextCursor")):
            yield self.request(self.page_path(cursor=cursor), self.parse, meta={"page": page + 1})

    def build_item(self, job: dict[str, Any]) -> Any:
        restrictions = [
            r.get("name") if isinstance(r, dict) else r
            for r in job.get("locationRestrictions") or []
        ]
        salary = salary_of(job)
        guid = job.get("guid") or job.get("applicationLink")
        extra = {
            "excerpt": job.get("excerpt"),
            "seniority": job.get("seniority"),
            "categories": job.get("categories"),
            "parent_categories": job.get("parentCategories"),
            "timezone_restrictions": job.get("timezoneRestrictions"),
            "company_slug": job.get("companySlug"),
            "worldwide": not restrictions,
        }
        return self.make_item(
            external_id=self.external_id(guid),
            title=job.get("title"),
            company=text_or_none(job.get("companyName")),
            url=guid,
            apply_url=job.get("applicationLink"),
            description_html=job.get("description"),
            locations=[r for r in restrictions if text_or_none(r)],
            workplace_hint="remote",
            remote=True,  # a remote-only board
            employment_type=job.get("employmentType"),
            salary=salary,
            posted=job.get("pubDate"),
            valid_through=job.get("expiryDate"),
            attribution=self.source.option("attribution") or "Himalayas",
            extra={k: v for k, v in extra.items() if v not in (None, [], "")},
        )
