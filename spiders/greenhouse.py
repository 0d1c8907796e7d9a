"""Greenhouse Job Board API: a board's jobs with their content in one response."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from scrapy.http import Response
from scrapy.selector import Selector

from spiders.base import JobSpider, text_or_none
from spiders.fields import common_salary
from spiders.sources import Source


def pay_range(description: str | None) -> str | None:
    """The pay-transparency block Greenhouse appends to a job's content ("$68,000 — $78,000 USD").

    The board list has no structured pay (only the per-job endpoint with `pay_transparency=true`
    does), but the same range is rendered into the content as `div.pay-range`.
    """
    if not description or "pay-range" not in description:
        return None
    parts = Selector(text=description).css("div.pay-range ::text").getall()
    text = " ".join(p.strip() for p in parts if p.strip())
    return text or None


def pay_input_salary(ranges: Any) -> dict[str, Any] | None:
    """The first of `pay_input_ranges` (the per-job API with `pay_transparency=true`): amounts
    in cents, {min_cents, max_cents, currency_type}; no period (the amount tells)."""
    if isinstance(ranges, dict):
        ranges = [ranges]
    for entry in ranges if isinstance(ranges, list) else []:
        if not isinstance(entry, dict):
            continue
        low, high = entry.get("min_cents"), entry.get("max_cents")
        salary = common_salary(
            low / 100 if isinstance(low, int | float) else None,
            high / 100 if isinstance(high, int | float) else None,
            entry.get("currency_type"),
        )
        if salary is not None:
            return salary
    return None


class GreenhouseSpider(JobSpider):
    """One Greenhouse board (`board = "anduril"`, the token in `boards.greenhouse.io/{board}`).

    `?content=true` returns the whole board with descriptions, departments and offices; the
    description is entity-escaped (`&lt;p&gt;`) and is unescaped here. No paging, no search.
    """

    name = "greenhouse"
    kind = "greenhouse"
    api_base = "https://boards-api.greenhouse.io"
    board_key = "board"
    keys = frozenset({"board"})
    required = (("board",),)
    example_url = "https://boards.greenhouse.io/acmefoods"
    url_patterns = (
        r"^https?://(?:job-)?boards(?:\.eu)?\.greenhouse\.io/(?:embed/job_board\?for=)?[\w.-]+",
        r"^https?://boards-api\.greenhouse\.io/v1/boards/[\w.-]+",
    )

    @classmethod
    def liveness_url(cls, source: Source, external_id: str, url: str | None) -> str | None:
        """The Job Board API's one-job endpoint: "404 Job not found" once the job is taken down."""
        if (found := cls.board_and_raw_id(external_id)) is None:
            return None
        board, job_id = found
        return f"{cls.api_base}/v1/boards/{quote(board, safe='')}/jobs/{quote(job_id, safe='')}"

    @classmethod
    def entry_from_url(cls, url: str) -> dict[str, Any] | None:
        """`https://boards.greenhouse.io/acme/jobs/1` (or the embed and API URLs) → `board = "acme"`."""
        if super().entry_from_url(url) is None:
            return None
        parts = urlsplit(url)
        segments = [s for s in parts.path.split("/") if s]
        if segments[:2] == ["v1", "boards"] and len(segments) > 2:
            return {"board": segments[2]}
        if segments[:2] == ["embed", "job_board"]:
            board = parse_qs(parts.query).get("for", [""])[0]
            return {"board": board} if board else None
        return {"board": segments[0]} if segments else None

    async def start(self) -> AsyncIterator[Any]:
        yield self.request(f"/v1/boards/{quote(self.board)}/jobs?content=true", self.parse)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        data = self.parse_json(response)
        if data is None:
            return
        jobs = data.get("jobs") if isinstance(data, dict) else None
        if jobs is None:
            self.fail("no `jobs` list in the response", url=response.url, key="shape")
            return
        if self.probe:
            self.probe_total = len(jobs)
            self.probe_company = next(
                (c for j in jobs if (c := text_or_none(j.get("company_name")))), None
            )
        if not jobs:
            self.report_empty(response)
            return
        for job in jobs:
            yield self.build_item(job)

    def build_item(self, job: dict[str, Any]) -> Any:
        metadata = {
            m.get("name"): m.get("value")
            for m in job.get("metadata") or []
            if isinstance(m, dict) and m.get("name")
        }
        content = job.get("content")
        description = html.unescape(content) if isinstance(content, str) else None
        extra = {
            "departments": [d["name"] for d in job.get("departments") or [] if d.get("name")],
            "offices": [o["name"] for o in job.get("offices") or [] if o.get("name")],
            "metadata": metadata,
            "updated_at": job.get("updated_at"),
            "internal_job_id": job.get("internal_job_id"),
            "language": job.get("language"),
        }
        return self.make_item(
            external_id=self.external_id(job["id"]),
            title=job.get("title"),
            company=text_or_none(job.get("company_name")),
            url=job.get("absolute_url"),
            description_html=description,
            salary=pay_input_salary(job.get("pay_input_ranges")),
            salary_text=pay_range(description),
            locations=[name]
            if (name := text_or_none((job.get("location") or {}).get("name")))
            else [],
            workplace_hint=text_or_none(
                metadata.get("Location Type") or metadata.get("Workplace Type")
            ),
            employment_type=metadata.get("Employment Type"),
            posted=job.get("first_published") or job.get("updated_at"),
            valid_through=job.get("application_deadline"),
            req_id=text_or_none(job.get("requisition_id")),
            extra={k: v for k, v in extra.items() if v},
        )
