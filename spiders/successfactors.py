"""SAP SuccessFactors career sites: the Career Site Builder JSON search (else its RSS feed), the
job pages' `itemprop="description"`, and the legacy `career{N}` XML job feed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlsplit

from lxml import etree
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from spiders.base import JobSpider, first, text_or_none
from spiders.fieldparse import (
    days_first,
    iso_date,
    legacy_fields,
    page_fields,
    place_parts,
    split_title,
    xml_root,
)

PAGE_SIZE = 10  # the CSB search answers 10 per page whatever is asked
MAX_PAGES = 1000  # a bad `totalJobs` must not page forever
_SF_HOST = re.compile(r"(?:^|\.)(?:successfactors|sapsf)\.(?:com|eu)$", re.I)
_CSB_HOST = re.compile(r"\.jobs\.hr\.cloud\.sap$", re.I)
# Paths a Career Site Builder site (and no other kind) uses: job pages, category pages, feeds.
_CSB_PATH = re.compile(
    r"^/(?:job/[^/]+/\d+(?:-[a-z]{2}_[A-Z]{2})?/?|go/[^/]+/\d+/?"
    r"|services/(?:rss/job|recruiting/v1/jobs)/?)$"
)
_CSB_QUERY = re.compile(r"(?:^|&)(?:utm_source=J2WRSS|createNewAlert=|locationsearch=)")
_CSRF = re.compile(r"""CSRFToken\s*=\s*["']([\w\-=+/.]{8,200})["']""")


class SuccessFactorsSpider(JobSpider):
    """An SAP SuccessFactors career site: `url` is its root (`https://careers.example.com/`).

    Career Site Builder sites answer `POST /services/recruiting/v1/jobs` (10 per page, newest
    first; pages may repeat, so ids are deduplicated); a 403 is retried once with the CSRF token
    of the home page; a 401/403/404 falls back to `/services/rss/job/`. Each job's page gives the
    description (`itemprop="description"`) and, when the entry has no `company`, the employer.
    A legacy `career{N}.successfactors.{com,eu}/career?company=<id>` URL reads the XML job feed.
    """

    name = "successfactors"
    kind = "successfactors"
    board_key = "url"
    keys: ClassVar[frozenset[str]] = frozenset({"locale"})
    required: ClassVar[tuple[tuple[str, ...], ...]] = (("url",),)
    default_schedule: ClassVar[str] = "every 12h"
    custom_settings: dict[str, Any] | None = {
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "DOWNLOAD_DELAY": 0.5,
    }
    example_url = "https://careers.acmefoods.example/job/Dayton-Plant-Manager-OH/1187654301/"
    url_patterns: ClassVar[tuple[str, ...]] = (
        r"^https?://[^/]+\.(?:successfactors|sapsf)\.(?:com|eu)/.*[?&]company=",
        r"^https?://[^/]+\.jobs\.hr\.cloud\.sap(?:/|$)",
        r"^https?://[^/]+/(?:job/[^/]+/\d+|go/[^/]+/\d+/|services/rss/job/)",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parts = urlsplit(self.source.url or "")
        self.root = f"{parts.scheme}://{parts.netloc}"
        self.hostname = (parts.hostname or "").lower()
        self.locale = str(self.source.option("locale") or "en_US")
        self.legacy_company = legacy_company(self.source.url or "")
        self.api_base = self.root
        self.seen: set[str] = set()
        self.site_company: str | None = None

    # -- the kind's metadata --------------------------------------------------------------------

    @classmethod
    def entry_from_url(cls, url: str) -> dict[str, Any] | None:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            return None
        if _SF_HOST.search(host):
            company = legacy_company(url)
            if company is None:
                return None
            return {"url": f"{parts.scheme}://{parts.netloc}/career?company={quote(company)}"}
        if _CSB_HOST.search(host) or _CSB_PATH.match(parts.path) or _CSB_QUERY.search(parts.query):
            return {"url": f"{parts.scheme}://{parts.netloc}/"}
        return None

    @classmethod
    def check_entry(cls, entry: dict[str, Any]) -> None:
        url = entry.get("url")
        host = (urlsplit(url).hostname or "") if isinstance(url, str) else ""
        if _SF_HOST.search(host) and legacy_company(str(url)) is None:
            raise ValueError(
                "a SuccessFactors career host needs the company id in `url`, e.g. "
                "https://career5.successfactors.eu/career?company=acmeP"
            )

    def external_id(self, raw_id: str) -> str:
        return f"{self.kind}:{self.legacy_company or self.hostname}:{raw_id}"

    def fail(self, message: str, *, url: str | None, key: str) -> None:
        """Every error line names the sources-file key to check."""
        if "`" not in message:
            message += " — check `url` (the career site's root) in the sources file"
        super().fail(message, url=url, key=key)

    def not_found_message(self) -> str:
        return f"career site {self.source.url!r} not found (404) — check `url` in the sources file"

    # -- the Career Site Builder JSON search ----------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        if self.legacy_company is not None:
            query = f"company={quote(self.legacy_company)}&career_ns=job_listing_summary"
            yield self.request(f"/career?{query}&resultType=XML", self.parse_legacy)
        else:
            yield self.search_request(0)

    def search_request(self, page: int, *, csrf: str | None = None, **meta: Any) -> Request:
        body = {
            "locale": self.locale,
            "pageNumber": page,
            "sortBy": "recent",
            "keywords": self.source.search or "",
            "location": "",
            "facetFilters": {},
            "brand": "",
            "skills": [],
            "categoryId": 0,
            "alertId": "",
            "rcmCandidateId": "",
        }
        headers = {"Accept": "application/json"}
        if csrf:
            headers["X-CSRF-Token"] = csrf
        return self.json_request(
            "/services/recruiting/v1/jobs",
            self.parse_search,
            data=body,
            method="POST",
            headers=headers,
            dont_filter=csrf is not None,  # the retry repeats page 0's body
            meta={"page": page, "csrf": csrf, **meta},
        )

    def parse_search(self, response: Response) -> Iterator[Any]:
        meta = response.meta
        if response.status == 403 and meta["page"] == 0 and "csrf" not in meta.get("tried", ()):
            # Some tenants want the home page's CSRF token (and its cookies) with the search.
            yield self.request(
                "/", self.retry_with_csrf, errback=self.csrf_failed, dont_filter=True
            )
            return
        if response.status in (401, 403, 404) and meta["page"] == 0:
            yield self.rss_request(f"HTTP {response.status}")
            return
        data = self.parse_json(response)
        if data is None:
            return
        results = data.get("jobSearchResult") if isinstance(data, dict) else None
        if not isinstance(results, list):
            self.fail("no `jobSearchResult` list in the JSON search", url=response.url, key="shape")
            return
        yield from self.search_page(response, data, results)

    def retry_with_csrf(self, response: Response) -> Iterator[Request]:
        page = response.body[:500_000].decode("utf-8", "replace")
        found = _CSRF.search(page) if 200 <= response.status < 300 else None
        if found is None:
            yield self.rss_request("HTTP 403")
            return
        yield self.search_request(0, csrf=found.group(1), tried=("csrf",))

    def csrf_failed(self, failure: Failure) -> Iterator[Request]:
        yield self.rss_request("HTTP 403")

    def search_page(
        self, response: Response, data: dict[str, Any], results: list[Any]
    ) -> Iterator[Any]:
        page: int = response.meta["page"]
        # the first page's total holds: later pages may count differently
        total = response.meta.get("total") or int(data.get("totalJobs") or 0)
        size = response.meta.get("size") or len(results) or PAGE_SIZE
        if page == 0:
            self.probe_total = total
            if not results:
                self.report_empty(response)
                return
        elif not results:
            if page * size < total:
                self.fail(
                    f"pagination ended early: an empty page {page} of {total} jobs",
                    url=response.url,
                    key="pagination",
                )
            return
        for result in results:
            job = (result.get("response") if isinstance(result, dict) else None) or result
            listed = self.from_search(job) if isinstance(job, dict) else None
            if listed is not None:
                yield from self.with_detail(listed)
        if not self.probe and (page + 1) * size < total and page + 1 < MAX_PAGES:
            yield self.search_request(
                page + 1, size=size, total=total, csrf=response.meta.get("csrf")
            )

    def from_search(self, job: dict[str, Any]) -> dict[str, Any] | None:
        job_id = text_or_none(job.get("id"))
        title = text_or_none(job.get("unifiedStandardTitle") or job.get("title"))
        if job_id is None or title is None:
            self.warn("a job without id or title in the JSON search", key="no_id")
            return None
        slug = text_or_none(job.get("unifiedUrlTitle") or job.get("urlTitle"))
        slug = slug or re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-")
        short = job.get("jobLocationShort") or []
        places = [
            p.strip() for p in ([short] if isinstance(short, str) else short) if text_or_none(p)
        ]
        parts = place_parts(places[0]) if places else None
        country = text_or_none(first(job.get("jobLocationCountry")))
        if parts is not None and "country" not in parts and country and len(country) == 2:
            parts["country"] = country.upper()
        return {
            "id": job_id,
            "title": title,
            "url": f"{self.root}/job/{slug}/{job_id}-{self.locale}",
            "locations": places,
            "location_parts": parts,
            "posted": iso_date(job.get("unifiedStandardStart") or job.get("postedDate")),
            "valid_through": iso_date(job.get("unifiedStandardEnd")),
            "description_html": None,
        }

    # -- the RSS fallback -----------------------------------------------------------------------

    def rss_request(self, why: str) -> Request:
        keywords = f"({self.source.search})" if self.source.search else ""
        path = f"/services/rss/job/?locale={self.locale}&keywords={quote(keywords)}"
        return self.request(path, self.parse_rss, meta={"json_status": why}, dont_filter=True)

    def parse_rss(self, response: Response) -> Iterator[Any]:
        root = xml_root(response) if 200 <= response.status < 300 else None
        if root is None or etree.QName(root).localname not in ("rss", "RDF"):
            got = f"HTTP {response.status}" if root is None else "not an RSS feed"
            self.fail(
                f"neither the Career Site Builder JSON search ({response.meta['json_status']}) "
                f"nor the RSS feed ({got}) answers — check `url` (the career site's root, "
                "e.g. https://careers.example.com/)",
                url=self.source.url,
                key="no_search",
            )
            return
        channel = text_or_none(root.findtext("channel/title"))
        if channel and " - " in channel:
            self.site_company = self.probe_company = channel.split(" - ")[0].strip()
        items = root.findall("channel/item")
        self.probe_total = len(items)
        if not items:
            self.report_empty(response, "feed items")
            return
        for node in items:
            listed = self.from_rss(node)
            if listed is not None:
                yield from self.with_detail(listed)

    def from_rss(self, node: Any) -> dict[str, Any] | None:
        link = text_or_none(node.findtext("link")) or text_or_none(node.findtext("guid")) or ""
        url = link.split("?", 1)[0]
        ids = [s for s in urlsplit(url).path.split("/") if s.isdigit()]
        title, place = split_title(text_or_none(node.findtext("title")) or "")
        if not ids or not title:
            self.warn(f"a feed item without a job id or title ({link!r})", key="no_id")
            return None
        teaser = text_or_none(node.findtext("description"))
        return {
            "id": ids[-1],
            "title": title,
            "url": url,
            "locations": [place] if place else [],
            "location_parts": place_parts(place),
            "posted": iso_date(node.findtext("pubDate")),
            "description_html": teaser if teaser and teaser.strip(". ") else None,
        }

    # -- job pages ------------------------------------------------------------------------------

    def with_detail(self, listed: dict[str, Any]) -> Iterator[Any]:
        """The item, after its job page when not probing; each id once (pages may repeat)."""
        if listed["id"] in self.seen:
            return
        self.seen.add(listed["id"])
        if self.probe:
            yield self.build_item(listed, {})
            return
        yield self.request(
            listed["url"],
            self.parse_detail,
            errback=self.detail_failed,
            cb_kwargs={"listed": listed},
            meta={"andon_detail": True},
        )

    def parse_detail(self, response: Response, listed: dict[str, Any]) -> Iterator[Any]:
        page: dict[str, Any] = {}
        if not 200 <= response.status < 300:  # a vanished job page: the list fields still hold
            msg, key = self.http_error_message(response)
            self.warn(f"job page: {msg}", url=response.url, key=key)
        elif not (page := page_fields(response.body))["description_html"]:
            self.warn("no itemprop=description on the job page", url=response.url, key="no_desc")
        yield self.build_item(listed, page)

    def detail_failed(self, failure: Failure) -> Iterator[Any]:
        self.on_error(failure)
        yield self.build_item(failure.request.cb_kwargs["listed"], {})  # type: ignore[attr-defined]

    def build_item(self, listed: dict[str, Any], page: dict[str, Any]) -> Any:
        company = self.source.option("company") or page.get("company") or self.site_company
        return self.make_item(
            external_id=self.external_id(listed["id"]),
            title=listed["title"],
            company=company,
            url=listed["url"],
            description_html=page.get("description_html") or listed.get("description_html"),
            locations=listed["locations"] or page.get("locations") or [],
            location_parts=listed["location_parts"] or page.get("location_parts"),
            posted=listed["posted"] or page.get("posted"),
            valid_through=listed.get("valid_through"),
            req_id=listed.get("req_id"),
            employment_type=listed.get("employment_type"),
            extra={k: v for k, v in (listed.get("extra") or {}).items() if v},
        )

    # -- the legacy XML job feed ----------------------------------------------------------------

    def parse_legacy(self, response: Response) -> Iterator[Any]:
        root = xml_root(response) if 200 <= response.status < 300 else None
        if root is None or root.tag != "Job-Listing":
            got = f"<{root.tag}>" if root is not None else f"HTTP {response.status}"
            self.fail(
                f"not the SuccessFactors job feed ({got}) — check `url` "
                "(https://career{N}.successfactors.com/career?company=<company id>)",
                url=response.url,
                key="not_feed" if response.status < 400 else f"http_{response.status}",
            )
            return
        jobs = root.findall("Job")
        self.probe_total = len(jobs)
        if not jobs:
            self.report_empty(response)
            return
        rows = [legacy_fields(job) for job in jobs]
        day_first = days_first([r.get("Posted-Date") for r in rows])
        for row in rows:
            item = self.from_legacy(row, day_first=day_first)
            if item is not None:
                yield item

    def from_legacy(self, row: dict[str, Any], *, day_first: bool) -> Any:
        req, title = row.get("ReqId"), row.get("JobTitle")
        if not req or not title:
            self.warn("a feed job without ReqId or JobTitle", key="no_id")
            return None
        query = f"company={quote(self.legacy_company or '')}&career_job_req_id={quote(req)}"
        city, region, country = row["city"], row["region"], row["country"]
        named = ", ".join(p for p in (city, region, country) if p)
        parts = {"city": city, "region": region, "country": country} if city else None
        if parts is not None and not (country and len(country) == 2):
            parts["country"] = None
        parts = {k: v for k, v in parts.items() if v} if parts else None
        return self.build_item(
            {
                "id": req,
                "req_id": req,
                "title": title,
                "url": f"{self.root}/career?{query}&career_ns=job_listing",
                "locations": [p for p in (row["location"], named) if p],
                "location_parts": parts,
                "posted": iso_date(row.get("Posted-Date"), day_first=day_first),
                "description_html": row.get("Job-Description"),
                "employment_type": row.get("employment"),
                "extra": {"department": row.get("department")},
            },
            {},
        )


def legacy_company(url: str) -> str | None:
    """The `company=` id of a `career{N}.successfactors.*` URL (None elsewhere or without one)."""
    parts = urlsplit(url)
    if not _SF_HOST.search((parts.hostname or "").lower()):
        return None
    value = first(parse_qs(parts.query).get("company"))
    return text_or_none(value)
