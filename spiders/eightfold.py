"""Eightfold career sites: the apply/v2 jobs API (PCSX search after a 403), one detail per job
whose list entry carries no description."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from scrapy.http import Request, Response
from twisted.python.failure import Failure

from spiders.base import JobSpider, first, text_or_none
from spiders.sources import Source

PAGE_SIZE = 10  # both APIs answer 10 positions a request
V2, PCSX = "apply/v2", "pcsx"
_TENANT_HOST = re.compile(r"^([a-z0-9-]+)\.eightfold\.ai$")
_DOMAIN = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")
_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
DOMAIN_HINT = (
    "an Eightfold board needs `domain` (the employer's e-mail domain, "
    'e.g. domain = "albemarle.com")'
)


def url_domain(url: str) -> str | None:
    """The `domain=` query parameter of an Eightfold careers URL, lower-cased."""
    value = parse_qs(urlsplit(url).query).get("domain", [""])[0].strip().lower()
    return value or None


def epoch_iso(value: Any) -> str | None:
    """Unix seconds (`t_create`, `postedTs`) as an ISO 8601 UTC timestamp; None if unusable."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
        if seconds > 1e11:  # milliseconds (seen in some clients' copies of these fields)
            seconds /= 1000
        return datetime.fromtimestamp(seconds, UTC).isoformat() if seconds > 0 else None
    except (ValueError, OverflowError, OSError):
        return None


def standardized_parts(text: Any) -> dict[str, Any] | None:
    """PCSX `standardizedLocations` ("Charlotte, NC, US") as city/region/country alpha-2 parts."""
    pieces = [p.strip() for p in str(text or "").split(",")]
    if len(pieces) < 2 or not _COUNTRY_CODE.match(pieces[-1]):
        return None
    parts = {"country": pieces[-1], "city": pieces[0] or None}
    if len(pieces) >= 3:
        parts["region"] = pieces[-2] or None
    return {k: v for k, v in parts.items() if v}


