"""Make a clean posting storable on both engines: no NUL, lone surrogates or non-characters, and
every field within what the indexes and the full-text vector accept.

Scraped text can hold anything JSON or HTML can carry. SQLite and psycopg refuse a lone
surrogate (`\\ud800`) in any text; PostgreSQL refuses NUL in text, a B-tree index entry over
~2.7 KB (`ix_postings_dedup` on the company and title keys, the unique source + external id)
and a `tsvector` over 1 MB. A title of a few hundred characters is no title any more, and a
description of 100,000 characters is longer than any real one: both are cut, not refused, so the
posting is still stored. Identifiers are never cut (two ids sharing a prefix would become one):
a long one keeps a prefix and a hash of the whole.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from functools import lru_cache
from typing import Any

from pipeline.record import CleanPosting
from pipeline.sanitize import clean_html

# Characters no stored text keeps: C0 controls but tab/newline/CR, DEL, C1 controls, lone
# surrogates (a str from json.loads can hold them; no encoder accepts them) and non-characters
# (U+FDD0–U+FDEF and the last two code points of every plane). A character class: linear time.
_NON_CHARS = "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
_UNSTORABLE = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef{_NON_CHARS}]"
)
# In one-line fields (title, company, place) line breaks become spaces and the bidirectional
# embeddings, overrides and isolates go: they can make a title read backwards.
_LINE_BREAKS = re.compile("[\t\n\r\u2028\u2029]+")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")

# Lengths in characters (4 bytes each at worst, so the dedup index row stays under 2.7 KB).
MAX_TITLE = 300
MAX_COMPANY = 200
MAX_PLACE = 200
MAX_SHORT = 64  # codes and enums: region, country, workplace, currency, period, seniority
MAX_LOCATION_TEXT = 500
MAX_URL = 4096
MAX_ID = 200
# The full-text input: 100,000 characters stay far below PostgreSQL's 1 MB tsvector.
MAX_DESCRIPTION = 100_000
MAX_HTML = 200_000
MAX_LIST = 50

_LINE_FIELDS = {"title": MAX_TITLE, "company": MAX_COMPANY, "city": MAX_PLACE}
_SHORT_FIELDS = (
    "region", "country", "workplace", "employment_type", "salary_currency", "salary_period",
    "seniority",
)  # fmt: skip


# The same class within the Basic Multilingual Plane, and within ASCII: the ranges beyond it
# make `_UNSTORABLE` ~15 times slower per character, and most texts have no such character.
_UNSTORABLE_BMP = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
)
_UNSTORABLE_ASCII = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def storable_text(value: str) -> str:
    """The text without the characters no database column accepts (NUL, lone surrogates...)."""
    if value.isascii():
        return value if _UNSTORABLE_ASCII.search(value) is None else _UNSTORABLE.sub("", value)
    if max(value) <= "\uffff":
        return _UNSTORABLE_BMP.sub("", value)
    return _UNSTORABLE.sub("", value)


def one_line(value: str, limit: int) -> str:
    """A storable single line: no breaks or bidi controls, spaces collapsed, at most `limit` chars."""
    if (
        len(value) <= limit
        and value.isprintable()  # no control, format, surrogate, unassigned or break character
        and "  " not in value  # and the only space character is " ", single and inside
        and not value.startswith(" ")
        and not value.endswith(" ")
    ):
        return value  # already a storable line (most are): nothing below would change it
    text = _BIDI.sub("", _LINE_BREAKS.sub(" ", storable_text(value)))
    text = " ".join(text.split())
    return cut(text, limit)


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a space near the end when there is one, marked '…'."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ", limit // 2)
    return (head[:space] if space > 0 else head).rstrip() + "…"


def storable_id(value: str, limit: int = MAX_ID) -> str:
    """An identifier that fits an index: unchanged when short, else a prefix and a hash of all of it."""
    value = storable_text(value)
    if len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]
    return f"{value[: limit - 34]}#{digest}"


def storable_url(value: str | None) -> str | None:
    """A URL without unstorable characters; None when it is longer than any URL a browser keeps."""
    if value is None:
        return None
    value = storable_text(value).strip()
    return value if value and len(value) <= MAX_URL else None


# Short one-line values repeat (countries, workplaces, skills, a source's titles and
# places): each is made storable once. `one_line` is pure; texts over MAX_TITLE are not kept.
_short_line = lru_cache(maxsize=8192)(one_line)


def _line(value: str, limit: int) -> str:
    """`one_line(value, limit)`, remembered for values of at most MAX_TITLE characters."""
    return _short_line(value, limit) if len(value) <= MAX_TITLE else one_line(value, limit)


def make_storable(item: CleanPosting) -> tuple[CleanPosting, list[str]]:
    """The posting with every field storable, and the names of the fields that had to change."""
    changes: dict[str, Any] = {}
    for name, limit in _LINE_FIELDS.items():
        _change(changes, item, name, _line, limit)
    for name in _SHORT_FIELDS:
        _change(changes, item, name, _line, MAX_SHORT)
    _change(changes, item, "location_text", _line, MAX_LOCATION_TEXT)
    _change(changes, item, "attribution", _line, MAX_LOCATION_TEXT)
    _change(changes, item, "description_text", lambda v: cut(storable_text(v), MAX_DESCRIPTION))
    _change(changes, item, "description_html", _storable_html)
    for name in ("external_id", "req_id"):
        _change(changes, item, name, storable_id)
    for name in ("url", "apply_url"):
        if getattr(item, name) is not None and (
            url := storable_url(getattr(item, name))
        ) != getattr(item, name):
            changes[name] = url
    for name in ("industries", "skills"):
        values = getattr(item, name) or []
        kept = [_line(str(v), MAX_SHORT) for v in values[:MAX_LIST]]
        if kept != values:
            changes[name] = kept
    if not changes:
        return item, []
    return replace(item, **changes), sorted(changes)


def _change(changes: dict[str, Any], item: CleanPosting, name: str, fix: Any, *args: Any) -> None:
    value = getattr(item, name)
    if not isinstance(value, str):
        return
    fixed = fix(value, *args)
    if fixed != value:
        changes[name] = fixed


def _storable_html(value: str) -> str:
    value = storable_text(value)
    if len(value) <= MAX_HTML:
        return value
    # sanitized again after the cut: nh3 closes what the cut left open
    return clean_html(value[:MAX_HTML])
