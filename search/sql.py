"""The listing search: a query and filters compiled to SQL (full-text index + indexed columns).

One implementation serves `andon listings`, the web page and the JSON API. Nothing is loaded
whole into Python: the database filters, orders and pages; Python only shapes the page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, column, func, literal, literal_column, not_, or_, select, table, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from db import utcnow
from pipeline.models import Posting, PostingSource
from search.filters import (
    EARTH_RADIUS_MILES,
    EMPLOYMENT_TYPES,
    SENIORITIES,
    WORKPLACES,
    Filters,
    PlaceFilter,
    bounding_box,
)
from search.query import And, Node, Not, Or, Phrase, Term, parse_query


class SearchError(ValueError):
    """A search a user asked for that cannot run (bad value, bad query); one line."""


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


def _check(values: Sequence[str], allowed: Sequence[str], what: str) -> frozenset[str]:
    out = set()
    for v in values:
        norm = v.strip().lower().replace("-", "_").replace(" ", "_")
        if what == "workplace":
            norm = {"on_site": "onsite", "in_office": "onsite"}.get(norm, norm)
        if norm not in allowed:
            raise SearchError(f"unknown {what} {v!r}: choose from {', '.join(allowed)}")
        out.add(norm)
    return frozenset(out)


def build_filters(
    *,
    location: str | None = None,
    within: float | None = None,
    workplaces: Sequence[str] = (),
    min_salary: float | None = None,
    salary_required: bool = True,
    seniorities: Sequence[str] = (),
    industries: Sequence[str] = (),
    skills: Sequence[str] = (),
    employment_types: Sequence[str] = (),
    exclude_companies: Sequence[str] = (),
    since: str | None = None,
    include_closed: bool = False,
    geocode: Callable[[str], Any] | None = None,
    now: datetime | None = None,
) -> Filters:
    """Validate user-given filter values into `Filters`; `SearchError` with one line if bad."""
    if within is not None and within <= 0:
        raise SearchError("--within must be a positive number of miles")
    if within is not None and not location:
        raise SearchError("--within needs --location")
    if min_salary is not None and min_salary < 0:
        raise SearchError("--min-salary must not be negative")
    place = None
    if location:
        place = resolve_place(location, within, geocode)
    return Filters(
        place=place,
        workplaces=_check(workplaces, WORKPLACES, "workplace"),
        min_salary_usd=min_salary,
        salary_required=salary_required,
        seniorities=_check(seniorities, SENIORITIES, "seniority"),
        industries=frozenset(
            i.strip().lower().replace(" ", "_").replace("&", "") for i in industries
        ),
        skills=frozenset(s.strip().lower().replace(" ", "_") for s in skills),
        employment_types=_check(employment_types, EMPLOYMENT_TYPES, "employment type"),
        exclude_companies=frozenset(c.strip().casefold() for c in exclude_companies if c.strip()),
        since=parse_since(since, now=now),
        include_closed=include_closed,
    )


def resolve_place(
    location: str, within: float | None, geocode: Callable[[str], Any] | None = None
) -> PlaceFilter:
    """Resolve a place with the offline gazetteer; unknown places fall back to a text match."""
    if geocode is None:
        from pipeline.location import geocode  # builds its index on first use: import late
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


def search_postings(
    session: Session,
    query: str | Node | None,
    filters: Filters,
    *,
    limit: int = 50,
    offset: int = 0,
) -> list[Posting]:
    """Postings matching query and filters, newest first, one page."""
    if limit < 1 or limit > 1000:
        raise SearchError("--limit must be between 1 and 1000")
    if offset < 0:
        raise SearchError("--offset must not be negative")
    node = _parse(query)
    dialect = session.get_bind().dialect.name
    stmt = select(Posting).where(*where_clauses(node, filters, dialect))
    stmt = stmt.order_by(Posting.listed_at.desc(), Posting.id.desc()).limit(limit).offset(offset)  # type: ignore[union-attr,attr-defined]
    return list(session.execute(stmt).scalars())


def count_postings(session: Session, query: str | Node | None, filters: Filters) -> int:
    node = _parse(query)
    dialect = session.get_bind().dialect.name
    stmt = select(func.count()).select_from(Posting).where(*where_clauses(node, filters, dialect))
    return int(session.execute(stmt).scalar_one())


def _parse(query: str | Node | None) -> Node | None:
    if query is None or isinstance(query, str):
        from search.query import QueryError

        try:
            return parse_query(query)
        except QueryError as exc:
            raise SearchError(exc.one_line()) from None
    return query


def where_clauses(node: Node | None, f: Filters, dialect: str) -> list[ColumnElement[bool]]:
    """The WHERE conditions for a query and filters on `dialect` ("sqlite" or "postgresql")."""
    clauses: list[ColumnElement[bool]] = []
    if not f.include_closed:
        clauses.append(Posting.status == "open")
    if f.since is not None:
        clauses.append(Posting.listed_at >= f.since)  # type: ignore[arg-type,operator]
    if node is not None:
        clauses.append(_compile(node, dialect))
    if f.workplaces:
        clauses.append(Posting.workplace.in_(sorted(f.workplaces)))  # type: ignore[union-attr]
    if f.seniorities:
        clauses.append(Posting.seniority.in_(sorted(f.seniorities)))  # type: ignore[union-attr]
    if f.employment_types:
        clauses.append(Posting.employment_type.in_(sorted(f.employment_types)))  # type: ignore[union-attr]
    if f.industries:
        clauses.append(_json_any("industries", f.industries, dialect))
    if f.skills:
        clauses.append(_json_any("skills", f.skills, dialect))
    if f.exclude_companies:
        clauses.append(not_(func.lower(Posting.company).in_(sorted(f.exclude_companies))))
    if f.min_salary_usd is not None:
        best = func.coalesce(Posting.annual_max_usd, Posting.annual_min_usd)
        cond = best >= f.min_salary_usd
        if not f.salary_required:
            cond = or_(cond, best.is_(None))
        clauses.append(cond)
    if f.place is not None:
        clauses.append(_place(f.place, dialect))
    return clauses


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


def _compile(node: Node, dialect: str) -> ColumnElement[bool]:
    match node:
        case And(items):
            return and_(*[_compile(n, dialect) for n in items])
        case Or(items):
            return or_(*[_compile(n, dialect) for n in items])
        case Not(item):
            return not_(_compile(item, dialect))
        case Term() | Phrase():
            return _leaf(node, dialect)
    raise TypeError(node)


_PG_WEIGHT = {"title": ":A", "company": ":B", None: ""}


def _leaf(node: Term | Phrase, dialect: str) -> ColumnElement[bool]:
    words = (node.word,) if isinstance(node, Term) else node.words
    if dialect == "postgresql":
        weight = _PG_WEIGHT[node.field]
        # words are letters and digits only (tokenize), so quoting them is enough
        tsquery = " <-> ".join(f"'{w}'{weight}" for w in words)
        return literal_column("postings.search_vector").op("@@")(
            func.to_tsquery(literal_column("'simple'"), tsquery)
        )
    phrase = '"' + " ".join(words) + '"'
    match = f"{node.field} : {phrase}" if node.field else phrase
    fts = table("posting_fts", column("rowid"))
    hits = select(fts.c.rowid).where(literal_column("posting_fts").op("MATCH")(match))
    return Posting.id.in_(hits)  # type: ignore[union-attr]


def _place(place: PlaceFilter, dialect: str) -> ColumnElement[bool]:
    remote = and_(
        Posting.workplace == "remote",
        or_(Posting.country.is_(None), Posting.country == place.country)  # type: ignore[union-attr]
        if place.country is not None
        else true(),
    )
    city_rule: ColumnElement[bool]
    if place.city is not None:
        city_rule = and_(
            func.lower(Posting.city) == place.city.casefold(),
            or_(Posting.region.is_(None), Posting.region == place.region)
            if place.region
            else true(),  # type: ignore[union-attr]
            or_(Posting.country.is_(None), Posting.country == place.country)
            if place.country
            else true(),  # type: ignore[union-attr]
        )
    elif place.region is not None:
        city_rule = Posting.region == place.region  # type: ignore[assignment]
    elif place.country is not None:
        city_rule = Posting.country == place.country  # type: ignore[assignment]
    else:
        city_rule = func.lower(Posting.location_text).contains(place.text.casefold())
    local = city_rule
    if (
        place.within_miles is not None
        and place.latitude is not None
        and place.longitude is not None
    ):
        lo_lat, hi_lat, lo_lon, hi_lon = bounding_box(
            place.latitude, place.longitude, place.within_miles
        )
        has_coords = and_(Posting.latitude.is_not(None), Posting.longitude.is_not(None))  # type: ignore[union-attr]
        near = and_(
            has_coords,
            Posting.latitude.between(lo_lat, hi_lat),  # type: ignore[union-attr]
            Posting.longitude.between(lo_lon, hi_lon),  # type: ignore[union-attr]
            _miles(place.latitude, place.longitude, dialect) <= place.within_miles,
        )
        local = or_(near, and_(not_(has_coords), city_rule))
    not_remote = or_(Posting.workplace.is_(None), Posting.workplace != "remote")  # type: ignore[union-attr]
    return or_(remote, and_(not_remote, local))


def _miles(lat: float, lon: float, dialect: str) -> Any:
    if dialect == "sqlite":
        return func.andon_miles(lat, lon, Posting.latitude, Posting.longitude)
    rad = func.radians
    dlat = rad(Posting.latitude - lat)
    dlon = rad(Posting.longitude - lon)
    a = func.power(func.sin(dlat / 2), 2) + func.cos(rad(literal(lat))) * func.cos(
        rad(Posting.latitude)
    ) * func.power(func.sin(dlon / 2), 2)
    return 2 * EARTH_RADIUS_MILES * func.asin(func.least(1.0, func.sqrt(a)))


def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def listings(session: Session, postings: Sequence[Posting]) -> list[dict[str, Any]]:
    """Shape postings as the listing contract of DESIGN.md (sources loaded in one query)."""
    ids = [p.id for p in postings]
    sources: dict[int, list[dict[str, Any]]] = {}
    if ids:
        rows = session.execute(
            select(PostingSource)
            .where(PostingSource.posting_id.in_(ids))  # type: ignore[attr-defined]
            .order_by(PostingSource.first_seen_at, PostingSource.id)
        ).scalars()
        for s in rows:
            sources.setdefault(s.posting_id, []).append(
                {"source": s.source, "external_id": s.external_id, "url": s.url}
            )
    return [listing(p, sources.get(p.id or 0, [])) for p in postings]


def listing(p: Posting, sources: list[dict[str, Any]]) -> dict[str, Any]:
    salary = None
    if p.salary_min is not None or p.salary_max is not None:
        salary = {
            "min": _num(p.salary_min),
            "max": _num(p.salary_max),
            "currency": p.salary_currency,
            "period": p.salary_period,
            "annual_min_usd": _num(p.annual_min_usd),
            "annual_max_usd": _num(p.annual_max_usd),
        }
    return {
        "id": p.id,
        "title": p.title,
        "company": p.company,
        "url": p.url,
        "apply_url": p.apply_url,
        "sources": sources,
        "location": {
            "text": p.location_text,
            "city": p.city,
            "region": p.region,
            "country": p.country,
        },
        "workplace": p.workplace,
        "employment_type": p.employment_type,
        "salary": salary,
        "seniority": p.seniority,
        "industries": list(p.industries or []),
        "skills": list(p.skills or []),
        "description": p.description_text,
        "posted_at": _iso(p.posted_at),
        "valid_through": _iso(p.valid_through),
        "first_seen_at": _iso(p.first_seen_at),
        "last_seen_at": _iso(p.last_seen_at),
        "status": p.status,
    }


def _num(v: float | None) -> int | float | None:
    if v is None:
        return None
    return int(v) if float(v).is_integer() else round(v, 2)