class EightfoldSpider(JobSpider):
    """One Eightfold board: `url` = `https://{tenant}.eightfold.ai/careers` or the employer's own
    careers host; `domain` = the employer's e-mail domain (`albemarle.com`).

    The older `GET /api/apply/v2/jobs` is read first; a site that answers 403 (or 404) there is read
    through the newer PCSX search (`/api/pcsx/search`). Both page by `start` (10 a request) up
    to `count`, advancing by the rows received; an empty page before `count` is an error (an
    incomplete pass must close nothing). A position without a description gets one detail
    request. Eightfold allows about 20 requests a minute per host, so requests go one at a
    time, 3 s apart (`custom_settings`; an explicit `DOWNLOAD_DELAY` override wins).
    """

    name = "eightfold"
    kind = "eightfold"
    board_key = "url"
    keys = frozenset({"domain"})
    required = (("url",),)
    url_patterns = (r"^https?://[a-z0-9-]+\.eightfold\.ai(?:/|$)",)
    example_url = "https://acmefoods.eightfold.ai/careers?domain=acmefoods.com&pid=563602813000101"
    custom_settings = {
        "DOWNLOAD_DELAY": 3.0,
        "RANDOMIZE_DOWNLOAD_DELAY": False,  # a randomized delay dips to 1.5 s: 40 a minute
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
    }

    @classmethod
    def entry_from_url(cls, url: str) -> dict[str, Any] | None:
        """`https://acme.eightfold.ai/careers?…` or a custom host's `/careers?domain=acme.com…`
        → `url` (the careers root) and `domain` (from the query, else `{tenant}.com`, a guess
        the verifying request checks)."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        domain = url_domain(url)
        tenant = _TENANT_HOST.match(host)
        on_custom_host = parts.path.rstrip("/").startswith("/careers") and domain
        if not (tenant or on_custom_host) or parts.scheme not in ("http", "https"):
            return None
        if tenant and not domain:
            domain = f"{tenant.group(1)}.com"
        return {"url": f"{parts.scheme}://{parts.netloc}/careers", "domain": domain}

    @classmethod
    def check_entry(cls, entry: dict[str, Any]) -> None:
        domain = entry.get("domain")
        if domain is None:
            domain = url_domain(str(entry.get("url") or ""))
        if not domain:
            raise ValueError(DOMAIN_HINT)
        if not isinstance(domain, str) or not _DOMAIN.match(domain.strip().lower()):
            raise ValueError(
                f"`domain` {domain!r} is not an e-mail domain: use the employer's domain only, "
                'e.g. domain = "albemarle.com"'
            )

    @classmethod
    def prepare_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        if isinstance(options.get("domain"), str):
            return {**options, "domain": options["domain"].strip().lower()}
        return options

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        parts = urlsplit(source.url or "")
        self.root = f"{parts.scheme}://{parts.netloc}"
        self.host = (parts.hostname or "").lower()
        self.api_base = self.root
        self.domain = str(source.option("domain") or url_domain(source.url or "") or "").lower()
        self.seen: set[str] = set()

    @property
    def board(self) -> str:
        return self.host

    def not_found_message(self) -> str:
        return (
            f"Eightfold board {self.host!r} (domain {self.domain!r}) not found (404) — "
            "check `url` and `domain` in the sources file"
        )

    # -- requests -----------------------------------------------------------------------------

    def list_request(self, api: str, start: int, total: int | None = None) -> Request:
        query = self.source.search or ""
        if api == V2:
            params = {"domain": self.domain, "start": start, "num": PAGE_SIZE, "sort_by": "new"}
            if query:
                params["query"] = query
            path = f"/api/apply/v2/jobs?{urlencode(params)}"
        else:
            params = {"domain": self.domain, "query": query, "location": "", "start": start}
            path = f"/api/pcsx/search?{urlencode(params)}&sort_by=timestamp"
        return self.request(
            path,
            self.parse_list,
            headers={"Accept": "application/json"},
            meta={"api": api, "start": start, "total": total},
        )

    def detail_request(self, api: str, position: dict[str, Any]) -> Request:
        pid = position["id"]
        if api == V2:
            path = f"/api/apply/v2/jobs/{pid}?{urlencode({'domain': self.domain})}"
        else:
            params = {"position_id": pid, "domain": self.domain, "hl": "en"}
            path = f"/api/pcsx/position_details?{urlencode(params)}"
        return self.request(
            path,
            self.parse_detail,
            headers={"Accept": "application/json"},
            errback=self.detail_failed,
            cb_kwargs={"api": api, "position": position},
            meta={"andon_detail": True},
        )

    async def start(self) -> AsyncIterator[Any]:
        yield self.list_request(V2, 0)

    # -- the list -----------------------------------------------------------------------------

    def parse_list(self, response: Response) -> Iterator[Any]:
        api, start, total = response.meta["api"], response.meta["start"], response.meta["total"]
        if response.status in (403, 404) and api == V2 and start == 0:
            # Sites on the newer stack refuse (or lack) apply/v2; PCSX serves the same positions.
            self.logger.info(
                "%s: apply/v2 answered %d; reading PCSX", self.source.name, response.status
            )
            self.crawler.stats.set_value("andon/eightfold/api", PCSX)
            yield self.list_request(PCSX, 0)
            return
        data = self.parse_json(response)
        if data is None:
            return
        positions, count = self.unpack(data, api)
        if positions is None:
            self.fail(f"no `positions` list in the {api} answer", url=response.url, key="shape")
            return
        if total is None:
            total = count
            if self.probe:
                self.probe_total = count if count is not None else len(positions)
                yield from (self.build_item(api, p, {}) for p in positions if p.get("id"))
                return
            self.check_time_budget(total, response)
        if not positions:
            self.end_of_list(response, start, total)
            return
        yield from self.positions(api, positions, response)
        received = start + len(positions)
        if total is None or received < total:
            yield self.list_request(api, received, total)

    @staticmethod
    def unpack(data: Any, api: str) -> tuple[list[dict[str, Any]] | None, int | None]:
        """The positions and the announced count of one list answer."""
        body = data.get("data") if api == PCSX and isinstance(data, dict) else data
        if not isinstance(body, dict) or not isinstance(body.get("positions"), list):
            return None, None
        count = body.get("count")
        positions = [p for p in body["positions"] if isinstance(p, dict)]
        return positions, count if isinstance(count, int) and count >= 0 else None

    def end_of_list(self, response: Response, start: int, total: int | None) -> None:
        """An empty page: the end, an empty board, or a pass that stopped short."""
        if start == 0:
            self.report_empty(response)
        elif total is not None and start < total:
            self.fail(
                f"pagination ended early: an empty page at start={start} of {total} "
                "(an incomplete pass closes nothing)",
                url=response.url,
                key="pagination",
            )

    def positions(
        self, api: str, positions: list[dict[str, Any]], response: Response
    ) -> Iterator[Any]:
        for position in positions:
            pid = text_or_none(position.get("id"))
            if pid is None:
                self.warn("a position without `id`", url=response.url, key="no_id")
                continue
            if pid in self.seen:  # newest-first lists shift when a job is posted mid-pass
                continue
            self.seen.add(pid)
            if text_or_none(position.get("job_description") or position.get("jobDescription")):
                yield self.build_item(api, position, {})
            else:
                yield self.detail_request(api, position)

    def check_time_budget(self, total: int | None, response: Response) -> None:
        """Warn when a complete pass at this pace cannot finish before CLOSESPIDER_TIMEOUT."""
        settings = self.crawler.settings
        timeout = settings.getfloat("CLOSESPIDER_TIMEOUT")
        if not total or not timeout:
            return
        requests = -(-total // PAGE_SIZE) + total  # list pages + (at worst) one detail each
        needed = requests * settings.getfloat("DOWNLOAD_DELAY")
        if needed > timeout:
            self.warn(
                f"{total} positions need up to {requests} requests (~{needed / 60:.0f} min at "
                f"Eightfold's pace), more than the crawl timeout of {timeout / 60:.0f} min: "
                "raise ANDON_CRAWL_TIMEOUT_S or narrow the board with `search`",
                url=response.url,
                key="time_budget",
            )

    # -- details and items --------------------------------------------------------------------

    def parse_detail(self, response: Response, api: str, position: dict[str, Any]) -> Iterator[Any]:
        data = self.parse_json(response, fatal=False)
        if isinstance(data, dict) and isinstance(data.get("data"), dict):
            data = data["data"]
        if not isinstance(data, dict):
            self.crawler.stats.inc_value("andon/eightfold/detail_failed")
            data = {}
        yield self.build_item(api, position, data)

    def detail_failed(self, failure: Failure) -> Iterator[Any]:
        self.on_error(failure)
        self.crawler.stats.inc_value("andon/eightfold/detail_failed")
        kwargs = failure.request.cb_kwargs  # type: ignore[attr-defined]
        yield self.build_item(kwargs["api"], kwargs["position"], {})

    def job_url(self, job: dict[str, Any], pid: str) -> str:
        for key in ("canonicalPositionUrl", "publicUrl", "positionUrl"):
            if value := text_or_none(job.get(key)):
                return urljoin(self.root + "/", value)
        return f"{self.root}/careers/job/{pid}"

    def company(self) -> str:
        """The entry's `company`, else a name from the domain (the API names no employer)."""
        return self.source.option("company") or self.domain.split(".")[0].title()

    def build_item(self, api: str, position: dict[str, Any], detail: dict[str, Any]) -> Any:
        job = {**position, **{k: v for k, v in detail.items() if v not in (None, "", [])}}
        pid = str(position["id"])
        locations = [text for loc in job.get("locations") or [] if (text := text_or_none(loc))] or [
            text for text in [text_or_none(job.get("location"))] if text
        ]
        standardized = first(job.get("standardizedLocations") or [])
        extra = {
            "api": api,
            "department": text_or_none(job.get("department")),
            "business_unit": text_or_none(job.get("business_unit")),
            "updated": epoch_iso(job.get("t_update")),
            "ats_job_id": text_or_none(job.get("ats_job_id") or job.get("atsJobId")),
            "standardized_locations": job.get("standardizedLocations") or None,
        }
        return self.make_item(
            external_id=self.external_id(pid),
            title=text_or_none(job.get("name") or job.get("posting_name")),
            company=self.company(),
            url=self.job_url(job, pid),
            description_html=text_or_none(job.get("job_description") or job.get("jobDescription")),
            locations=locations,
            location_parts=standardized_parts(standardized),
            workplace_hint=text_or_none(
                job.get("work_location_option") or job.get("workLocationOption")
            ),
            posted=epoch_iso(job.get("t_create") or job.get("postedTs") or job.get("creationTs")),
            req_id=text_or_none(
                job.get("display_job_id")
                or job.get("displayJobId")
                or job.get("ats_job_id")
                or job.get("atsJobId")
            ),
            extra={k: v for k, v in extra.items() if v},
        )
