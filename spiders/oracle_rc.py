"""Oracle Recruiting Cloud ("Candidate Experience") career sites through their hcmRestApi JSON:
the `findReqs` list, newest first, and one `ById` detail per posting (external texts only)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from scrapy.http import Request, Response
from twisted.python.failure import Failure

from spiders.base import JobSpider, first, text_or_none

LIMIT = 100  # rows asked per list page; a server may send fewer, so paging follows what came
MAX_PAGES = 500  # a bad `TotalJobsCount` must not page forever
_API = "/hcmRestApi/resources/latest"
_CX_PATH = re.compile(
    r"^/hcmUI/CandidateExperience/([A-Za-z]{2}(?:[-_][A-Za-z]{2,4})?)/sites/([^/]+)"
)
# The site number as the careers page's configuration script names it (`siteNumber: 'CX_1001'`).
_SITE_NUMBER = re.compile(r"""siteNumber["']?\s{0,20}[:=]\s{0,20}["']([A-Za-z0-9_]{1,40})["']""")
# ... or as a request the page links to (`finder=findReqs;siteNumber=CX_1001,…`).
_SITE_NUMBER_PARAM = re.compile(r"siteNumber=(CX(?:_\d{1,10})?)\b")
_CX_SITE = re.compile(r"^CX(?:_\d+)?$")
# The posting's own texts, in reading order. The detail also carries `Internal*Str` texts meant
# for employees only: they are never read.
_EXTERNAL_TEXTS = (
    "ExternalDescriptionStr",
    "ExternalResponsibilitiesStr",
    "ExternalQualificationsStr",
)
_WORKPLACE = {"ORA_REMOTE": "remote", "ORA_HYBRID": "hybrid", "ORA_ON_SITE": "on-site"}
_EXTRA = ("Category", "JobFunction", "JobFamily", "RequisitionType", "WorkerType", "ContractType")


def careers_parts(url: str) -> tuple[str, str, str] | None:
    """(`scheme://host`, language, site name) of a Candidate Experience URL, or None."""
    parts = urlsplit(url.strip())
    m = _CX_PATH.match(parts.path)
    if parts.scheme not in ("http", "https") or not parts.netloc or m is None:
        return None
    return f"{parts.scheme}://{parts.netloc}", m.group(1), m.group(2)


def _opt(value: Any) -> str | None:
    """A display string, or None for null/blank and for Oracle's HTML-bearing long texts."""
    text = text_or_none(value)
    return text if text and len(text) <= 120 and "<" not in text else None


