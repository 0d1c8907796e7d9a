"""Workday career sites through their CXS JSON: POSTed list pages, then one GET per job detail."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import Request, Response
from twisted.python.failure import Failure

from spiders.base import JobSpider, first, now_utc, text_or_none
from spiders.fields import days_ago
from spiders.sources import Source

PAGE_SIZE = 20  # the CXS API rejects larger pages on some tenants
TOTAL_CAP = 2000  # Workday never reports more; beyond it results wrap around
SPLIT_FACET = "jobFamilyGroup"
MAX_WAITING = 200  # failed details held back until a detail names the employer
_LOCALE = re.compile(r"^[a-z]{2}(-[A-Za-z]{2,4})?$")
# "Posted 30+ Days Ago": the age is a lower bound (Workday stops counting at 30).
_AT_LEAST = re.compile(r"\d\s*\+\s*days?\b", re.IGNORECASE)
# A location code some tenants use: "US-MI-Detroit" (country, region, city).
_LOCATION_CODE = re.compile(r"^([A-Z]{2,3})-([A-Z0-9]{1,3})-(.{1,100})$")


def location_text(value: str) -> str:
    """ "US-MI-Detroit" → "Detroit, MI, US"; any other location as given."""
    m = _LOCATION_CODE.match(value.strip())
    return f"{m.group(3)}, {m.group(2)}, {m.group(1)}" if m else value


def posted_date(value: Any, now: datetime) -> Any:
    """`postedOn` is relative ("Posted 3 Days Ago", "Posted 30+ Days Ago"): an ISO date
    counted back from the crawl; an absolute date as given."""
    return days_ago(value, now) or value


def posted_is_bound(value: Any) -> bool:
    """True for "Posted 30+ Days Ago": the date counted back is a bound (posted then or earlier)."""
    return isinstance(value, str) and len(value) <= 60 and _AT_LEAST.search(value) is not None


def tenant_and_site(url: str) -> tuple[str, str, str]:
    """(`scheme://host`, tenant, site) from a careers URL.

    `https://hitachi.wd1.myworkdayjobs.com/hitachi` and `…/en-US/hitachi` give tenant
    "hitachi", site "hitachi"; `https://wd3.myworkdaysite.com/recruiting/{tenant}/{site}` works too.
    """
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if segments and _LOCALE.match(segments[0]):
        segments = segments[1:]
    host = f"{parts.scheme}://{parts.netloc}"
    if len(segments) >= 3 and segments[0] == "recruiting":
        return host, segments[1], segments[2]
    if len(segments) >= 3 and segments[:2] == ["wday", "cxs"]:
        return host, segments[2], segments[3] if len(segments) > 3 else ""
    tenant = (parts.hostname or "").split(".")[0]
    return host, tenant, segments[0] if segments else ""


class WorkdaySpider(JobSpider):
    """One Workday tenant/site: `url` is the careers page (`https://{tenant}.wdN.myworkdayjobs.com/{site}`).

    Options: `tenant`/`site` override what the URL gives; `facets` pre-applies CXS facets
    (`{jobFamilyGroup = ["<id>"]}`); `search` becomes `searchText`. Pages of 20 are POSTed until
    the first page's `total` (later pages may say 0). Workday caps `total` at 2,000, so a capped
    list is split into one walk per `jobFamilyGroup` value, each under the cap. Each posting's
    detail adds the description, the real posting date (`startDate`), country and `remoteType`;
    when a detail fails the list fields still make an item.
    """

    name = "workday"
    kind = "workday"
    board_key = "url"
    keys = frozenset({"tenant", "site", "facets", "max_jobs"})
    required = (("url",),)
    example_url = "https://acme.wd5.myworkdayjobs.com/en-US/External/job/Plant-Manager_R123"
    url_patterns = (
        r"^https?://[^/?#]+\.myworkdayjobs\.com/",
        r"^https?://[^/?#]*myworkdaysite\.com/recruiting/",
    )

    @classmethod
    def entry_from_url(cls, url: str) -> dict[str, Any] | None:
        """The careers URL without a job path (`…/en-US/site/job/…` → `…/site`)."""
        if super().entry_from_url(url) is None:
            return None
        host, tenant, site = tenant_and_site(url)
        if not (tenant and site):
            return None
        parts = urlsplit(url)
        if "/recruiting/" in parts.path:
            return {"url": f"{host}/recruiting/{tenant}/{site}"}
        return {"url": f"{host}/{site}"}

    @classmethod
    def check_entry(cls, entry: dict[str, Any]) -> None:
        facets = entry.get("facets")
        if facets is not None and not (
            isinstance(facets, dict) and all(isinstance(v, list) for v in facets.values())
        ):
            raise ValueError('`facets` must be a table of lists, e.g. {jobFamilyGroup = ["<id>"]}')
        _, tenant, site = tenant_and_site(str(entry.get("url") or ""))
        if not (entry.get("tenant") or tenant) or not (entry.get("site") or site):
            raise ValueError(
                f"cannot tell the Workday tenant and site from `url` {entry.get('url')!r}: "
                "use the careers page URL (https://{tenant}.wdN.myworkdayjobs.com/{site}) "
                "or add `tenant` and `site`"
            )
        max_jobs = entry.get("max_jobs")
        if max_jobs is not None and (not isinstance(max_jobs, int) or max_jobs < 0):
            raise ValueError("`max_jobs` must be a whole number (0: no limit)")

    def external_id(self, raw_id: Any) -> str:
        return f"{self.kind}:{self.tenant}:{self.site}:{raw_id}"

    @classmethod
    def liveness_url(cls, source: Source, external_id: str, url: str | None) -> str | None:
        """The CXS detail of the posting (`/wday/cxs/{tenant}/{site}/job/…`, what the crawl reads),
        built from the posting's public URL `https://{host}/{site}/job/…`; None without one."""
        kind, tenant, site, _ = [*external_id.split(":", 3), "", "", ""][:4]
        parts = urlsplit(url or "")
        at = parts.path.find("/job/")
        if kind != cls.kind or not (tenant and site and parts.netloc) or at < 0:
            return None
        return f"{parts.scheme}://{parts.netloc}/wday/cxs/{tenant}/{site}{parts.path[at:]}"

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        host, tenant, site = tenant_and_site(source.url or "")
        self.host = host
        self.tenant = str(source.option("tenant") or tenant)
        self.site = str(source.option("site") or site)
        if not (self.tenant and self.site):
            raise ValueError(
                f"{source.name}: cannot tell the Workday tenant and site from {source.url!r}"
            )
        self.api_base = host
        self.max_jobs = int(source.option("max_jobs") or 0)
        self.seen_company: str | None = None  # the employer the first good detail named
        self.waiting_for_company: list[dict[str, Any]] = []

    @property
    def board(self) -> str:
        return f"{self.tenant}/{self.site}"

    def not_found_message(self) -> str:
        return (
            f"Workday site {self.board!r} not found (404) — check `url` (or `tenant`/`site`) "
            "in the sources file"
        )

    @property
    def list_path(self) -> str:
        return f"/wday/cxs/{self.tenant}/{self.site}/jobs"

    def list_request(
        self, offset: int, facets: dict[str, list[str]], *, total: int | None, split: bool
    ) -> Request:
        body = {
            "appliedFacets": facets,
            "limit": PAGE_SIZE,
            "offset": offset,
            "searchText": self.source.search or "",
        }
        return self.json_request(
            self.list_path,
            self.parse_list,
            data=body,
            method="POST",
            headers={"Accept": "application/json", "Accept-Language": "en-US"},
            meta={"offset": offset, "facets": facets, "total": total, "split": split},
            # no dont_filter: the request fingerprint includes the POST body (the offset), so
            # pages are distinct, and a shared crawl (scrapy-redis) fetches each page once
        )

    async def start(self) -> AsyncIterator[Any]:
        facets = dict(self.source.option("facets") or {})
        yield self.list_request(0, facets, total=None, split=bool(facets))

    def parse_list(self, response: Response) -> Iterator[Any]:
        data = self.parse_json(response)
        if data is None:
            return
        meta = response.meta
        offset: int = meta["offset"]
        facets: dict[str, list[str]] = meta["facets"]
        postings = data.get("jobPostings") or []
        total = meta["total"]
        if self.probe:
            self.probe_total = int(data.get("total") or 0)
            yield from (self.build_item(p, {}) for p in postings if p.get("externalPath"))
            return
        if total is None:  # the first page's total holds; later pages may report 0
            total = int(data.get("total") or 0)
            if total == 0 and not postings:
                self.report_empty(response)
                return
            if total >= TOTAL_CAP and not meta["split"]:
                yield from self.split_by_facet(response, data, facets)
                return
            if total >= TOTAL_CAP:
                self.warn(
                    f"{facets} still lists {total} jobs (Workday's cap): only the first "
                    f"{TOTAL_CAP} are reachable",
                    url=response.url,
                    key="total_capped",
                )
        if not postings and offset < total:
            self.fail(
                f"pagination ended early: an empty page at offset {offset} of {total}",
                url=response.url,
                key="pagination",
            )
            return
        for posting in postings:
            path = posting.get("externalPath")
            if not path:
                self.warn("a posting without externalPath", url=response.url, key="no_path")
                continue
            yield self.request(
                f"/wday/cxs/{self.tenant}/{self.site}{path}",
                self.parse_detail,
                headers={"Accept": "application/json"},
                errback=self.detail_failed,
                cb_kwargs={"posting": posting},
                meta={"andon_detail": True},
            )
        limit = min(total, TOTAL_CAP)
        if self.max_jobs:
            limit = min(limit, self.max_jobs)
        next_offset = offset + PAGE_SIZE
        if postings and next_offset < limit:
            yield self.list_request(next_offset, facets, total=total, split=meta["split"])

    def split_by_facet(
        self, response: Response, data: dict[str, Any], facets: dict[str, list[str]]
    ) -> Iterator[Request]:
        """Start one walk per `jobFamilyGroup` value (each under the cap) instead of this one."""
        values = []
        for facet in data.get("facets") or []:
            if facet.get("facetParameter") == SPLIT_FACET:
                values = [v for v in facet.get("values") or [] if v.get("id")]
        if not values:
            self.warn(
                f"total is capped at {TOTAL_CAP} and there is no {SPLIT_FACET} facet to split by; "
                f"only the first {TOTAL_CAP} jobs are reachable",
                url=response.url,
                key="total_capped",
            )
            # No split possible: walk this list as far as it goes.
            yield self.list_request(0, facets, total=TOTAL_CAP, split=True)
            return
        self.logger.info(
            "%s: %s jobs (capped): splitting by %d %s values",
            self.source.name,
            data.get("total"),
            len(values),
            SPLIT_FACET,
        )
        self.crawler.stats.set_value("andon/workday/facet_splits", len(values))
        for value in values:
            yield self.list_request(
                0, {**facets, SPLIT_FACET: [value["id"]]}, total=None, split=True
            )

    def parse_detail(self, response: Response, posting: dict[str, Any]) -> Iterator[Any]:
        if not 200 <= response.status < 300:
            # Not the site's 404 message: the board answered its list; one job's page is gone.
            self.detail_unusable(posting, f"HTTP {response.status}", response.url)
            yield from self.fallback_items(posting)
            return
        data = self.parse_json(response, fatal=False)
        if data is None:
            self.crawler.stats.inc_value("andon/workday/detail_failed")
            yield from self.fallback_items(posting)
            return
        org = text_or_none((data.get("hiringOrganization") or {}).get("name"))
        if org:
            self.seen_company = self.seen_company or org
        yield self.build_item(posting, data)
        # postings whose detail failed before any detail named the employer
        while self.waiting_for_company:
            yield self.build_item(self.waiting_for_company.pop(), {})

    def detail_failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        posting = request.cb_kwargs["posting"]
        exc = failure.value
        self.detail_unusable(posting, f"{type(exc).__name__}: {exc}", request.url)
        yield from self.fallback_items(posting)

    def detail_unusable(self, posting: dict[str, Any], why: str, url: str) -> None:
        """A warning that names the posting (not the site), and the `detail_failed` count."""
        title = text_or_none(posting.get("title")) or posting.get("externalPath") or "?"
        self.warn(
            f"the detail of posting {title!r} failed ({why}); kept with the list's fields",
            url=url,
            key="detail_failed",
        )
        self.crawler.stats.inc_value("andon/workday/detail_failed")

    def fallback_items(self, posting: dict[str, Any]) -> Iterator[Any]:
        """The list's fields and the source's company: the entry's `company`, else the employer
        another detail of this site named; without either, wait for the next detail to name it."""
        if self.source.option("company") or self.seen_company:
            yield self.build_item(posting, {})
        elif len(self.waiting_for_company) < MAX_WAITING:
            self.waiting_for_company.append(posting)
        else:
            yield self.build_item(posting, {})  # dropped as no_company, and counted so

    def closed(self, reason: str) -> None:
        super().closed(reason)
        if self.waiting_for_company:
            self.warn(
                f"{len(self.waiting_for_company)} postings whose detail failed were dropped: no "
                "detail of this site named the employer; add `company` to the sources entry",
                key="no_company",
            )

    def build_item(self, posting: dict[str, Any], detail: dict[str, Any]) -> Any:
        info = detail.get("jobPostingInfo") or {}
        path = posting.get("externalPath") or ""
        job_id = info.get("jobPostingId") or path
        req_country = (info.get("jobRequisitionLocation") or {}).get("country") or {}
        locations = [info.get("location"), *(info.get("additionalLocations") or [])]
        locations = [location_text(loc) for loc in locations if text_or_none(loc)]
        listed = text_or_none(posting.get("locationsText"))
        if not locations and listed and not re.match(r"^\d+ Locations?$", listed):
            locations = [location_text(listed)]
        now = now_utc()
        posted_on = info.get("postedOn") or posting.get("postedOn")
        org = (detail.get("hiringOrganization") or {}).get("name")
        extra = {
            "posted_on": posted_on,
            "locations_text": listed,
            "bullet_fields": posting.get("bulletFields") or [],
            "country": (info.get("country") or {}).get("descriptor"),
            "legal_entity": text_or_none(org),
            "tenant": self.tenant,
            "site": self.site,
        }
        return self.make_item(
            external_id=self.external_id(job_id),
            title=info.get("title") or posting.get("title"),
            # hiringOrganization is often a legal entity ("IL00 Mellanox Technologies, Ltd."):
            # the operator's `company` name wins when set.
            company=self.source.option("company") or text_or_none(org) or self.seen_company,
            url=info.get("externalUrl") or f"{self.host}/{self.site}{path}",
            description_html=info.get("jobDescription"),
            locations=locations,
            location_parts={"country": req_country["alpha2Code"]}
            if req_country.get("alpha2Code")
            else None,
            workplace_hint=info.get("remoteType"),
            employment_type=info.get("timeType"),
            posted=info.get("startDate") or posted_date(posted_on, now),
            posted_or_earlier=not info.get("startDate") and posted_is_bound(posted_on),
            crawled_at=now,
            valid_through=info.get("endDate"),
            req_id=info.get("jobReqId") or first(posting.get("bulletFields")),
            extra={k: v for k, v in extra.items() if v},
        )
