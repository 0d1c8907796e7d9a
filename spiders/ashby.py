"""Ashby public Job Posting API: a job board's listed jobs with compensation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from scrapy.http import Response

from spiders.base import JobSpider, text_or_none
from spiders.fields import common_salary

# Compensation components that are not pay (equity, commission, bonus).
_NOT_PAY = frozenset({"equitypercentage", "equitycashvalue", "commission", "bonus"})


def salary_of(compensation: dict[str, Any] | None) -> dict[str, Any] | None:
    """The first pay component of Ashby's compensation (summary components, then each tier's),
    as the common salary shape; its `interval` ("1 YEAR", "1 HOUR") is the period."""
    compensation = compensation or {}
    components = list(compensation.get("summaryComponents") or [])
    for tier in compensation.get("compensationTiers") or []:
        components.extend((tier or {}).get("components") or [])
    for comp in components:
        if not isinstance(comp, dict):
            continue
        if str(comp.get("compensationType") or "").lower() in _NOT_PAY:
            continue
        salary = common_salary(
            comp.get("minValue"),
            comp.get("maxValue"),
            comp.get("currencyCode"),
            comp.get("interval"),
        )
        if salary is not None:
            return salary
    return None


def salary_text_of(compensation: dict[str, Any] | None) -> str | None:
    """Ashby's own summary of the pay ("$60K - $75K"), read as text by the pipeline."""
    compensation = compensation or {}
    return text_or_none(
        compensation.get("scrapeableCompensationSalarySummary")
        or compensation.get("compensationTierSummary")
    )


class AshbySpider(JobSpider):
    """One Ashby board (`board = "Acme"`, case-sensitive, from `jobs.ashbyhq.com/{board}`).

    Jobs with `isListed: false` are skipped. Ashby does not name the company: set `company`.
    """

    name = "ashby"
    kind = "ashby"
    api_base = "https://api.ashbyhq.com"
    board_key = "board"
    keys = frozenset({"board"})
    # The job-board API never names the employer: without `company` every posting would be dropped.
    required = (("board",), ("company",))
    example_url = "https://jobs.ashbyhq.com/AcmeFoods"
    url_patterns = (r"^https?://jobs\.ashbyhq\.com/[^/?#]+",)

    @classmethod
    def entry_from_url(cls, url: str) -> dict[str, Any] | None:
        """`https://jobs.ashbyhq.com/Acme/…` → `board = "Acme"` (case kept: Ashby's is case-sensitive)."""
        if super().entry_from_url(url) is None:
            return None
        return {"board": unquote(urlsplit(url).path.strip("/").split("/")[0])}

    async def start(self) -> AsyncIterator[Any]:
        yield self.request(
            f"/posting-api/job-board/{quote(self.board)}?includeCompensation=true", self.parse
        )

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        data = self.parse_json(response)
        if data is None:
            return
        jobs = data.get("jobs") if isinstance(data, dict) else None
        if jobs is None:
            self.fail("no `jobs` list in the response", url=response.url, key="shape")
            return
        listed = [job for job in jobs if job.get("isListed", True) is not False]
        if self.probe:
            self.probe_total = len(listed)
        if not listed:
            self.report_empty(response)
            return
        for job in listed:
            yield self.build_item(job)

    def build_item(self, job: dict[str, Any]) -> Any:
        locations = [job.get("location")]
        for loc in job.get("secondaryLocations") or []:
            locations.append(loc.get("location") if isinstance(loc, dict) else loc)
        address = (job.get("address") or {}).get("postalAddress") or {}
        parts = {
            "city": text_or_none(address.get("addressLocality")),
            "region": text_or_none(address.get("addressRegion")),
            "country": text_or_none(address.get("addressCountry")),
        }
        compensation = job.get("compensation") or {}
        extra = {"department": job.get("department"), "team": job.get("team"), "board": self.board}
        return self.make_item(
            external_id=self.external_id(job["id"]),
            title=job.get("title"),
            url=job.get("jobUrl"),
            apply_url=job.get("applyUrl"),
            description_html=job.get("descriptionHtml"),
            description_text=None if job.get("descriptionHtml") else job.get("descriptionPlain"),
            locations=[loc for loc in locations if text_or_none(loc)],
            location_parts={k: v for k, v in parts.items() if v} or None,
            workplace_hint=job.get("workplaceType"),
            remote=job.get("isRemote") if isinstance(job.get("isRemote"), bool) else None,
            employment_type=job.get("employmentType"),
            salary=salary_of(compensation),
            salary_text=salary_text_of(compensation),
            posted=job.get("publishedAt"),
            extra={k: v for k, v in extra.items() if v},
        )
