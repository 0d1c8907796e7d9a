"""schema.org JobPosting in JSON-LD: the spider for career pages and sitemaps whose job pages carry it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy.http import Response
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

from spiders.base import JobSpider
from spiders.schemaorg import extract_job_postings, posting_fields

# Re-exported: other kinds read job pages with these.
__all__ = ["JsonLdSpider", "extract_job_postings", "posting_fields"]

DEFAULT_MAX_PAGES = 500
PROBE_PAGES = 3  # job pages a probe opens when the start page itself carries no JobPosting
# A path that looks like a job page, in the languages of the plants andon covers; followed on
# the start page's own host when the entry has no `link_pattern`.
_JOB_PATH = re.compile(
    r"(?:^|[/_.\-])(?:jobs?|careers?|positions?|openings?|vacanc(?:y|ies)|stellen\w{0,8}|"
    r"stellenangebot\w{0,2}|emplois?|empleos?|offres?|ofertas?|vagas?|karriere|requisitions?|"
    r"postings?|jobdetail\w{0,4}|job-detail\w{0,4}|opportunit(?:y|ies))(?:[/_.\-?]|$)",
    re.IGNORECASE,
)
_PLURAL_TITLE = re.compile(
    r"\b(jobs|positions|vacancies|openings|careers)\b|^\s*[\d,.]+\+?\s", re.I
)


class JsonLdSpider(JobSpider):
    """Any career site with schema.org JobPosting JSON-LD.

    `start_urls` are job pages or listing pages: a page with JobPosting objects yields them;
    a page without follows its links that match `link_pattern` (a regex on the absolute URL)
    one level deep; without `link_pattern`, its links on the same host whose path looks like a
    job page (job, jobs, careers, position, opening, vacancy, stellen, emploi, empleo, ...). `sitemap` is a sitemap.xml or sitemap index whose page URLs matching
    `link_pattern` are fetched as job pages. A JobPosting needs a `datePosted` and a title that
    is not a plural listing ("… jobs in …", as on search-result pages). The external id is
    `identifier.value` with the organisation, else the page's canonical URL. `max_pages`
    (default 500) caps the pages fetched.
    """

    name = "jsonld"
    kind = "jsonld"
    board_key = "start_urls"
    keys = frozenset({"start_urls", "sitemap", "link_pattern", "max_pages"})
    required = (("start_urls", "sitemap"),)
    default_schedule = "daily"
    url_keys = ("sitemap",)
    example_url = "https://careers.acmefoods.example/jobs"
    url_patterns = (r"^https?://[^/?#]+",)
    recognition_rank = 2

    @classmethod
    def entry_from_url(cls, url: str) -> dict[str, Any] | None:
        """Any web page: a sitemap (`…sitemap….xml`) or a start page."""
        if super().entry_from_url(url) is None:
            return None
        path = urlsplit(url).path.lower()
        if "sitemap" in path and path.endswith((".xml", ".xml.gz")):
            return {"sitemap": url}
        return {"start_urls": [url]}

    @classmethod
    def check_entry(cls, entry: dict[str, Any]) -> None:
        from spiders.sources import check_http_url

        start_urls = entry.get("start_urls")
        if start_urls is not None:
            urls = [start_urls] if isinstance(start_urls, str) else start_urls
            if not isinstance(urls, list):
                raise ValueError("`start_urls` must be a list of URLs")
            for u in urls:
                check_http_url(u, "start_urls")
        link_pattern = entry.get("link_pattern")
        if link_pattern is not None:
            try:
                re.compile(link_pattern)
            except (re.error, TypeError) as exc:
                raise ValueError(f"`link_pattern` {link_pattern!r} is not a regex: {exc}") from None
        max_pages = entry.get("max_pages")
        if max_pages is not None and (not isinstance(max_pages, int) or max_pages < 1):
            raise ValueError("`max_pages` must be a positive whole number")

    @classmethod
    def prepare_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        if isinstance(options.get("start_urls"), str):
            options = {**options, "start_urls": [options["start_urls"]]}
        return options

    async def start(self) -> AsyncIterator[Any]:
        self.items_found = 0
        self.skipped_no_date = 0
        self.pages_requested = 0
        pattern = self.source.option("link_pattern")
        self.link_pattern = re.compile(pattern) if pattern else None
        for url in self.source.option("start_urls") or []:
            yield self.request(url, self.parse_page, meta={"start_page": True}, dont_filter=True)
        if sitemap := self.source.option("sitemap"):
            yield self.request(sitemap, self.parse_sitemap, meta={"start_page": True})

    def not_found_message(self) -> str:
        return "page not found (404) — check `start_urls`/`sitemap` in the sources file"

    def public_url(self, response: Response) -> str:
        return response.meta.get("public_url") or response.url

    def checked(self, response: Response) -> bool:
        """True for a usable 2xx page; otherwise record why (an error for the source's own URLs)."""
        if 200 <= response.status < 300:
            return True
        msg, key = self.http_error_message(response)
        if response.meta.get("start_page"):
            self.fail(msg, url=response.url, key=key)
        else:
            self.warn(msg, url=response.url, key=key)
        return False

    @property
    def max_pages(self) -> int:
        if self.probe:
            return PROBE_PAGES
        return int(self.source.option("max_pages") or DEFAULT_MAX_PAGES)

    def follow(self, url: str, callback: Any) -> Any:
        if self.pages_requested >= self.max_pages:
            if self.pages_requested == self.max_pages and not self.probe:
                self.warn("max_pages reached; not following more links", key="max_pages")
                self.pages_requested += 1
            return None
        self.pages_requested += 1
        return self.request(url, callback, meta={"andon_detail": True})

    def parse_page(self, response: Response) -> Iterator[Any]:
        if not self.checked(response):
            return
        if not hasattr(response, "text"):
            self.warn("not a text page", url=response.url, key="not_text")
            return
        page_url = self.public_url(response)
        canonical = response.xpath("//link[@rel='canonical']/@href").get()
        if canonical and urlsplit(canonical).scheme in ("http", "https"):
            page_url = canonical.strip()
        postings, bad = extract_job_postings(response.selector)  # type: ignore[attr-defined]  # an HTML page: a TextResponse
        if bad:
            self.warn(f"{bad} unreadable JSON-LD block(s)", url=response.url, key="bad_jsonld")
        found = undated = 0
        for posting in postings:
            fields = posting_fields(posting, page_url=page_url)
            if not fields["posted"]:
                self.crawler.stats.inc_value("andon/jsonld/skipped_no_date")
                self.skipped_no_date += 1
                undated += 1
                continue
            if not fields["title"] or _PLURAL_TITLE.search(fields["title"]):
                self.crawler.stats.inc_value("andon/jsonld/skipped_listing")
                continue
            found += 1
            self.items_found += 1
            yield self.make_item(**fields)
        if response.meta.get("start_page") and self.probe and found:
            self.probe_total = found
        if found or undated or not response.meta.get("start_page"):
            return  # a job page (kept, or undated: `closed` says so), or a followed page
        # A listing page: follow its links to job pages.
        # (a probe opens a few of them; the postings it counts are those it saw)
        links = self.job_links(response)
        if not links:
            what = (
                f"no link matches link_pattern {self.link_pattern.pattern!r}"
                if self.link_pattern is not None
                else "no link on the same host looks like a job page (add `link_pattern`, "
                "a regex on the job pages' URLs)"
            )
            self.fail(f"no JobPosting on this page and {what}", url=response.url, key="no_postings")
            return
        for link in links:
            if (req := self.follow(link, self.parse_page)) is not None:
                yield req

    def job_links(self, response: Response) -> list[str]:
        """The start page's links to follow: those matching `link_pattern`, else the same-host
        links whose path looks like a job page (job, careers, stellen, emploi, ...)."""
        base = self.public_url(response)
        host = urlsplit(base).hostname
        links: list[str] = []
        seen: set[str] = {base.split("#")[0]}
        for href in response.xpath("//a/@href").getall():
            link = urljoin(base, href.strip()).split("#")[0]
            parts = urlsplit(link)
            if parts.scheme not in ("http", "https") or link in seen:
                continue
            if self.link_pattern is not None:
                wanted = bool(self.link_pattern.search(link))
            else:
                wanted = parts.hostname == host and bool(_JOB_PATH.search(parts.path[:300]))
            if wanted:
                seen.add(link)
                links.append(link)
        return links

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        if not self.checked(response):
            return
        body = response.body
        if body[:2] == b"\x1f\x8b":
            body = gunzip(body, max_size=self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        try:
            sitemap = Sitemap(body)
        except Exception as exc:  # lxml raises several types on garbage
            self.fail(f"not a sitemap: {exc}", url=response.url, key="bad_sitemap")
            return
        base = self.public_url(response)
        if sitemap.type == "sitemapindex":
            for entry in sitemap:
                yield self.request(
                    urljoin(base, entry["loc"]),
                    self.parse_sitemap,
                    meta={"start_page": response.meta.get("start_page")},
                )
            return
        matched = 0
        for entry in sitemap:
            link = urljoin(base, entry.get("loc", ""))
            if urlsplit(link).scheme not in ("http", "https"):
                continue
            if self.link_pattern is None or self.link_pattern.search(link):
                matched += 1
                if (req := self.follow(link, self.parse_page)) is not None:
                    yield req
        self.crawler.stats.inc_value("andon/jsonld/sitemap_urls", matched)
        if self.probe:
            self.probe_total = (self.probe_total or 0) + matched

    def closed(self, reason: str) -> None:
        if reason == "finished" and not getattr(self, "items_found", 0) and not self.errors:
            skipped = getattr(self, "skipped_no_date", 0)
            if skipped:
                self.fail(
                    f"kept 0: all {skipped} JobPostings lack `datePosted` (andon needs a posting "
                    "date) — ask the site to add it, or read the site through its feed instead",
                    url=None,
                    key="all_dropped_no_date",
                )
            else:
                self.fail("found no JobPosting on any page", url=None, key="no_postings")
            return
        super().closed(reason)