class OracleRecruitingSpider(JobSpider):
    """One Oracle Recruiting Cloud site: `url` is
    `https://{host}/hcmUI/CandidateExperience/{lang}/sites/{SiteName}`.

    The API wants the site *number* (`CX_1001`), which can differ from the name in the URL:
    `site_number` in the entry, else a `CX…` site name, else the `siteNumber` the careers page's
    configuration script names. The list (`findReqs`, sub-parameters inside `finder=`) is paged by
    `offset`, advancing by the rows received, up to the first page's `TotalJobsCount`; each
    posting's `ById` detail adds the description (`External*Str` only), dates and coordinates.
    """

    name = "oracle_rc"
    kind = "oracle_rc"
    board_key = "url"
    keys: ClassVar[frozenset[str]] = frozenset({"site_number"})
    required: ClassVar[tuple[tuple[str, ...], ...]] = (("url",),)
    default_schedule: ClassVar[str] = "every 12h"
    custom_settings: dict[str, Any] | None = {
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "DOWNLOAD_DELAY": 0.5,
    }
    example_url = "https://acmefoods.fa.us2.oraclecloud.com/hcmUI/CandidateExperience/en/sites/CX_1001/requisitions"
    url_patterns: ClassVar[tuple[str, ...]] = (
        r"^https?://[^/]+/hcmUI/CandidateExperience/[A-Za-z_-]+/sites/[^/?#]+",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        found = careers_parts(self.source.url or "")
        if found is None:
            raise ValueError(f"{self.source.name}: not a Candidate Experience URL")
        self.api_base, lang, site = found
        self.careers_url = f"{self.api_base}/hcmUI/CandidateExperience/{lang}/sites/{site}"
        self.hostname = (urlsplit(self.api_base).hostname or "").lower()
        number = text_or_none(self.source.option("site_number"))
        self.site_number = number or (site if _CX_SITE.match(site) else None)
        self.total: int | None = None
        self.pages = 0
        self.seen: set[str] = set()

    # -- the kind's metadata --------------------------------------------------------------------

    @classmethod
    def entry_from_url(cls, url: str) -> dict[str, Any] | None:
        found = careers_parts(url)
        if found is None:
            return None
        host, lang, site = found
        entry: dict[str, Any] = {"url": f"{host}/hcmUI/CandidateExperience/{lang}/sites/{site}"}
        if _CX_SITE.match(site):
            entry["site_number"] = site
        return entry

    @classmethod
    def check_entry(cls, entry: dict[str, Any]) -> None:
        url = entry.get("url")
        if not isinstance(url, str) or careers_parts(url) is None:
            raise ValueError(
                "an Oracle Recruiting Cloud `url` is the careers site, e.g. "
                "https://{host}/hcmUI/CandidateExperience/en/sites/{SiteName}"
            )
        number = entry.get("site_number")
        if number is not None and not (
            isinstance(number, str) and re.fullmatch(r"[A-Za-z0-9_]{1,40}", number)
        ):
            raise ValueError('`site_number` is the site\'s number, e.g. site_number = "CX_1001"')

    def external_id(self, raw_id: Any) -> str:
        return f"{self.kind}:{self.hostname}:{raw_id}"

    def fail(self, message: str, *, url: str | None, key: str) -> None:
        """Every error line names the sources-file key to check."""
        if "`" not in message:
            message += " — check `url` and `site_number` in the sources file"
        super().fail(message, url=url, key=key)

    def not_found_message(self) -> str:
        return (
            f"Oracle site {self.careers_url!r} (site number {self.site_number}) not found (404) "
            "— check `url` and `site_number` in the sources file"
        )

    # -- the site number ------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        if self.site_number:
            yield self.list_request(0)
        else:
            yield self.request(self.careers_url, self.parse_careers_page)

    def parse_careers_page(self, response: Response) -> Iterator[Request]:
        add = (
            'add `site_number` to the entry (e.g. site_number = "CX_1001": the siteNumber= '
            "of the site's hcmRestApi requests)"
        )
        if not 200 <= response.status < 300:
            msg, key = self.http_error_message(response)
            self.fail(f"careers page: {msg} — check `url`, or {add}", url=response.url, key=key)
            return
        page = response.body[:2_000_000].decode("utf-8", "replace")
        found = _SITE_NUMBER.search(page) or _SITE_NUMBER_PARAM.search(page)
        if found is None:
            self.fail(
                f"the careers page names no site number: {add}",
                url=response.url,
                key="no_site_number",
            )
            return
        self.site_number = found.group(1)
        yield self.list_request(0)

    # -- the list -------------------------------------------------------------------------------

    def list_request(self, offset: int) -> Request:
        search = self.source.search
        keyword = f"keyword=%22{quote(search, safe='')}%22," if search else ""
        finder = (
            f"findReqs;siteNumber={self.site_number},{keyword}"
            f"limit={LIMIT},offset={offset},sortBy=POSTING_DATES_DESC"
        )
        return self.request(
            f"{_API}/recruitingCEJobRequisitions?onlyData=true"
            f"&expand=requisitionList.secondaryLocations&finder={finder}",
            self.parse_list,
            headers={"Accept": "application/json"},
            meta={"offset": offset},
        )

    def parse_list(self, response: Response) -> Iterator[Any]:
        data = self.parse_json(response)
        if data is None:
            return
        block = first(data.get("items")) if isinstance(data, dict) else None
        rows = block.get("requisitionList") if isinstance(block, dict) else None
        if not isinstance(rows, list):
            self.fail(
                "no `items[0].requisitionList` in the answer — check `site_number`",
                url=response.url,
                key="shape",
            )
            return
        offset: int = response.meta["offset"]
        if self.total is None:  # the first page's count holds for the whole walk
            self.total = self.probe_total = int((block or {}).get("TotalJobsCount") or 0)
            if not rows:
                self.report_empty(response)
                return
        fresh = [r for r in rows if isinstance(r, dict) and self.is_new(r)]
        for row in fresh:
            yield self.build_item(row, {}) if self.probe else self.detail_request(row)
        if self.probe:
            return
        self.pages += 1
        yield from self.next_page(response, offset + len(rows), bool(rows), bool(fresh))

    def is_new(self, row: dict[str, Any]) -> bool:
        job_id = text_or_none(row.get("Id"))
        if job_id is None or not text_or_none(row.get("Title")):
            self.warn("a requisition without Id or Title", key="no_id")
            return False
        if job_id in self.seen:
            return False
        self.seen.add(job_id)
        return True

    def next_page(
        self, response: Response, offset: int, got_rows: bool, got_new: bool
    ) -> Iterator[Request]:
        total = self.total or 0
        if offset >= total:
            return
        if not got_rows or not got_new:
            # Fewer postings than announced: the walk is incomplete, so nothing may be closed.
            why = "an empty page" if not got_rows else "a page of postings already seen"
            self.fail(
                f"pagination ended early: {why} at offset {offset} of {total}",
                url=response.url,
                key="pagination",
            )
            return
        if self.pages >= MAX_PAGES:
            self.warn(f"stopped after {MAX_PAGES} pages", url=response.url, key="max_pages")
            return
        yield self.list_request(offset)

    # -- the detail -----------------------------------------------------------------------------

    def detail_request(self, row: dict[str, Any]) -> Request:
        finder = f"ById;Id={quote(str(row['Id']), safe='')},siteNumber={self.site_number}"
        return self.request(
            f"{_API}/recruitingCEJobRequisitionDetails?onlyData=true&expand=all&finder={finder}",
            self.parse_detail,
            headers={"Accept": "application/json"},
            errback=self.detail_failed,
            cb_kwargs={"row": row},
            meta={"andon_detail": True},
        )

    def parse_detail(self, response: Response, row: dict[str, Any]) -> Iterator[Any]:
        data = self.parse_json(response, fatal=False)
        detail = first(data.get("items")) if isinstance(data, dict) else None
        yield self.build_item(row, detail if isinstance(detail, dict) else {})

    def detail_failed(self, failure: Failure) -> Iterator[Any]:
        self.on_error(failure)
        yield self.build_item(failure.request.cb_kwargs["row"], {})  # type: ignore[attr-defined]

    def build_item(self, row: dict[str, Any], detail: dict[str, Any]) -> Any:
        def get(key: str) -> Any:
            value = detail.get(key)
            return value if value not in (None, "", []) else row.get(key)

        job_id = str(row["Id"])
        texts = [text_or_none(get(key)) for key in _EXTERNAL_TEXTS]
        description = "\n".join(t for t in texts if t) or text_or_none(get("ShortDescriptionStr"))
        code = text_or_none(get("WorkplaceTypeCode"))
        company = (
            _opt(get("LegalEmployer"))
            or _opt(get("Organization"))
            or _opt(get("OrganizationDescriptionStr"))
        )
        extra = {key.lower(): _opt(get(key)) for key in _EXTRA}
        return self.make_item(
            external_id=self.external_id(job_id),
            title=text_or_none(get("Title")),
            company=self.source.option("company") or company,
            url=f"{self.careers_url}/job/{quote(job_id)}",
            description_html=description,
            **self.location_fields(row, detail),
            workplace_hint=_WORKPLACE.get(code or "") or _opt(get("WorkplaceType")),
            employment_type=_opt(get("JobSchedule")) or _opt(get("JobType")),
            posted=text_or_none(get("ExternalPostedStartDate") or get("PostedDate")),
            valid_through=text_or_none(get("ExternalPostedEndDate") or get("PostingEndDate")),
            req_id=job_id,
            extra={k: v for k, v in extra.items() if v},
        )

    @staticmethod
    def location_fields(row: dict[str, Any], detail: dict[str, Any]) -> dict[str, Any]:
        """`locations` (primary, then the secondary ones) and `location_parts` of the primary."""
        primary = text_or_none(detail.get("PrimaryLocation") or row.get("PrimaryLocation"))
        others = detail.get("secondaryLocations") or row.get("secondaryLocations") or []
        names = [primary, *(o.get("Name") for o in others if isinstance(o, dict))]
        locations = list(
            dict.fromkeys(n.strip() for n in names if isinstance(n, str) and n.strip())
        )
        country = text_or_none(
            detail.get("PrimaryLocationCountry") or row.get("PrimaryLocationCountry")
        )
        # "City, Region, Country name" / "City, Country name": the country comes as ISO-2 apart.
        names = [p.strip() for p in (primary or "").split(",") if p.strip()]
        parts: dict[str, Any] = {}
        if len(names) > 1:
            parts["city"] = names[0]
            if len(names) > 2:
                parts["region"] = names[1]
        if country and len(country) == 2:
            parts["country"] = country.upper()
        coords = first(detail.get("primaryLocationCoordinates")) or {}
        try:
            parts["latitude"] = float(coords["Latitude"])
            parts["longitude"] = float(coords["Longitude"])
        except (KeyError, TypeError, ValueError):
            pass
        return {"locations": locations, "location_parts": parts or None}
