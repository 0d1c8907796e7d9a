"""RSS 2.0 and Atom job feeds, including real feeds that use undeclared namespace prefixes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from scrapy.http import Response

from spiders.base import JobSpider, text_or_none

# Feeds whose terms ask for a credit line, by host.
ATTRIBUTION = {"himalayas.app": "Himalayas", "weworkremotely.com": "We Work Remotely"}
# Feeds whose item title is "Company: Title" even when an item names a company otherwise.
COMPANY_IN_TITLE_HOSTS = ("weworkremotely.com",)
# A pasted URL that is a feed: by its path or its query.
FEED_URL = (
    r"^https?://[^?#]*(?:\.rss|\.atom|/rss|/atom|/feeds?)(?:\.xml)?/?(?:[?#].*)?$",
    r"^https?://[^?#]*\.xml(?:[?#].*)?$",
    r"^https?://[^#]*[?&](?:format|type|output)=(?:rss|atom|feed)\b",
)


def local(tag: Any) -> str:
    """The local name of a tag, whether namespaced (`{ns}encoded`) or an undeclared `prefix:name`."""
    if not isinstance(tag, str):
        return ""  # comments and processing instructions
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def parse_feed(body: bytes) -> tuple[str, list[dict[str, Any]]]:
    """("rss" | "atom" | "", entries): each entry maps local tag names to lists of values.

    lxml's recovering parser keeps elements with undeclared prefixes (Himalayas' feed uses
    `himalayasJobs:` and `media:` without declaring them, which strict parsers refuse).
    Attribute-only elements (`<link href>`, `<category term>`) contribute their attributes.
    """
    parser = etree.XMLParser(
        recover=True, resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True
    )
    root = etree.fromstring(body, parser)
    if root is None:
        return "", []
    flavour = (
        "atom" if local(root.tag) == "feed" else "rss" if local(root.tag) in ("rss", "RDF") else ""
    )
    entries = []
    for node in root.iter():
        if local(node.tag) not in ("item", "entry"):
            continue
        entry: dict[str, list[Any]] = {}
        for child in node:
            name = local(child.tag)
            if not name:
                continue
            text = "".join(child.itertext()) if len(child) == 0 else None
            if name in ("author",) and len(child):
                text = " ".join(
                    (sub.text or "").strip() for sub in child if local(sub.tag) == "name"
                )
            value: Any = text_or_none(text)
            if value is None and child.attrib:
                value = dict(child.attrib)
            if value is not None:
                entry.setdefault(name, []).append(value)
        entries.append(entry)
    return flavour, entries


def _one(entry: dict[str, list[Any]], *names: str) -> Any:
    for name in names:
        for value in entry.get(name, []):
            if isinstance(value, str):
                return value
    return None


def _atom_link(entry: dict[str, list[Any]]) -> str | None:
    for value in entry.get("link", []):
        if isinstance(value, str):
            return value
        if value.get("rel", "alternate") == "alternate" and value.get("href"):
            return value["href"]
    return None


def _strings(entry: dict[str, list[Any]], name: str, attr: str | None = None) -> list[str]:
    out = []
    for value in entry.get(name, []):
        if isinstance(value, str):
            out.append(value)
        elif attr and isinstance(value, dict) and value.get(attr):
            out.append(value[attr])
    return out


class RssSpider(JobSpider):
    """A job feed (`feed = "https://…/jobs/rss"`), RSS 2.0 or Atom.

    Maps title, link, guid/id, description/summary, content:encoded/content, pubDate/published,
    categories, and the Himalayas extensions (companyName, locationRestriction, expiryDate).
    `company_in_title = true` splits "Company: Title" (default on for We Work Remotely; when
    unset, an item that names no company, in a source without `company`, is split too);
    `attribution` credits the source (default "Himalayas" / "We Work Remotely" for their feeds).
    The external id is `rss:` + the guid (else the link).
    """

    name = "rss"
    kind = "rss"
    board_key = "feed"
    keys = frozenset({"feed", "company_in_title"})
    required = (("feed", "url"),)
    url_keys = ("feed",)
    aggregator = True  # many employers' jobs
    example_url = "https://acmefoods.example/careers/feed.rss"
    url_patterns = FEED_URL
    recognition_rank = 1

    @classmethod
    def entry_from_url(cls, url: str) -> dict[str, Any] | None:
        if super().entry_from_url(url) is None or "sitemap" in urlsplit(url).path.lower():
            return None  # a sitemap is a list of pages (the JSON-LD kind reads it)
        return {"feed": url}

    @classmethod
    def check_entry(cls, entry: dict[str, Any]) -> None:
        if not isinstance(entry.get("company_in_title", False), bool):
            raise ValueError("`company_in_title` must be true or false")

    def external_id(self, raw_id: Any) -> str:
        return f"{self.kind}:{raw_id}"

    @property
    def feed_url(self) -> str:
        return str(self.source.option("feed") or self.source.url)

    async def start(self) -> AsyncIterator[Any]:
        yield self.request(self.feed_url, self.parse)

    def not_found_message(self) -> str:
        return f"feed {self.feed_url!r} not found (404) — check `feed` in the sources file"

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        if not 200 <= response.status < 300:
            msg, key = self.http_error_message(response)
            self.fail(msg, url=response.url, key=key)
            return
        flavour, entries = parse_feed(response.body) if response.body.strip() else ("", [])
        if not flavour:
            head = response.body[:200].decode("utf-8", "replace").strip()
            self.fail(
                f"not an RSS or Atom feed (starts with {head[:60]!r})",
                url=response.url,
                key="not_feed",
            )
            return
        if self.probe:
            self.probe_total = len(entries)
        if not entries:
            self.report_empty(response, "feed items")
            return
        host = (urlsplit(self.feed_url).hostname or "").removeprefix("www.")
        attribution = self.source.option("attribution") or ATTRIBUTION.get(host)
        split = self.source.option("company_in_title")
        if split is None and host in COMPANY_IN_TITLE_HOSTS:
            split = True
        for entry in entries:
            item = self.build_item(entry, flavour, attribution=attribution, split=split)
            if item is not None:
                yield item

    def build_item(
        self,
        entry: dict[str, list[Any]],
        flavour: str,
        *,
        attribution: str | None,
        split: bool | None,
    ) -> Any:
        """One item. `split`: True splits "Company: Title", False never does, None (unset)
        splits only an item that names no company when the entry has no `company` either."""
        title = _one(entry, "title")
        company = text_or_none(_one(entry, "companyName"))
        if split is None:
            split = not (
                company or text_or_none(_one(entry, "author")) or self.source.option("company")
            )
        if split and title and ": " in title:
            named, _, rest = title.partition(": ")
            if named.strip() and rest.strip():
                company, title = company or named.strip(), rest.strip()
        link = _one(entry, "link") if flavour == "rss" else _atom_link(entry)
        guid = _one(entry, "guid", "id") or link
        if not guid:
            self.crawler.stats.inc_value("andon/rss/no_id")
            return None
        locations = _strings(entry, "locationRestriction") or _strings(entry, "region")
        extra = {
            "categories": _strings(entry, "category", "term"),
            "timezone_restrictions": _strings(entry, "timezoneRestriction"),
            "country": _one(entry, "country"),
            "state": _one(entry, "state"),
            "skills": _one(entry, "skills"),
            "summary": _one(entry, "description", "summary"),
        }
        return self.make_item(
            external_id=self.external_id(guid),
            title=title,
            company=text_or_none(company) or text_or_none(_one(entry, "author")),
            url=link or (guid if str(guid).startswith("http") else None),
            description_html=_one(entry, "encoded", "content")
            or _one(entry, "description", "summary"),
            locations=locations,
            employment_type=_one(entry, "type"),
            posted=_one(entry, "pubDate", "published", "updated", "date"),
            valid_through=_one(entry, "expiryDate", "expires_at"),
            attribution=attribution,
            extra={k: v for k, v in extra.items() if v},
        )
