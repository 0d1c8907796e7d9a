"""SmartRecruiters Posting API: the company's postings list (100 a page), then each posting's job ad."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.base import JobSpider, text_or_none
from spiders.sources import Source

PAGE_SIZE = 100  # the API's maximum


def _label(value: Any) -> str | None:
    return text_or_none(value.get("label")) if isinstance(value, dict) else None


class SmartRecruitersSpider(JobSpider):
    """One SmartRecruiters company (`company = "BoschGroup"`, the identifier in its job URLs).

    The list is paged by `offset` to `totalFound`; `search` is sent as `q`. An unknown company
    answers 200 with `totalFound: 0`, so an empty first page is reported as a probable wrong
    identifier (with a search, a second unfiltered request tells the two cases apart).
    """

    name = "smartrecruiters"
    kind = "smartrecruiters"
    api_base = "https://api.smartrecruiters.com"
    board_key = "company"
    required = (("company",),)
    example_url = "https://jobs.smartrecruiters.com/BoschGroup"
    url_patterns = (r"^https?://(?:jobs|careers)\.smartrecruiters\.com/[^/?#]+",)

    @classmethod
    def entry_from_url(cls, url: str) -> dict[str, Any] | None:
        """`https://jobs.smartrecruiters.com/BoschGroup/…` → `company = "BoschGroup"`."""
        if super().entry_from_url(url) is None:
            return None
        ident = urlsplit(url).path.strip("/").split("/")[0]
        return {"company": unquote(ident)} if ident else None

    @classmethod
    def liveness_url(cls, source: Source, external_id: str, url: str | None) -> str | None:
        """The Posting API's one-posting endpoint (the detail the crawl reads): 404 once gone."""
        if (found := cls.board_and_raw_id(external_id)) is None:
            return None
        company, posting_id = found
        return (
            f"{cls.api_base}/v1/companies/{quote(company, safe='')}"
            f"/postings/{quote(posting_id, safe='')}"
        )

    def list_path(self, offset: int, *, search: str | None, limit: int = PAGE_SIZE) -> str:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if search:
            params["q"] = search
        return f"/v1/companies/{quote(self.board)}/postings?{urlencode(params)}"

    async def start(self) -> AsyncIterator[Any]:
        yield self.request(
            self.list_path(0, search=self.source.search), self.parse_list, meta={"offset": 0}
        )

    def wrong_company(self, response: Response) -> None:
        self.fail(
            f"company {self.board!r} returned no postings: probably a wrong company identifier "
            "(SmartRecruiters answers 200 with totalFound 0 for unknown companies)",
            url=response.url,
            key="no_postings",
        )

    def parse_list(self, response: Response) -> Iterator[Any]:
        data = self.parse_json(response)
        if data is None:
            return
        offset: int = response.meta["offset"]
        total = int(data.get("totalFound") or 0)
        postings = data.get("content") or []
        if self.probe:
            self.probe_total = total
            named = {text_or_none((p.get("company") or {}).get("name")) for p in postings}
            self.probe_company = next((n for n in sorted(named - {None})), None)  # type: ignore[type-var]
            yield from (self.build_item(p) for p in postings)
            return
        if offset == 0 and total == 0:
            if self.source.search:
                # A narrow search may match nothing; check the company itself has postings.
                yield self.request(
                    self.list_path(0, search=None, limit=1), self.parse_probe, dont_filter=True
                )
            else:
                self.wrong_company(response)
            return
        if not postings and offset < total:
            self.fail(
                f"pagination ended early: an empty page at offset {offset} of {total}",
                url=response.url,
                key="pagination",
            )
            return
        for posting in postings:
            yield self.request(
                f"/v1/companies/{quote(self.board)}/postings/{quote(str(posting['id']))}",
                self.parse_detail,
                errback=self.detail_failed,
                cb_kwargs={"posting": posting},
                meta={"andon_detail": True},
            )
        if postings and offset + PAGE_SIZE < total:
            yield self.request(
                self.list_path(offset + PAGE_SIZE, search=self.source.search),
                self.parse_list,
                meta={"offset": offset + PAGE_SIZE},
            )

    def parse_probe(self, response: Response) -> None:
        data = self.parse_json(response)
        if data is None:
            return
        if int(data.get("totalFound") or 0) == 0:
            self.wrong_company(response)
        else:
            self.logger.info(
                "%s: no postings match search %r", self.source.name, self.source.search
            )
            self.crawler.stats.inc_value("andon/empty_search")

    def parse_detail(self, response: Response, posting: dict[str, Any]) -> Iterator[Any]:
        data = self.parse_json(response, fatal=False)
        if data is None:
            self.crawler.stats.inc_value("andon/smartrecruiters/detail_failed")
        yield self.build_item({**posting, **(data or {})})

    def detail_failed(self, failure: Failure) -> Iterator[Any]:
        self.on_error(failure)
        self.crawler.stats.inc_value("andon/smartrecruiters/detail_failed")
        yield self.build_item(failure.request.cb_kwargs["posting"])  # type: ignore[attr-defined]

    def build_item(self, posting: dict[str, Any]) -> Any:
        sections = ((posting.get("jobAd") or {}).get("sections")) or {}
        parts = []
        for key in (
            "companyDescription",
            "jobDescription",
            "qualifications",
            "additionalInformation",
        ):
            section = sections.get(key) or {}
            if text_or_none(section.get("text")):
                title = text_or_none(section.get("title"))
                parts.append((f"<h3>{title}</h3>" if title else "") + section["text"])
        loc = posting.get("location") or {}
        location_parts = {
            "city": loc.get("city"),
            "region": loc.get("region"),
            "country": loc.get("country"),
            "postal_code": loc.get("postalCode"),
            "latitude": loc.get("latitude"),
            "longitude": loc.get("longitude"),
        }
        workplace = "hybrid" if loc.get("hybrid") else "remote" if loc.get("remote") else None
        company = posting.get("company") or {}
        job_id = str(posting["id"])
        extra = {
            "industry": _label(posting.get("industry")),
            "department": _label(posting.get("department")),
            "function": _label(posting.get("function")),
            "experience_level": _label(posting.get("experienceLevel")),
            "language": (posting.get("language") or {}).get("code"),
        }
        return self.make_item(
            external_id=self.external_id(job_id),
            title=posting.get("name"),
            company=text_or_none(company.get("name")),
            url=posting.get("postingUrl")
            or f"https://jobs.smartrecruiters.com/{quote(self.board)}/{job_id}",
            apply_url=posting.get("applyUrl"),
            description_html="\n".join(parts) or None,
            locations=[loc["fullLocation"]] if text_or_none(loc.get("fullLocation")) else [],
            location_parts={k: v for k, v in location_parts.items() if v not in (None, "")} or None,
            workplace_hint=workplace,
            remote=loc.get("remote") if isinstance(loc.get("remote"), bool) else None,
            employment_type=_label(posting.get("typeOfEmployment")),
            posted=posting.get("releasedDate"),
            req_id=text_or_none(posting.get("refNumber")),
            extra={k: v for k, v in extra.items() if v},
        )
