"""schema.org JobPosting in JSON-LD: lenient extraction, and the spider for career pages and sitemaps."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from parsel import Selector
from scrapy.http import Response
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

from spiders.base import JobSpider, first, text_or_none

DEFAULT_MAX_PAGES = 500
_PLURAL_TITLE = re.compile(
    r"\b(jobs|positions|vacancies|openings|careers)\b|^\s*[\d,.]+\+?\s", re.I
)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_SCRIPTS = (
    "//script[contains(translate(@type, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', "
    "'abcdefghijklmnopqrstuvwxyz'), 'ld+json')]/text()"
)


def _strip_js_comments(text: str) -> str:
    """Drop `//…` and `/*…*/` comments outside JSON strings (CMSes leave them in script blocks)."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                in_string = False
            i += 1
        elif ch == '"':
            in_string = True
            out.append(ch)
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def loads_lenient(block: str) -> Any | None:
    """One script block as JSON, tolerating CDATA, HTML/JS comments, raw newlines in strings
    and trailing commas; None when it still is not JSON."""
    text = block.strip()
    for junk in ("<![CDATA[", "]]>", "<!--", "-->"):
        text = text.replace(junk, "")
    text = text.strip().rstrip(";")
    try:
        return json.loads(text, strict=False)
    except json.JSONDecodeError:
        pass
    cleaned = _TRAILING_COMMA.sub(r"\1", _strip_js_comments(text)).strip()
    try:
        return json.loads(cleaned, strict=False)
    except json.JSONDecodeError:
        pass
    start = min((i for i in (cleaned.find("{"), cleaned.find("[")) if i >= 0), default=-1)
    if start < 0:
        return None
    try:
        value, _ = json.JSONDecoder(strict=False).raw_decode(cleaned[start:])
    except json.JSONDecodeError:
        return None
    return value


def _is_type(node: dict[str, Any], wanted: str) -> bool:
    types = node.get("@type")
    types = types if isinstance(types, list) else [types]
    for t in types:
        if isinstance(t, str) and t.rsplit("/", 1)[-1].rsplit(":", 1)[-1].lower() == wanted:
            return True
    return False


def iter_typed(value: Any, wanted: str = "jobposting") -> Iterator[dict[str, Any]]:
    """Every dict of the given @type in a JSON-LD document: lists, @graph and nesting included."""
    if isinstance(value, list):
        for element in value:
            yield from iter_typed(element, wanted)
    elif isinstance(value, dict):
        if _is_type(value, wanted):
            yield value
            return
        for child in value.values():
            if isinstance(child, dict | list):
                yield from iter_typed(child, wanted)


def extract_job_postings(page: str | Selector) -> tuple[list[dict[str, Any]], int]:
    """All JobPosting objects of an HTML page, and the number of unreadable script blocks."""
    sel = page if isinstance(page, Selector) else Selector(text=page)
    postings: list[dict[str, Any]] = []
    bad = 0
    for block in sel.xpath(_SCRIPTS).getall():
        data = loads_lenient(block)
        if data is None:
            bad += bool(block.strip())
            continue
        postings.extend(iter_typed(data))
    return postings, bad


def _name(value: Any) -> str | None:
    value = first(value)
    if isinstance(value, dict):
        return text_or_none(value.get("name"))
    return text_or_none(value)


def _address(place: Any) -> tuple[str | None, dict[str, Any]]:
    if isinstance(place, str):
        return text_or_none(place), {}
    if not isinstance(place, dict):
        return None, {}
    address = first(place.get("address"))
    if isinstance(address, str):
        text = text_or_none(address)
        return text, {}
    address = address if isinstance(address, dict) else {}
    parts = {
        "city": text_or_none(address.get("addressLocality")),
        "region": _name(address.get("addressRegion")),
        "country": _name(address.get("addressCountry")),
        "postal_code": text_or_none(address.get("postalCode")),
    }
    geo = place.get("geo") if isinstance(place.get("geo"), dict) else {}
    if geo.get("latitude") is not None:
        parts["latitude"] = geo.get("latitude")
        parts["longitude"] = geo.get("longitude")
    parts = {k: v for k, v in parts.items() if v is not None}
    text = ", ".join(str(parts[k]) for k in ("city", "region", "country") if k in parts)
    return text or _name(place), parts


def _salary(base: Any) -> dict[str, Any] | None:
    base = first(base)
    if not isinstance(base, dict):
        return {"min": base, "max": base} if base not in (None, "") else None
    value = base.get("value")
    salary: dict[str, Any] = {"currency": base.get("currency")}
    if isinstance(value, dict):
        if value.get("value") is not None:
            salary["min"] = salary["max"] = value.get("value")
        salary["min"] = value.get("minValue", salary.get("min"))
        salary["max"] = value.get("maxValue", salary.get("max"))
        salary["unit"] = value.get("unitText") or base.get("unitText")
    else:
        salary["min"] = salary["max"] = value
        salary["unit"] = base.get("unitText")
    if salary.get("min") is None and salary.get("max") is None:
        return None
    return salary


