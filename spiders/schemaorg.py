"""schema.org JobPosting in JSON-LD: lenient extraction from HTML pages and the JobItem fields of
one posting (shared by the kinds whose job pages carry it)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from spiders.base import first, text_or_none
from spiders.fields import monetary_amount

_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_SCRIPTS = (
    "//script[contains(translate(@type, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', "
    "'abcdefghijklmnopqrstuvwxyz'), 'ld+json')]/text()"
)


def _strip_js_comments(text: str) -> str:
    """Drop `//…` and `/*…*/` comments outside JSON strings (CMSes leave them in script blocks)."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                in_string = False
            i += 1
        elif ch == '"':
            in_string = True
            out.append(ch)
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def loads_lenient(block: str) -> Any | None:
    """One script block as JSON, tolerating CDATA, HTML/JS comments, raw newlines in strings
    and trailing commas; None when it still is not JSON."""
    text = block.strip()
    for junk in ("<![CDATA[", "]]>", "<!--", "-->"):
        text = text.replace(junk, "")
    text = text.strip().rstrip(";")
    try:
        return json.loads(text, strict=False)
    except json.JSONDecodeError:
        pass
    cleaned = _TRAILING_COMMA.sub(r"\1", _strip_js_comments(text)).strip()
    try:
        return json.loads(cleaned, strict=False)
    except json.JSONDecodeError:
        pass
    start = min((i for i in (cleaned.find("{"), cleaned.find("[")) if i >= 0), default=-1)
    if start < 0:
        return None
    try:
        value, _ = json.JSONDecoder(strict=False).raw_decode(cleaned[start:])
    except json.JSONDecodeError:
        return None
    return value


def _is_type(node: dict[str, Any], wanted: str) -> bool:
    types = node.get("@type")
    types = types if isinstance(types, list) else [types]
    for t in types:
        if isinstance(t, str) and t.rsplit("/", 1)[-1].rsplit(":", 1)[-1].lower() == wanted:
            return True
    return False


def iter_typed(value: Any, wanted: str = "jobposting") -> Iterator[dict[str, Any]]:
    """Every dict of the given @type in a JSON-LD document: lists, @graph and nesting included."""
    if isinstance(value, list):
        for element in value:
            yield from iter_typed(element, wanted)
    elif isinstance(value, dict):
        if _is_type(value, wanted):
            yield value
            return
        for child in value.values():
            if isinstance(child, dict | list):
                yield from iter_typed(child, wanted)


def extract_job_postings(page: str | Selector) -> tuple[list[dict[str, Any]], int]:
    """All JobPosting objects of an HTML page, and the number of unreadable script blocks."""
    sel = page if isinstance(page, Selector) else Selector(text=page)
    postings: list[dict[str, Any]] = []
    bad = 0
    for block in sel.xpath(_SCRIPTS).getall():
        data = loads_lenient(block)
        if data is None:
            bad += bool(block.strip())
            continue
        postings.extend(iter_typed(data))
    return postings, bad


def _name(value: Any) -> str | None:
    value = first(value)
    if isinstance(value, dict):
        return text_or_none(value.get("name"))
    return text_or_none(value)


def _address(place: Any) -> tuple[str | None, dict[str, Any]]:
    if isinstance(place, str):
        return text_or_none(place), {}
    if not isinstance(place, dict):
        return None, {}
    address = first(place.get("address"))
    if isinstance(address, str):
        text = text_or_none(address)
        return text, {}
    address = address if isinstance(address, dict) else {}
    parts = {
        "city": text_or_none(address.get("addressLocality")),
        "region": _name(address.get("addressRegion")),
        "country": _name(address.get("addressCountry")),
        "postal_code": text_or_none(address.get("postalCode")),
    }
    geo = found if isinstance(found := place.get("geo"), dict) else {}
    if geo.get("latitude") is not None:
        parts["latitude"] = geo.get("latitude")
        parts["longitude"] = geo.get("longitude")
    parts = {k: v for k, v in parts.items() if v is not None}
    text = ", ".join(str(parts[k]) for k in ("city", "region", "country") if k in parts)
    return text or _name(place), parts


def _description(value: Any) -> str | None:
    text = text_or_none(value)
    if text and "<" not in text and "&lt;" in text:
        text = html.unescape(text)  # HTML-escaped description: `&lt;p&gt;`
    return text


def posting_fields(posting: dict[str, Any], *, page_url: str) -> dict[str, Any]:
    """JobItem fields (and `external_id`) from one JobPosting object, values as given."""
    org = _name(posting.get("hiringOrganization"))
    ident = first(posting.get("identifier"))
    ident_value = text_or_none(ident.get("value") if isinstance(ident, dict) else ident)
    if ident_value:
        owner = (
            org
            or (_name(ident) if isinstance(ident, dict) else None)
            or urlsplit(page_url).hostname
        )
        external_id = f"jsonld:{owner}:{ident_value}"
    else:
        external_id = f"jsonld:{page_url}"
    locations: list[str] = []
    location_parts: dict[str, Any] | None = None
    places = posting.get("jobLocation")
    for place in places if isinstance(places, list) else [places]:
        text, parts = _address(place)
        if text:
            locations.append(text)
        if location_parts is None and parts:
            location_parts = parts
    title = text_or_none(posting.get("title"))
    extra = {
        "identifier": ident_value,
        "applicant_location_requirements": posting.get("applicantLocationRequirements"),
        "industry": posting.get("industry"),
        "occupational_category": posting.get("occupationalCategory"),
        "direct_apply": posting.get("directApply"),
    }
    url = text_or_none(first(posting.get("url")))
    return {
        "external_id": external_id,
        "title": html.unescape(title) if title else None,
        "company": org,
        "url": urljoin(page_url, url) if url else page_url,
        "description_html": _description(posting.get("description")),
        "locations": locations,
        "location_parts": location_parts,
        "workplace_hint": text_or_none(first(posting.get("jobLocationType"))),
        "employment_type": posting.get("employmentType"),
        "salary": monetary_amount(posting.get("baseSalary")),
        "posted": posting.get("datePosted"),
        "valid_through": posting.get("validThrough"),
        "extra": {k: v for k, v in extra.items() if v not in (None, "", [])},
    }
