"""Lever Postings API: a site's published postings as one JSON array (US or EU host)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from scrapy.http import Response

from spiders.base import JobSpider, text_or_none
from spiders.fields import common_salary
from spiders.sources import Source

US_API = "https://api.lever.co"
EU_API = "https://api.eu.lever.co"


def salary_range(data: Any) -> dict[str, Any] | None:
    """Lever's `salaryRange` {currency: "usd", interval: "per-year-salary", min, max}."""
    if not isinstance(data, dict):
        return None
    return common_salary(
        data.get("min"), data.get("max"), data.get("currency"), data.get("interval")
    )


class LeverSpider(JobSpider):
    """One Lever site (`site = "acme"` from `jobs.lever.co/acme`; `eu = true` for the EU host).

    Keeps `createdAt` (epoch ms), `workplaceType`, `salaryRange` and the plain salary text as
    given; the description is the opening, the lists and the closing part joined.
    """

    name = "lever"
    kind = "lever"
    board_key = "site"
    keys = frozenset({"site", "eu"})
    # The Postings API never names the employer: without `company` every posting would be dropped.
    required = (("site",), ("company",))
    example_url = "https://jobs.lever.co/acmefoods"
    url_patterns = (r"^https?://jobs\.(?:eu\.)?lever\.co/[^/?#]+",)
    custom_settings = {"DOWNLOAD_DELAY": 1.0}  # Lever's robots.txt asks for Crawl-delay: 1

    @classmethod
    def entry_from_url(cls, url: str) -> dict[str, Any] | None:
        """`https://jobs.lever.co/acme/…` → `site = "acme"` (`eu = true` on jobs.eu.lever.co)."""
        if super().entry_from_url(url) is None:
            return None
        parts = urlsplit(url)
        site = unquote(parts.path.strip("/").split("/")[0])
        entry: dict[str, Any] = {"site": site}
        if parts.hostname and ".eu." in parts.hostname:
            entry["eu"] = True
        return entry

    @classmethod
    def liveness_url(cls, source: Source, external_id: str, url: str | None) -> str | None:
        """The Postings API's one-posting endpoint: "404 Document not found" once unpublished."""
        if (found := cls.board_and_raw_id(external_id)) is None:
            return None
        site, posting_id = found
        api = EU_API if source.option("eu") else US_API
        return f"{api}/v0/postings/{quote(site, safe='')}/{quote(posting_id, safe='')}"

    @classmethod
    def check_entry(cls, entry: dict[str, Any]) -> None:
        if not isinstance(entry.get("eu", False), bool):
            raise ValueError("`eu` must be true or false")

    @property
    def api_base(self) -> str:  # type: ignore[override]
        return EU_API if self.source.option("eu") else US_API

    async def start(self) -> AsyncIterator[Any]:
        yield self.request(f"/v0/postings/{quote(self.board)}?mode=json", self.parse)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        data = self.parse_json(response)
        if data is None:
            return
        if isinstance(data, dict):  # {"ok": false, "error": "Document not found"}
            self.fail(
                f"site {self.board!r}: {data.get('error') or 'unexpected object'} — "
                "check `site` in the sources file",
                url=response.url,
                key="shape",
            )
            return
        if self.probe:
            self.probe_total = len(data)
        if not data:
            self.report_empty(response, "postings")
            return
        for posting in data:
            yield self.build_item(posting)

    def build_item(self, posting: dict[str, Any]) -> Any:
        cats = posting.get("categories") or {}
        parts = [posting.get("description") or posting.get("opening") or ""]
        for block in posting.get("lists") or []:
            heading = text_or_none(block.get("text"))
            parts.append(
                (f"<h3>{heading}</h3>" if heading else "")
                + f"<ul>{block.get('content') or ''}</ul>"
            )
        parts.append(posting.get("additional") or "")
        description = "\n".join(p for p in parts if p.strip())
        locations = [loc for loc in cats.get("allLocations") or [] if text_or_none(loc)]
        if not locations and text_or_none(cats.get("location")):
            locations = [cats["location"]]
        extra = {
            "team": cats.get("team"),
            "department": cats.get("department"),
            "site": self.board,
        }
        return self.make_item(
            external_id=self.external_id(posting["id"]),
            title=posting.get("text"),
            url=posting.get("hostedUrl"),
            apply_url=posting.get("applyUrl"),
            description_html=description or None,
            description_text=None if description else posting.get("descriptionPlain"),
            locations=locations,
            location_parts={"country": posting["country"]} if posting.get("country") else None,
            workplace_hint=posting.get("workplaceType"),
            employment_type=cats.get("commitment"),
            salary=salary_range(posting.get("salaryRange")),
            salary_text=text_or_none(posting.get("salaryDescriptionPlain")),
            posted=posting.get("createdAt"),
            extra={k: v for k, v in extra.items() if v},
        )