def _description(value: Any) -> str | None:
    text = text_or_none(value)
    if text and "<" not in text and "&lt;" in text:
        text = html.unescape(text)  # HTML-escaped description: `&lt;p&gt;`
    return text


def posting_fields(posting: dict[str, Any], *, page_url: str) -> dict[str, Any]:
    """JobItem fields (and `external_id`) from one JobPosting object, values as given."""
    org = _name(posting.get("hiringOrganization"))
    ident = first(posting.get("identifier"))
    ident_value = text_or_none(ident.get("value") if isinstance(ident, dict) else ident)
    if ident_value:
        owner = (
            org
            or (_name(ident) if isinstance(ident, dict) else None)
            or urlsplit(page_url).hostname
        )
        external_id = f"jsonld:{owner}:{ident_value}"
    else:
        external_id = f"jsonld:{page_url}"
    locations: list[str] = []
    location_parts: dict[str, Any] | None = None
    places = posting.get("jobLocation")
    for place in places if isinstance(places, list) else [places]:
        text, parts = _address(place)
        if text:
            locations.append(text)
        if location_parts is None and parts:
            location_parts = parts
    title = text_or_none(posting.get("title"))
    extra = {
        "identifier": ident_value,
        "applicant_location_requirements": posting.get("applicantLocationRequirements"),
        "industry": posting.get("industry"),
        "occupational_category": posting.get("occupationalCategory"),
        "direct_apply": posting.get("directApply"),
    }
    url = text_or_none(first(posting.get("url")))
    return {
        "external_id": external_id,
        "title": html.unescape(title) if title else None,
        "company": org,
        "url": urljoin(page_url, url) if url else page_url,
        "description_html": _description(posting.get("description")),
        "locations": locations,
        "location_parts": location_parts,
        "workplace_hint": text_or_none(first(posting.get("jobLocationType"))),
        "employment_type": posting.get("employmentType"),
        "salary": _salary(posting.get("baseSalary")),
        "posted": posting.get("datePosted"),
        "valid_through": posting.get("validThrough"),
        "extra": {k: v for k, v in extra.items() if v not in (None, "", [])},
    }


class JsonLdSpider(JobSpider):
    """Any career site with schema.org JobPosting JSON-LD.

    `start_urls` are job pages or listing pages: a page with JobPosting objects yields them;
    a page without follows its links that match `link_pattern` (a regex on the absolute URL)
    one level deep. `sitemap` is a sitemap.xml or sitemap index whose page URLs matching
    `link_pattern` are fetched as job pages. A JobPosting needs a `datePosted` and a title that
    is not a plural listing ("… jobs in …", as on search-result pages). The external id is
    `identifier.value` with the organisation, else the page's canonical URL. `max_pages`
    (default 500) caps the pages fetched.
    """

    name = "jsonld"
    kind = "jsonld"
    board_key = "start_urls"

    async def start(self) -> AsyncIterator[Any]:
        self.items_found = 0
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

    def follow(self, url: str, callback: Any) -> Any:
        if self.pages_requested >= int(self.source.option("max_pages") or DEFAULT_MAX_PAGES):
            if self.pages_requested == int(self.source.option("max_pages") or DEFAULT_MAX_PAGES):
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
        postings, bad = extract_job_postings(response.selector)
        if bad:
            self.warn(f"{bad} unreadable JSON-LD block(s)", url=response.url, key="bad_jsonld")
        found = 0
        for posting in postings:
            fields = posting_fields(posting, page_url=page_url)
            if not fields["posted"]:
                self.crawler.stats.inc_value("andon/jsonld/skipped_no_date")
                continue
            if not fields["title"] or _PLURAL_TITLE.search(fields["title"]):
                self.crawler.stats.inc_value("andon/jsonld/skipped_listing")
                continue
            found += 1
            self.items_found += 1
            yield self.make_item(**fields)
        if found or not response.meta.get("start_page"):
            return
        # A listing page: follow its links to job pages.
        if self.link_pattern is None:
            self.fail(
                "no JobPosting on this start page and no `link_pattern` to follow links to job pages",
                url=response.url,
                key="no_postings",
            )
            return
        base = self.public_url(response)
        seen: set[str] = set()
        for href in response.xpath("//a/@href").getall():
            link = urljoin(base, href.strip())
            if urlsplit(link).scheme not in ("http", "https") or link in seen:
                continue
            if self.link_pattern.search(link):
                seen.add(link)
                if (req := self.follow(link, self.parse_page)) is not None:
                    yield req
        if not seen:
            self.fail(
                f"no JobPosting on this page and no link matches link_pattern {self.link_pattern.pattern!r}",
                url=response.url,
                key="no_postings",
            )

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

    def closed(self, reason: str) -> None:
        if reason == "finished" and not getattr(self, "items_found", 0) and not self.errors:
            self.fail("found no JobPosting on any page", url=None, key="no_postings")
