"""iCIMS career sites: Career Sites ("Jibe") `/api/jobs` with the full text in the list, or a
classic `careers-{x}.icims.com` portal read through its search pages and job pages' JSON-LD."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from parsel import Selector  # scrapy's Selector subclasses it; xpath() hands back parsel's
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from spiders.base import JobSpider, text_or_none
from spiders.fieldparse import slash_date
from spiders.jsonld import extract_job_postings, posting_fields
from spiders.sources import Source

JIBE_PAGE_SIZE = 100
MAX_SEARCH_PAGES = 200  # classic portals show 20-50 jobs a page
_CLASSIC_HOST = re.compile(r"^(?!www\.)[a-z0-9-]+\.icims\.com$")
# A Jibe careers domain is the employer's own; only these paths give it away.
_JIBE_MARKER = re.compile(r"^/(?:api/jobs|careers-home)(?:/|$)")
_JOB_LINK = re.compile(r"/jobs/(\d+)/([^/?#]*)/job")
_WORKPLACE = frozenset({"remote", "hybrid", "on-site", "onsite", "on site", "in office"})
_TEXT_FIELDS = ("description", "responsibilities", "qualifications")


def iso_time(value: Any) -> str | None:
    """Jibe's `2026-06-24T15:02:00+0000` as ISO 8601 (`+00:00`); other text unchanged."""
    text = text_or_none(value)
    if text is None:
        return None
    if "T" not in text:  # a bare date stays a date, not midnight of an unknown zone
        return text
    try:
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        return text


def header_date(value: str | None) -> str | None:
    """A classic portal's "Posted Date" (`10/12/2026`, month first) as an ISO date."""
    return (slash_date(value) or value) if value else None


def _place_text(place: dict[str, Any]) -> str | None:
    pieces = [text_or_none(place.get(k)) for k in ("city", "state", "country")]
    return ", ".join(p for p in pieces if p) or None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def jibe_locations(job: dict[str, Any]) -> tuple[list[str], dict[str, Any] | None]:
    """Every place of a Jibe job (primary first, then `additional_locations`) and the primary's parts."""
    others = [a for a in job.get("additional_locations") or [] if isinstance(a, dict)]
    code = text_or_none(job.get("country_code"))
    if code is None:  # the primary may name its country only; an additional place may code it
        code = next(
            (a["country_code"] for a in others if a.get("country") == job.get("country")
             and text_or_none(a.get("country_code"))),
            None,
        )  # fmt: skip
    parts = {
        "city": text_or_none(job.get("city")),
        "region": text_or_none(job.get("state")),
        "country": code or text_or_none(job.get("country")),
        "postal_code": text_or_none(job.get("postal_code")),
        "latitude": _number(job.get("latitude")),
        "longitude": _number(job.get("longitude")),
    }
    parts = {k: v for k, v in parts.items() if v is not None}
    full = [p.strip() for p in str(job.get("full_location") or "").split(";") if p.strip()]
    primary = (
        _place_text(job) or text_or_none(job.get("location_name")) or (full[0] if full else None)
    )
    texts = [primary] if primary else []
    if others:
        texts += [t for a in others if (t := _place_text(a))]
    else:
        texts += full[1:]
    unique = list(dict.fromkeys(texts))
    return unique, parts or None


def header_fields(node: Selector) -> dict[str, str]:
    """The `dt`/`dd` pairs of a classic job card or job page ("Job ID" → "2026-8214")."""
    fields: dict[str, str] = {}
    for tag in node.css(".iCIMS_JobHeaderTag"):
        label = " ".join(" ".join(tag.css("dt ::text").getall()).split())
        value = " ".join(" ".join(tag.css("dd ::text").getall()).split())
        if label and value:
            fields[label] = value
    return fields


def _without_iframe(url: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in parts.query.split("&") if q and not q.startswith("in_iframe="))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


