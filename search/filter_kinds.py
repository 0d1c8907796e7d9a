"""The kinds of search filter: how a value is parsed, read in Python and SQL, and indexed.

`FilterDef` is the interface; each class here is one kind of filter (any of some values on a
column, not these companies, a minimum salary, a place, ...). The filters themselves, one
instance each, are listed in `search.definitions`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import func, literal, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from db import utcnow
from pipeline.models import Posting
from search.place import (
    FilterKey,
    PlaceFilter,
    explain_place,
    place_accepts,
    place_doc_keys,
    place_index_keys,
    place_sql,
)
from search.posting import PostingDoc, best_annual_usd

WORKPLACES = ("onsite", "hybrid", "remote")
SENIORITIES = ("supervisor", "assistant", "manager", "senior", "director", "executive")
EMPLOYMENT_TYPES = ("full_time", "part_time", "contract", "temporary", "internship")


class SearchError(ValueError):
    """A search a user asked for that cannot run (bad value, bad query); one line."""


@dataclass(frozen=True)
class Given:
    """What a user typed (CLI options, web fields), by `build_filters` keyword, and its context."""

    values: Mapping[str, Any]
    geocode: Callable[[str], Any] | None = None
    now: datetime | None = None

    def get(self, name: str) -> Any:
        return self.values.get(name)


class FilterDef:
    """One filter: its `Filters` field, its parsing, its meaning in Python and SQL, its index keys.

    `bits` tells the matcher how the filter becomes constraint bits: "any" (the posting has one of
    the filter's values: `doc_values` ∩ `bit_values`), "none" (it has none of them), "each" (each
    distinct value is decided once per posting with `accepts`), or None (not a constraint: the
    place, which the matcher scores on its own, and the listing-only filters).
    """

    name: str  # the `Filters` field that holds the filter's value
    listing_only: ClassVar[bool] = False
    bits: ClassVar[str | None] = "each"

    def active(self, value: Any) -> bool:
        """Does this value filter anything at all?"""
        return bool(value)

    def parse(self, given: Given) -> Any:
        raise NotImplementedError

    def accepts(self, value: Any, doc: PostingDoc) -> bool:
        raise NotImplementedError

    def sql(self, value: Any, dialect: str) -> ColumnElement[bool]:
        raise NotImplementedError

    def index_keys(self, value: Any) -> tuple[float, list[FilterKey]] | None:
        """Keys one of which every accepted posting has, with the share of postings they reach."""
        return None

    def doc_keys(self, doc: PostingDoc) -> Iterable[FilterKey]:
        """The keys of `index_keys` this posting has."""
        return ()

    def bit_values(self, value: Any) -> Iterable[object]:
        return ()

    def doc_values(self, doc: PostingDoc) -> Iterable[object]:
        return ()

    def explain(self, value: Any, doc: PostingDoc) -> str:
        """What the filter saw in a posting it let through, for the one-line reason."""
        return ""


def norm_choice(value: str) -> str:
    return value.strip().lower().replace("-", "_").replace(" ", "_")


@dataclass(frozen=True)
class AnyOf(FilterDef):
    """Any of the given values, on a posting column holding one value (or a JSON list of them)."""

    name: str
    param: str  # the `build_filters` keyword
    column: str  # on `Posting` and `PostingDoc`
    key: str  # the matcher's key and bit prefix
    what: str  # in messages: "unknown {what} ..."
    allowed: tuple[str, ...] | None = None  # None: any value (after `normalize`)
    normalize: Callable[[str], str] = norm_choice
    many: bool = False  # the column is a JSON list (industries, skills)
    shares: Mapping[str, float] = field(default_factory=dict)
    default_share: float = 0.2
    label: Callable[[str], str] = str

    bits: ClassVar[str | None] = "any"

    def parse(self, given: Given) -> frozenset[str]:
        out = set()
        for raw in given.get(self.param) or ():
            value = self.normalize(raw)
            if self.allowed is not None and value not in self.allowed:
                raise SearchError(
                    f"unknown {self.what} {raw!r}: choose from {', '.join(self.allowed)}"
                )
            out.add(value)
        return frozenset(out)

    def doc_values(self, doc: PostingDoc) -> Iterable[object]:
        got = getattr(doc, self.column)
        return got if self.many else (got,)

    def accepts(self, value: frozenset[str], doc: PostingDoc) -> bool:
        got = getattr(doc, self.column)
        return not value.isdisjoint(got) if self.many else got in value

    def sql(self, value: frozenset[str], dialect: str) -> ColumnElement[bool]:
        if self.many:
            return _json_any(self.column, value, dialect)
        return getattr(Posting, self.column).in_(sorted(value))

    def index_keys(self, value: frozenset[str]) -> tuple[float, list[FilterKey]] | None:
        share = sum(self.shares.get(v, self.default_share) for v in value)
        return share, [(self.key, v) for v in value]

    def doc_keys(self, doc: PostingDoc) -> Iterable[FilterKey]:
        return [(self.key, v) for v in self.doc_values(doc)]

    def bit_values(self, value: frozenset[str]) -> Iterable[object]:
        return value

    def explain(self, value: frozenset[str], doc: PostingDoc) -> str:
        if self.many:
            return ", ".join(self.label(v) for v in getattr(doc, self.column) if v in value)
        got = getattr(doc, self.column)
        return self.label(got) if got else ""


def _json_any(column: str, values: frozenset[str], dialect: str) -> ColumnElement[bool]:
    vals = sorted(values)
    col = getattr(Posting, column)
    if dialect == "postgresql":
        from sqlalchemy import type_coerce
        from sqlalchemy.dialects.postgresql import JSONB

        as_jsonb = type_coerce(col, JSONB)
        return or_(*[as_jsonb.contains([v]) for v in vals])  # jsonb @> uses the GIN index
    each = func.json_each(col).table_valued("value")
    return select(literal(1)).select_from(each).where(each.c.value.in_(vals)).exists()


@dataclass(frozen=True)
class ExcludeCompanies(FilterDef):
    """Not these companies: case-insensitive exact name (stored casefolded)."""

    name: str = "exclude_companies"
    bits: ClassVar[str | None] = "none"

    def parse(self, given: Given) -> frozenset[str]:
        return frozenset(
            c.strip().casefold() for c in given.get("exclude_companies") or () if c.strip()
        )

    def accepts(self, value: frozenset[str], doc: PostingDoc) -> bool:
        return doc.company.casefold() not in value

    def sql(self, value: frozenset[str], dialect: str) -> ColumnElement[bool]:
        return not_(func.lower(Posting.company).in_(sorted(value)))

    def bit_values(self, value: frozenset[str]) -> Iterable[object]:
        return value

    def doc_values(self, doc: PostingDoc) -> Iterable[object]:
        return (doc.company.casefold(),)


def _best_sql() -> Any:
    return func.coalesce(Posting.annual_max_usd, Posting.annual_min_usd)


def money(amount: float) -> str:
    """$95k, $800."""
    if amount >= 1000:
        return f"${amount / 1000:,.0f}k"
    return f"${amount:,.0f}"


@dataclass(frozen=True)
class MinSalary(FilterDef):
    """The posting's best annual USD figure (max, else min) reaches it; no salary stated passes.

    A posting that states no salary is not known to pay less, so it stays in; `SalaryRequired`
    (`--salary-required`, "only jobs that state pay") leaves such postings out.
    """

    name: str = "min_salary_usd"

    def active(self, value: float | None) -> bool:
        return value is not None

    def parse(self, given: Given) -> float | None:
        least = given.get("min_salary")
        if least is not None and least < 0:
            raise SearchError("--min-salary must not be negative")
        return least

    def accepts(self, value: float, doc: PostingDoc) -> bool:
        best = best_annual_usd(doc.annual_min_usd, doc.annual_max_usd)
        # `not best < least`, not `best >= least`: a NaN on either side passes, as in SQL's view.
        return best is None or not best < value

    def sql(self, value: float, dialect: str) -> ColumnElement[bool]:
        best = _best_sql()
        return or_(best >= value, best.is_(None))

    def explain(self, value: float, doc: PostingDoc) -> str:
        best = best_annual_usd(doc.annual_min_usd, doc.annual_max_usd)
        return "salary not stated" if best is None else f"{money(best)} ≥ {money(value)}"


@dataclass(frozen=True)
class SalaryRequired(FilterDef):
    """Only postings that state a salary (`--salary-required`), with or without a minimum."""

    name: str = "salary_required"

    def parse(self, given: Given) -> bool:
        return bool(given.get("salary_required"))

    def accepts(self, value: bool, doc: PostingDoc) -> bool:
        return doc.annual_max_usd is not None or doc.annual_min_usd is not None

    def sql(self, value: bool, dialect: str) -> ColumnElement[bool]:
        return _best_sql().is_not(None)


@dataclass(frozen=True)
class Place(FilterDef):
    """A place, with an optional radius in miles (rules: `search.place`)."""

    name: str = "place"
    bits: ClassVar[str | None] = None  # the matcher decides and scores each distinct place

    def active(self, value: PlaceFilter | None) -> bool:
        return value is not None

    def parse(self, given: Given) -> PlaceFilter | None:
        location, within = given.get("location"), given.get("within")
        if within is not None and within <= 0:
            raise SearchError("--within must be a positive number of miles")
        if within is not None and not location:
            raise SearchError("--within needs --location")
        return resolve_place(location, within, given.geocode) if location else None

    def accepts(self, value: PlaceFilter, doc: PostingDoc) -> bool:
        return place_accepts(value, doc)

    def sql(self, value: PlaceFilter, dialect: str) -> ColumnElement[bool]:
        return place_sql(value, dialect)

    def index_keys(self, value: PlaceFilter) -> tuple[float, list[FilterKey]] | None:
        return place_index_keys(value)

    def doc_keys(self, doc: PostingDoc) -> Iterable[FilterKey]:
        return place_doc_keys(doc)

    def explain(self, value: PlaceFilter, doc: PostingDoc) -> str:
        return explain_place(value, doc)[1]


def resolve_place(
    location: str, within: float | None, geocode: Callable[[str], Any] | None = None
) -> PlaceFilter:
    """Resolve a place with the offline gazetteer; unknown places fall back to a text match."""
    if geocode is None:
        from pipeline.location import geocode as gazetteer  # builds its index on first use

        geocode = gazetteer
    found = geocode(location)
    if found is None:
        if within is not None:
            raise SearchError(f"--within needs a place andon knows; {location!r} is not one")
        return PlaceFilter(text=location)
    return PlaceFilter(
        text=location,
        city=found.city,
        region=found.region,
        country=found.country,
        latitude=found.latitude,
        longitude=found.longitude,
        within_miles=within,
    )


_SINCE_RE = re.compile(r"^\s*(\d+)\s*([hdwm])\s*$", re.IGNORECASE)


def parse_since(value: str | None, *, now: datetime | None = None) -> datetime | None:
    """'7d', '12h', '2w', '1m' (30 days) or an ISO date/datetime → a UTC datetime."""
    if value is None or value == "":
        return None
    now = now or utcnow()
    m = _SINCE_RE.match(value)
    if m:
        n, unit = int(m.group(1)), m.group(2).lower()
        hours = {"h": 1, "d": 24, "w": 24 * 7, "m": 24 * 30}[unit] * n
        return now - timedelta(hours=hours)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SearchError(
            f"--since {value!r} is neither a span like 7d, 12h, 2w nor an ISO date"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=now.tzinfo)
    return parsed


@dataclass(frozen=True)
class Since(FilterDef):
    """Listings only: posted (or first seen) at or after."""

    name: str = "since"
    listing_only: ClassVar[bool] = True
    bits: ClassVar[str | None] = None

    def active(self, value: datetime | None) -> bool:
        return value is not None

    def parse(self, given: Given) -> datetime | None:
        return parse_since(given.get("since"), now=given.now)

    def sql(self, value: datetime, dialect: str) -> ColumnElement[bool]:
        return Posting.listed_at >= value  # type: ignore[return-value]


@dataclass(frozen=True)
class OpenOnly(FilterDef):
    """Listings only: open postings unless `include_closed` (digests check status themselves)."""

    name: str = "include_closed"
    listing_only: ClassVar[bool] = True
    bits: ClassVar[str | None] = None

    def active(self, value: bool) -> bool:
        return not value

    def parse(self, given: Given) -> bool:
        return bool(given.get("include_closed"))

    def sql(self, value: bool, dialect: str) -> ColumnElement[bool]:
        return Posting.status == "open"  # type: ignore[return-value]
