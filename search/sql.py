"""The listing search: a query and filters compiled to SQL (full-text index + indexed columns).

One implementation serves `andon listings`, the web page and the JSON API. Nothing is loaded
whole into Python: the database filters, orders and pages; Python only shapes the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, column, func, literal_column, not_, or_, select, table, text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from pipeline.models import Posting, PostingSource
from search.definitions import DEFINITIONS, Filters, build_filters
from search.filter_kinds import SearchError, parse_since, resolve_place
from search.query import And, Node, Not, Or, Phrase, QueryError, Term, parse_query

# Callers import these from here: the listing search is what they use them for.
__all__ = [
    "PG_SEARCH_SETTINGS",
    "SearchError",
    "build_filters",
    "count_postings",
    "listings",
    "parse_since",
    "resolve_place",
    "search_postings",
    "where_clauses",
]


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
    dialect = _plan_with_values(session)
    stmt = select(Posting).where(*where_clauses(node, filters, dialect))
    stmt = stmt.order_by(Posting.listed_at.desc(), Posting.id.desc()).limit(limit).offset(offset)  # type: ignore[union-attr,attr-defined]
    return list(session.execute(stmt).scalars())


def count_postings(session: Session, query: str | Node | None, filters: Filters) -> int:
    node = _parse(query)
    dialect = _plan_with_values(session)
    stmt = select(func.count()).select_from(Posting).where(*where_clauses(node, filters, dialect))
    return int(session.execute(stmt).scalar_one())


# What `_plan_with_values` sets for a search's transaction on PostgreSQL (`bench scale` too).
PG_SEARCH_SETTINGS = [
    f"set_config('{name}', '{value}', true)"
    for name, value in (
        ("plan_cache_mode", "force_custom_plan"),
        ("work_mem", "64MB"),
        ("jit", "off"),
        ("seq_page_cost", "0.5"),
        ("random_page_cost", "0.55"),
    )
]


def _plan_with_values(session: Session) -> str:
    """The session's dialect; on PostgreSQL, this transaction's plans see the values searched.

    psycopg prepares a statement on its fifth run, and PostgreSQL then may switch to a generic
    plan, made without the values: `status = $1` cannot use the open postings' partial indexes
    nor `$1` a selectivity, and at a million postings a search took 5-14 s instead of 15 ms.
    A search that ANDs several indexes' bitmaps needs more than the default 4 MB of memory to
    keep them exact (else every row of a lossy page is checked again, its search vector read
    from TOAST); and compiling a plan (JIT) costs more than a page of results takes to find.
    The postings are read from memory, not disk: at the default random page cost (4, a disk's)
    the planner would rather scan a common word's whole full-text index or a seniority's
    hundreds of thousands of rows, to visit fewer pages, than read a few thousand more pages.
    Even at 1.1 (and 1 for a page in sequence) a page from memory weighs as much as ~100 rows'
    CPU work: halved, the combined search's value combinations of `bench scale` (a query, a
    place, pay, seniority, since) took 10-20% less SQL time in sum and 7-30% less at p95
    (five interleaved runs at 1M postings, load 4-8); the other shapes kept their plans.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # set_config(..., true) is SET LOCAL: until this transaction ends; one round trip
        session.execute(text(f"SELECT {', '.join(PG_SEARCH_SETTINGS)}"))
    return dialect


def _parse(query: str | Node | None) -> Node | None:
    if query is None or isinstance(query, str):
        try:
            return parse_query(query)
        except QueryError as exc:
            raise SearchError(exc.one_line()) from None
    return query


def where_clauses(node: Node | None, f: Filters, dialect: str) -> list[ColumnElement[bool]]:
    """The WHERE conditions for a query and filters on `dialect` ("sqlite" or "postgresql")."""
    clauses: list[ColumnElement[bool]] = []
    for d in DEFINITIONS:
        value = getattr(f, d.name)
        if d.active(value):
            clauses.append(d.sql(value, dialect))
    if node is not None:
        clauses.append(_compile(node, dialect))
    return clauses


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
            .order_by(col(PostingSource.first_seen_at), col(PostingSource.id))
        ).scalars()
        for s in rows:
            sources.setdefault(s.posting_id, []).append(
                {"source": s.source, "external_id": s.external_id, "url": s.url}
            )
    return [listing(p, sources.get(p.id or 0, [])) for p in postings]


def salary_of(
    low: float | None,
    high: float | None,
    currency: str | None,
    period: str | None,
    annual_min_usd: float | None,
    annual_max_usd: float | None,
) -> dict[str, Any] | None:
    """A listing's `salary` object (DESIGN.md), or None when no amount was stated."""
    if low is None and high is None:
        return None
    return {
        "min": _num(low),
        "max": _num(high),
        "currency": currency,
        "period": period,
        "annual_min_usd": _num(annual_min_usd),
        "annual_max_usd": _num(annual_max_usd),
    }


def listing(p: Posting, sources: list[dict[str, Any]]) -> dict[str, Any]:
    salary = salary_of(
        p.salary_min, p.salary_max, p.salary_currency, p.salary_period,
        p.annual_min_usd, p.annual_max_usd,
    )  # fmt: skip
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
        "facts": dict(p.facts or {}),
        "description": p.description_text,
        "posted_at": _iso(p.posted_at),
        "posted_or_earlier": bool(p.posted_or_earlier),
        "valid_through": _iso(p.valid_through),
        "first_seen_at": _iso(p.first_seen_at),
        "last_seen_at": _iso(p.last_seen_at),
        "status": p.status,
    }


def _num(v: float | None) -> int | float | None:
    if v is None:
        return None
    return int(v) if float(v).is_integer() else round(v, 2)