class IcimsSpider(JobSpider):
    """One iCIMS board: `url` = the employer's careers domain.

    On a Career Sites ("Jibe") domain (`careers.garmin.com`), `GET /api/jobs` pages of 100 carry
    the full text; pages are read until the rows received reach `totalCount` (an empty or
    repeated page before that is an error: an incomplete pass closes nothing). A job listed at
    several sites keeps them all (`additional_locations`). On a classic `careers-{x}.icims.com`
    portal the search pages (`/jobs/search?pr=N&in_iframe=1`) give the job links, and each job
    page's JobPosting JSON-LD gives the fields (the outer page's, when the iframe page has none;
    the card's and the page's header fields when neither has any).
    """

    name = "icims"
    kind = "icims"
    board_key = "url"
    required = (("url",),)
    url_patterns = (
        r"^https?://(?!www\.)[a-z0-9-]+\.icims\.com(?:/|$)",
        r"^https?://[^/?#]+/(?:api/jobs|careers-home)(?:/|$)",
    )
    custom_settings = {"DOWNLOAD_DELAY": 1.0, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}
    example_url = "https://careers-acmefoods.icims.com/jobs/1042/production-supervisor/job"

    @classmethod
    def entry_from_url(cls, url: str) -> dict[str, Any] | None:
        """A classic `careers-{x}.icims.com/jobs/…` URL → its search page; a Jibe careers URL
        (`/careers-home/…`, `/api/jobs`) → its domain; None for any other host."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            return None
        if _CLASSIC_HOST.match(host):
            return {"url": f"{parts.scheme}://{parts.netloc}/jobs/search"}
        if _JIBE_MARKER.match(parts.path):
            return {"url": f"{parts.scheme}://{parts.netloc}"}
        return None

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        parts = urlsplit(source.url or "")
        self.root = f"{parts.scheme}://{parts.netloc}"
        self.host = (parts.hostname or "").lower()
        self.api_base = self.root
        self.classic = bool(_CLASSIC_HOST.match(self.host))
        self.seen: set[str] = set()

    @property
    def board(self) -> str:
        return self.host

    def not_found_message(self) -> str:
        what = "iCIMS portal" if self.classic else "iCIMS Career Sites API (/api/jobs)"
        return f"{what} not found at {self.host!r} (404) — check `url` in the sources file"

    async def start(self) -> AsyncIterator[Any]:
        yield self.search_request(0) if self.classic else self.jibe_request(1, 0, None)

    # -- Career Sites ("Jibe") ----------------------------------------------------------------

    def jibe_request(self, page: int, received: int, total: int | None) -> Request:
        params: dict[str, Any] = {"page": page, "limit": JIBE_PAGE_SIZE, "sortBy": "posted_date"}
        params.update(descending="true", internal="false")
        if self.source.search:
            params["keywords"] = self.source.search
        return self.request(
            f"/api/jobs?{urlencode(params)}",
            self.parse_jibe,
            headers={"Accept": "application/json"},
            meta={"page": page, "received": received, "total": total},
        )

    def parse_jibe(self, response: Response) -> Iterator[Any]:
        data = self.parse_json(response)
        if data is None:
            return
        jobs = data.get("jobs") if isinstance(data, dict) else None
        if not isinstance(jobs, list):
            self.fail("no `jobs` list in the /api/jobs answer", url=response.url, key="shape")
            return
        jobs = [j.get("data", j) for j in jobs if isinstance(j, dict)]
        jobs = [j for j in jobs if isinstance(j, dict)]
        page, received, total = (response.meta[k] for k in ("page", "received", "total"))
        if page == 1:
            count = data.get("totalCount")
            total = count if isinstance(count, int) and count >= 0 else None
            if self.probe:
                self.probe_total = total if total is not None else len(jobs)
                self.probe_company = next(
                    (c for j in jobs if (c := text_or_none(j.get("hiring_organization")))), None
                )
                yield from (self.jibe_item(j) for j in jobs if self.jibe_id(j))
                return
        new = [j for j in jobs if (jid := self.jibe_id(j)) and jid not in self.seen]
        if not new:
            self.jibe_end(response, page, received, total, repeated=bool(jobs))
            return
        for job in new:
            self.seen.add(self.jibe_id(job) or "")
            yield self.jibe_item(job)
        received += len(jobs)
        if total is None or received < total:
            yield self.jibe_request(page + 1, received, total)

    def jibe_end(
        self, response: Response, page: int, received: int, total: int | None, *, repeated: bool
    ) -> None:
        """A page with nothing new: the end, an empty board, or a pass that stopped short."""
        if page == 1:
            self.report_empty(response)
        elif total is not None and received < total:
            why = "repeats jobs already read" if repeated else "is empty"
            self.fail(
                f"pagination ended early: page {page} {why} after {received} of {total} jobs "
                "(the site caps how deep a query pages; split the board with `search`)",
                url=response.url,
                key="pagination",
            )

    @staticmethod
    def jibe_id(job: dict[str, Any]) -> str | None:
        return text_or_none(job.get("req_id") or job.get("slug"))

    def jibe_item(self, job: dict[str, Any]) -> Any:
        raw_id = self.jibe_id(job)
        slug = text_or_none(job.get("slug")) or raw_id
        lang = text_or_none(job.get("language"))
        locations, parts = jibe_locations(job)
        tags = {k: v for k, v in job.items() if re.fullmatch(r"tags\d?", k) and v}
        workplace = next(
            (t for values in tags.values() if isinstance(values, list) for t in values
             if isinstance(t, str) and t.strip().lower() in _WORKPLACE),
            None,
        )  # fmt: skip
        texts = [t for k in _TEXT_FIELDS if (t := text_or_none(job.get(k)))]
        extra = {
            "categories": [
                c["name"]
                for c in job.get("categories") or []
                if isinstance(c, dict) and c.get("name")
            ],
            "tags": tags,
            "updated": iso_time(job.get("update_date")),
            "hiring_organization": text_or_none(job.get("hiring_organization")),
            "full_location": text_or_none(job.get("full_location")),
        }
        return self.make_item(
            external_id=self.external_id(raw_id),
            title=text_or_none(job.get("title")),
            company=self.source.option("company") or text_or_none(job.get("hiring_organization")),
            url=f"{self.root}/jobs/{slug}" + (f"?lang={lang}" if lang else ""),
            apply_url=text_or_none(job.get("apply_url")),
            description_html="\n".join(texts) or None,
            locations=locations,
            location_parts=parts,
            workplace_hint=workplace,
            employment_type=text_or_none(job.get("employment_type")),
            posted=iso_time(job.get("posted_date") or job.get("create_date")),
            req_id=raw_id,
            extra={k: v for k, v in extra.items() if v},
        )

    # -- classic portal -----------------------------------------------------------------------

    def search_request(self, page: int) -> Request:
        params: dict[str, Any] = {"ss": 1, "in_iframe": 1, "pr": page}
        if self.source.search:
            params["searchKeyword"] = self.source.search
        return self.request(
            f"/jobs/search?{urlencode(params)}", self.parse_search, meta={"page": page}
        )

    def parse_search(self, response: Response) -> Iterator[Any]:
        if not 200 <= response.status < 300:
            msg, key = self.http_error_message(response)
            self.fail(msg, url=response.url, key=key)
            return
        if not hasattr(response, "css"):
            self.fail("the search page is not HTML", url=response.url, key="not_html")
            return
        page = response.meta["page"]
        cards = self.cards(response)
        if self.probe:
            yield from (self.card_item(c) for c in cards)
            return
        new = [c for c in cards if c["id"] not in self.seen]
        if not new:
            if page == 0:
                self.report_empty(response)
            return
        for card in new:
            self.seen.add(card["id"])
            yield self.request(
                card["fetch"],
                self.parse_job,
                errback=self.job_failed,
                cb_kwargs={"card": card},
                meta={"andon_detail": True},
            )
        if page + 1 < MAX_SEARCH_PAGES:
            yield self.search_request(page + 1)
        else:
            self.warn(f"stopped after {MAX_SEARCH_PAGES} search pages", key="max_pages")

    def cards(self, response: Response) -> list[dict[str, Any]]:
        """The job links of a search page with what each card shows (title, place, fields)."""
        base = response.meta.get("public_url") or response.url
        found: dict[str, dict[str, Any]] = {}
        for anchor in response.xpath("//a[@href]"):
            href = (anchor.attrib.get("href") or "")[:2000]
            match = _JOB_LINK.search(href)
            if match is None or match.group(1) in found:
                continue
            card = anchor.xpath("ancestor::li[1]") or anchor.xpath("..")
            title = " ".join(" ".join(anchor.css("h3 ::text").getall()).split())
            if not title:
                title = re.sub(r"^\d+\s*-\s*", "", anchor.attrib.get("title") or "").strip()
            place = card.xpath(
                ".//div[contains(@class, 'header')]/span[not(contains(@class, 'sr-only'))]//text()"
            ).getall()
            public = _without_iframe(urljoin(base, href))
            found[match.group(1)] = {
                "id": match.group(1),
                "url": public,
                "fetch": public + ("&" if "?" in public else "?") + "in_iframe=1",
                "title": title or None,
                "location": " ".join(" ".join(place).split()) or None,
                "fields": header_fields(card[0]) if card else {},
            }
        return list(found.values())

    def card_item(self, card: dict[str, Any]) -> Any:
        """An item from what the search page shows (when the job page gives nothing better)."""
        header = card["fields"]
        return self.make_item(
            external_id=self.external_id(card["id"]),
            title=card["title"],
            company=self.source.option("company"),
            url=card["url"],
            locations=[card["location"]] if card["location"] else [],
            posted=header_date(header.get("Posted Date") or header.get("Date Posted")),
            req_id=header.get("Job ID") or header.get("ID"),
            description_html=card.get("description_html"),
        )

    def parse_job(self, response: Response, card: dict[str, Any]) -> Iterator[Any]:
        outer = bool(response.meta.get("outer"))
        if response.status in (404, 410) and not outer:  # gone since the search listed it
            self.crawler.stats.inc_value("andon/icims/job_gone")
            return
        if not (200 <= response.status < 300 and hasattr(response, "css")):
            msg, key = self.http_error_message(response)
            self.warn(msg, url=response.url, key=key)
            yield self.card_item(card)
            return
        postings, _ = extract_job_postings(response.selector)  # type: ignore[attr-defined]  # an HTML page: a TextResponse
        if postings:
            yield self.posting_item(postings[0], card)
        elif outer:  # neither page carries JSON-LD: what the search and the job page showed
            yield self.card_item(card)
        else:
            self.crawler.stats.inc_value("andon/icims/no_jsonld")
            body = response.css(".iCIMS_JobContent, .iCIMS_InfoMsg_Job").getall()
            shown = {
                **card,
                "fields": {**card["fields"], **header_fields(response.selector)},  # type: ignore[attr-defined]  # a TextResponse
                "description_html": "\n".join(body) or None,
            }
            # Some portals put the JSON-LD on the outer page only (the iframe page holds the job)
            yield self.request(
                card["url"],
                self.parse_job,
                errback=self.job_failed,
                cb_kwargs={"card": shown},
                meta={"andon_detail": True, "outer": True},
            )

    def posting_item(self, posting: dict[str, Any], card: dict[str, Any]) -> Any:
        """An item from the job page's JobPosting, with the card's id, URL and fallbacks."""
        fields = posting_fields(posting, page_url=card["url"])
        fields["external_id"] = self.external_id(card["id"])
        fields["url"] = card["url"]
        fields["company"] = self.source.option("company") or fields["company"]
        fields["title"] = fields["title"] or card["title"]
        fields["locations"] = fields["locations"] or (
            [card["location"]] if card["location"] else []
        )
        fields["req_id"] = fields["extra"].get("identifier") or card["fields"].get("Job ID")
        return self.make_item(**fields)

    def job_failed(self, failure: Failure) -> Iterator[Any]:
        self.on_error(failure)
        yield self.card_item(failure.request.cb_kwargs["card"])  # type: ignore[attr-defined]
