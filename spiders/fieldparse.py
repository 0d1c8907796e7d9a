"""Parsers for the field quirks spiders convert: slash and RFC 822 dates, "City, ST, CC, ZIP"
places, schema.org microdata on job pages, and XML job feeds with labelled filter fields."""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime
from typing import Any

from lxml import etree
from parsel import Selector
from scrapy.http import Response

from spiders.base import text_or_none

_SLASH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_MERGE_TOKEN = re.compile(r"\[\[[^\]]{0,80}\]\]")
_XML = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)


def slash_date(text: str, *, day_first: bool = False) -> str | None:
    """`M/D/YY`, `M/D/YYYY` (or day first) as an ISO date; None when it is not such a date."""
    m = _SLASH_DATE.match(text.strip())
    if not m:
        return None
    a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    month, day = (b, a) if day_first else (a, b)
    year += 2000 if year < 100 else 0
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def days_first(dates: list[Any]) -> bool:
    """True when one `A/B/YYYY` date of a feed has A > 12: the feed writes days first."""
    for text in dates:
        m = _SLASH_DATE.match(text.strip()) if isinstance(text, str) else None
        if m and int(m.group(1)) > 12:
            return True
    return False


def iso_date(value: Any, *, day_first: bool = False) -> str | None:
    """An ISO date from `YYYY-MM-DD…`, `M/D/YY` or an RFC 822 date with an unpadded hour."""
    text = text_or_none(value)
    if text is None:
        return None
    if _ISO_DATE.match(text):
        return text
    if (slashed := slash_date(text, day_first=day_first)) is not None:
        return slashed
    try:
        return parsedate_to_datetime(text).isoformat()
    except (TypeError, ValueError, IndexError):
        return None


def place_parts(text: str | None) -> dict[str, str] | None:
    """ "City, ST, CC[, ZIP]" → {city, region, country, postal_code} (country only when ISO-2)."""
    items = [p.strip() for p in (text or "").split(",") if p.strip()]
    if not items:
        return None
    parts: dict[str, str] = {}
    if len(items) > 1 and any(ch.isdigit() for ch in items[-1]):
        parts["postal_code"] = items.pop()
    if len(items) > 1 and re.fullmatch(r"[A-Z]{2}", items[-1]):
        parts["country"] = items.pop()
    parts["city"] = items[0]
    if len(items) > 1:
        parts["region"] = items[1]
    return parts


def split_title(title: str) -> tuple[str, str | None]:
    """ "Job Title (City, ST, CC, ZIP)" → ("Job Title", "City, ST, CC, ZIP")."""
    title = title.strip()
    start = title.rfind(" (")
    if title.endswith(")") and start > 0 and "," in title[start:]:
        return title[:start].strip(), title[start + 2 : -1].strip()
    return title, None


def inner_html(sel: Selector) -> str | None:
    return text_or_none("".join(sel.xpath("node()").getall()))


def xml_root(response: Response) -> Any:
    body = response.body.strip()
    if not body or body[:1] != b"<":
        return None
    try:
        return etree.fromstring(body, _XML)
    except etree.XMLSyntaxError:
        return None


# Labels of a legacy feed's filter fields, by what they hold ("Location Flexibility" is no place).
_LABELS = (
    ("country", re.compile(r"country|pa[ií]s|pays|land\b", re.I)),
    ("region", re.compile(r"state|region|province|provincia|bundesland", re.I)),
    ("city", re.compile(r"city|ciudad|ville|stadt|cidade|citt", re.I)),
    ("location", re.compile(r"^(?:geographic )?location$|standort", re.I)),
    ("department", re.compile(r"function|department|category", re.I)),
    ("employment", re.compile(r"employment|schedule|job type", re.I)),
)


def legacy_fields(job: Any) -> dict[str, Any]:
    """One `<Job>`: its plain elements by tag, and its `filterN`/`mfieldN` label/value pairs."""
    row: dict[str, Any] = {k: None for k, _ in _LABELS}
    for child in job:
        if not isinstance(child.tag, str):
            continue
        label = text_or_none(child.findtext("label"))
        value = text_or_none(_MERGE_TOKEN.sub("", child.findtext("value") or child.text or ""))
        if label is None:
            row[child.tag] = value
            continue
        for key, pattern in _LABELS:
            if value and pattern.search(label) and row[key] is None:
                row[key] = value
                break
    row["location"] = row.get("Location") or row["location"]
    return row


def page_fields(body: bytes) -> dict[str, Any]:
    """What a job page's schema.org microdata says: description, employer, date and place."""
    sel = Selector(text=body.decode("utf-8", "replace"))
    desc = sel.xpath('//*[@itemprop="description"][not(self::meta)]')
    org = sel.xpath('//*[@itemprop="hiringOrganization"]')

    def prop(scope: Selector, name: str) -> str | None:
        node = scope.xpath(f'.//*[@itemprop="{name}"]')
        return text_or_none(node.xpath("@content").get() or node.xpath("string()").get())

    address = sel.xpath('//*[@itemprop="address"]')
    parts = None
    if address:
        fields = {
            "city": prop(address[0], "addressLocality"),
            "region": prop(address[0], "addressRegion"),
            "country": prop(address[0], "addressCountry"),
            "postal_code": prop(address[0], "postalCode"),
        }
        parts = {k: v for k, v in fields.items() if v} or None
    company = (prop(org[0], "name") if org else None) or text_or_none(
        sel.xpath('//meta[@property="og:site_name"]/@content').get()
    )
    described = inner_html(desc[0]) if desc else None
    return {
        "description_html": described
        or text_or_none(sel.xpath('//meta[@itemprop="description"]/@content').get()),
        "company": company,
        "posted": iso_date(prop(sel, "datePosted")),
        "location_parts": parts,
    }
