"""Stored listings: the /jobs pages, the JSON API (the listing contract) and Atom feeds of searches."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from markupsafe import Markup
from pydantic import BaseModel, Field
from starlette.responses import Response

from alerts.formatting import safe_url
from alerts.models import SavedSearch
from alerts.subscriptions import describe, filters_of
from alerts.tokens import BadToken, read_token
from db import session_scope, utcnow
from pipeline.facts import SHIFT_LABELS, STANDARD_LABELS
from pipeline.models import Posting
from pipeline.sanitize import clean_html, strip_controls
from search.filters import EMPLOYMENT_TYPES, SENIORITIES, WORKPLACES
from search.query import QueryError, parse_query
from search.sql import SearchError, count_postings, listings, search_postings
from web.forms import (
    INDUSTRIES,
    MAX_LOCATION,
    MAX_OFFSET,
    MAX_QUERY,
    SKILLS,
    listing_filters,
    place_error,
    read_listing_params,
    since_problem,
)
from web.listing_view import alerts_url, apply_link, miles_away
from web.pages import PageError, page, state

router = APIRouter()
PAGE_SIZE = 25
MAX_ID = 2**31 - 1  # posting ids are 32-bit integers on PostgreSQL
FEED_DAYS = 30
FEED_ENTRIES = 50
# the /jobs parameters that are filters (the rest: q, limit, offset)
FILTER_KEYS = (
    "location", "within", "workplace", "min_salary", "seniority", "industry", "skill",
    "employment_type", "since", "include_closed", "salary_required", "shift", "min_team",
    "standard",
)  # fmt: skip


# --- the listing contract, for the OpenAPI document ---------------------------------------------


class ListingSource(BaseModel):
    source: str = Field(examples=["acme-greenhouse"])
    external_id: str = Field(examples=["greenhouse:acme:4012"])
    url: str | None = Field(examples=["https://boards.greenhouse.io/acme/jobs/4012"])


class ListingLocation(BaseModel):
    text: str | None = Field(examples=["Dearborn, MI"])
    city: str | None = Field(examples=["Dearborn"])
    region: str | None = Field(description="ISO 3166-2", examples=["US-MI"])
    country: str | None = Field(description="ISO 3166-1 alpha-2", examples=["US"])


class ListingSalary(BaseModel):
    min: int | float | None = Field(examples=[95000])
    max: int | float | None = Field(examples=[120000])
    currency: str | None = Field(examples=["USD"])
    period: str | None = Field(description="hour | day | week | month | year", examples=["year"])
    annual_min_usd: int | float | None = Field(examples=[95000])
    annual_max_usd: int | float | None = Field(examples=[120000])


class Listing(BaseModel):
    """One stored posting, exactly as `andon listings --format json` prints it."""

    id: int = Field(examples=[17])
    title: str = Field(examples=["Production Manager"])
    company: str = Field(examples=["Acme Foods"])
    url: str | None
    apply_url: str | None
    sources: list[ListingSource]
    location: ListingLocation
    workplace: str | None = Field(description="onsite | hybrid | remote", examples=["onsite"])
    employment_type: str | None = Field(
        description="full_time | part_time | contract | temporary | internship",
        examples=["full_time"],
    )
    salary: ListingSalary | None
    seniority: str | None = Field(
        description="supervisor | assistant | manager | senior | director | executive",
        examples=["manager"],
    )
    industries: list[str] = Field(examples=[["food_beverage"]])
    skills: list[str] = Field(examples=[["lean", "haccp", "sap"]])
    facts: dict[str, Any] = Field(
        description="Plant facts read from the description, each with the quote that proves it "
        "(README: the listing contract)",
        examples=[{"shifts": [{"value": "3rd", "quote": "Supervise the night shift"}],
                   "team_size": {"value": 27, "quote": "3 shift supervisors and 24 associates"}}],
    )  # fmt: skip
    description: str
    posted_at: str | None = Field(
        description="UTC, ISO 8601 with Z", examples=["2026-11-20T00:00:00Z"]
    )
    valid_through: str | None
    first_seen_at: str
    last_seen_at: str
    status: str = Field(description="open | closed", examples=["open"])


class ApiError(BaseModel):
    detail: str = Field(examples=["unknown workplace 'moon': choose from onsite, hybrid, remote"])


# --- the JSON API -----------------------------------------------------------------------------

Multi = Annotated[list[str], Query()]


@router.get(
    "/api/jobs",
    tags=["listings"],
    summary="Search stored listings, newest first",
    response_model=None,
    responses={
        200: {"model": list[Listing], "description": "One page of the listing contract"},
        400: {"model": ApiError, "description": "A filter value or the query is wrong"},
        422: {
            "model": ApiError,
            "description": "A parameter has the wrong type, or the location is a place andon "
            "does not know (the message suggests places it does)",
        },
    },
)
def api_jobs(
    request: Request,
    q: Annotated[
        str | None,
        Query(
            max_length=MAX_QUERY,
            description='Keywords: words, "phrases", OR, -word, title:, company: (≤ 500 characters)',
        ),
    ] = None,
    location: Annotated[
        str | None,
        Query(max_length=MAX_LOCATION, description="A city, 'City, ST', a state or a country"),
    ] = None,
    within: Annotated[
        float | None,
        Query(ge=0, le=25_000, allow_inf_nan=False, description="Miles around location"),
    ] = None,
    workplace: Annotated[list[str], Query(description="onsite, hybrid, remote (repeat)")] = [],  # noqa: B006
    min_salary: Annotated[
        float | None,
        Query(ge=0, le=1e9, allow_inf_nan=False, description="Minimum annual salary in USD"),
    ] = None,
    seniority: Annotated[list[str], Query(description="supervisor … executive (repeat)")] = [],  # noqa: B006
    industry: Annotated[list[str], Query(description="e.g. food_beverage (repeat)")] = [],  # noqa: B006
    skill: Annotated[list[str], Query(description="e.g. lean, haccp (repeat)")] = [],  # noqa: B006
    employment_type: Annotated[list[str], Query(description="full_time, contract … (repeat)")] = [],  # noqa: B006
    shift: Annotated[
        list[str], Query(description="1st, 2nd, 3rd, rotating, 12_hour, weekends, on_call (repeat)")
    ] = [],  # noqa: B006
    min_team: Annotated[
        int | None, Query(ge=1, le=100_000, description="Leads at least this many people")
    ] = None,
    standard: Annotated[list[str], Query(description="e.g. gmp, haccp, iso_9001 (repeat)")] = [],  # noqa: B006
    since: Annotated[
        str | None,
        Query(
            max_length=40, description="Posted within: 7d, 12h, 2w (≤ 100 years), or an ISO date"
        ),
    ] = None,
    include_closed: Annotated[bool, Query(description="Also closed postings")] = False,
    # limit and a negative offset are checked by the search itself (a 400 with its message)
    limit: Annotated[int, Query(le=2**31, description="How many (1-1000)")] = 50,
    offset: Annotated[int, Query(le=MAX_OFFSET, description="Skip this many (paging)")] = 0,
) -> Response:
    """The same search as `andon listings`, answering the listing contract of DESIGN.md."""
    web = state(request)
    q, location, since = (strip_controls(v) if v else v for v in (q, location, since))
    workplace, seniority, industry, skill, employment_type, shift, standard = (
        _cleaned(v)
        for v in (workplace, seniority, industry, skill, employment_type, shift, standard)
    )
    for problem, status in ((since_problem(since), 400), (place_error(location), 422)):
        if problem:
            return JSONResponse({"detail": problem}, status_code=status)
    try:
        filters = listing_filters(
            location=location, within=within, workplace=workplace, min_salary=min_salary,
            seniority=seniority, industry=industry, skill=skill,
            employment_type=employment_type, since=since, include_closed=include_closed,
            shift=shift, min_team=min_team, standard=standard,
        )  # fmt: skip
        with session_scope(web.engine) as session:
            rows = listings(
                session, search_postings(session, q, filters, limit=limit, offset=offset)
            )
    except (SearchError, QueryError) as exc:
        message = exc.one_line() if isinstance(exc, QueryError) else str(exc)
        return JSONResponse({"detail": _plain(message)}, status_code=400)
    return JSONResponse(rows)


@router.get(
    "/api/jobs/{posting_id}",
    tags=["listings"],
    summary="One stored listing",
    response_model=None,
    responses={
        200: {"model": Listing, "description": "The listing contract"},
        404: {"model": ApiError, "description": "No posting with this id"},
    },
)
def api_job(request: Request, posting_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Response:
    with session_scope(state(request).engine) as session:
        posting = session.get(Posting, posting_id)
        if posting is None:
            return JSONResponse({"detail": f"no posting {posting_id}"}, status_code=404)
        return JSONResponse(listings(session, [posting])[0])


def _cleaned(values: list[str]) -> list[str]:
    # PostgreSQL refuses NUL even inside a JSON parameter; no control character means anything
    return [c for v in values[:30] if (c := strip_controls(v).strip()[:100])]


def _plain(message: str) -> str:
    # The search's messages name CLI options; the API's parameters are spelled without dashes.
    return re.sub(r"--([a-z-]+)", lambda m: m.group(1).replace("-", "_"), message)


# --- the pages --------------------------------------------------------------------------------


@router.get("/jobs", include_in_schema=False)
def jobs_page(request: Request) -> Response:
    params, errors = read_listing_params(request.query_params)
    limit, offset = params["limit"], params["offset"]
    if params["q"] and "q" not in errors:
        try:
            parse_query(params["q"])
        except QueryError as exc:
            errors["q"] = exc.one_line()
    rows: list[dict[str, Any]] = []
    total, has_next = 0, False
    if not errors:
        try:
            rows, total, has_next = _search_page(request, params)
        except SearchError as exc:
            errors["form"] = _plain(str(exc))
    base = _query_without_paging(request)
    prev_url = (
        f"/jobs?{urlencode([*base, ('offset', str(max(offset - limit, 0)))])}"
        if offset > 0
        else None
    )
    next_url = f"/jobs?{urlencode([*base, ('offset', str(offset + limit))])}" if has_next else None
    # An offset past the last job: say so, and link to the first page (not "22 jobs" over nothing).
    past_end = not errors and offset > 0 and total > 0 and not rows
    return page(
        request, "jobs.html", status=400 if errors else 200, params=params, errors=errors,
        rows=rows, total=total, offset=offset, limit=limit, prev_url=prev_url, next_url=next_url,
        past_end=past_end, place_links=_place_links(request, params, errors), first_url=f"/jobs?{urlencode(base)}" if base else "/jobs",
        alerts_url=alerts_url(params), within_text=_number_text(params["within"]),
        workplaces=WORKPLACES, seniorities=SENIORITIES, industries=INDUSTRIES, skills=SKILLS,
        employment_types=EMPLOYMENT_TYPES, shifts=SHIFT_LABELS, standards=STANDARD_LABELS,
    )  # fmt: skip


def _search_page(
    request: Request, params: dict[str, Any]
) -> tuple[list[dict[str, Any]], int, bool]:
    """One page of rows (listing, attribution, apply link, distance), the total, and more?"""
    limit, offset = params["limit"], params["offset"]
    filters = listing_filters(**{k: params[k] for k in FILTER_KEYS})
    with session_scope(state(request).engine) as session:
        found = search_postings(session, params["q"], filters, limit=limit + 1, offset=offset)
        has_next = len(found) > limit
        found = found[:limit]
        total = count_postings(session, params["q"], filters)
        rows = [
            {
                "listing": item,
                "attribution": p.attribution,
                "apply": apply_link(item),
                "miles": miles_away(filters.place, p),
            }
            for p, item in zip(found, listings(session, found), strict=True)
        ]
    return rows, total, has_next


def _place_links(
    request: Request, params: dict[str, Any], errors: dict[str, str]
) -> list[dict[str, str]]:
    """The same search at each place `suggest_places` offers for a location it cannot place."""
    if "location" not in errors or not params["location"]:
        return []
    from search.suggest import suggest_places

    keep = [(k, v) for k, v in _query_without_paging(request) if k != "location"]
    return [
        {"name": name, "url": f"/jobs?{urlencode([*keep, ('location', name)])}"}
        for name in suggest_places(params["location"])
    ]


def _number_text(value: float | None) -> str:
    # 100.0 reads back as "100", 12.5 as "12.5".
    return "" if value is None else f"{value:g}"


def _query_without_paging(request: Request) -> list[tuple[str, str]]:
    return [(k, v) for k, v in request.query_params.multi_items() if k != "offset" and v != ""]


@router.get("/jobs/{posting_id}", include_in_schema=False)
def job_page(request: Request, posting_id: int) -> Response:
    web = state(request)
    if not 1 <= posting_id <= MAX_ID:
        raise PageError(404, "No such job", "This job is not (or no longer) in andon.")
    with session_scope(web.engine) as session:
        posting = session.get(Posting, posting_id)
        if posting is None:
            raise PageError(404, "No such job", "This job is not (or no longer) in andon.")
        item = listings(session, [posting])[0]
        attribution = posting.attribution
        apply = apply_link(item)
        # description_html was sanitized with nh3 when the pipeline stored it (pipeline.sanitize),
        # which is the only reason it may be marked safe here. It is cleaned once more on the way
        # out (idempotent, microseconds) so a row written by any other path is just as safe.
        description = Markup(clean_html(posting.description_html))  # noqa: S704
    return page(
        request, "job.html", item=item, attribution=attribution, description=description,
        apply=apply,
    )  # fmt: skip


# --- Atom feeds of saved searches ---------------------------------------------------------------

ATOM = "http://www.w3.org/2005/Atom"
# Characters XML 1.0 forbids even escaped; scraped text can hold them and ElementTree writes
# them as they are, which would make the whole feed unparseable.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _x(value: Any) -> str:
    return _XML_INVALID.sub("", str(value or ""))


@router.get("/feeds/{token}.xml", include_in_schema=False)
def feed(request: Request, token: str) -> Response:
    web = state(request)
    try:
        value = read_token(web.secret, "feed", token)
    except BadToken as exc:
        raise PageError(
            400,
            "This feed link is not valid",
            f"The feed link is {exc.reason}; copy it again from your manage page.",
        ) from None
    now = utcnow()
    with session_scope(web.engine) as session:
        saved = session.get(SavedSearch, value) if isinstance(value, int) else None
        if saved is None:
            raise PageError(404, "No such search", "This saved search does not exist any more.")
        filters = replace(filters_of(saved), since=now - timedelta(days=FEED_DAYS))
        found = search_postings(session, saved.query, filters, limit=FEED_ENTRIES)
        items = listings(session, found)
        title = f"andon: {saved.name}"
        subtitle = describe(saved)
    base = web.settings.base_url
    host = urlsplit(base).hostname or "andon"
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(root, f"{{{ATOM}}}id").text = f"tag:{host},2026:search/{saved.id}"
    ET.SubElement(root, f"{{{ATOM}}}title").text = _x(title)
    ET.SubElement(root, f"{{{ATOM}}}subtitle").text = _x(subtitle)
    ET.SubElement(root, f"{{{ATOM}}}link", rel="self", href=f"{base}/feeds/{token}.xml")
    ET.SubElement(root, f"{{{ATOM}}}link", rel="alternate", href=f"{base}/jobs")
    newest = max((i["last_seen_at"] for i in items), default=now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    ET.SubElement(root, f"{{{ATOM}}}updated").text = newest
    author = ET.SubElement(root, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = "andon"
    for item in items:
        entry = ET.SubElement(root, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = f"tag:{host},2026:posting/{item['id']}"
        ET.SubElement(entry, f"{{{ATOM}}}title").text = _x(f"{item['title']} — {item['company']}")
        link = safe_url(item["url"] or item["apply_url"])
        href = link if link != "#" else f"{base}/jobs/{item['id']}"
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=_x(href))
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = item["last_seen_at"]
        if item["posted_at"]:
            ET.SubElement(entry, f"{{{ATOM}}}published").text = item["posted_at"]
        who = ET.SubElement(entry, f"{{{ATOM}}}author")
        ET.SubElement(who, f"{{{ATOM}}}name").text = _x(item["company"])
        where = item["location"]["text"] or ""
        summary = " · ".join(x for x in (where, item["workplace"] or "") if x)
        text = item["description"] or ""
        summary = (summary + "\n\n" if summary else "") + (
            text[:600] + ("…" if len(text) > 600 else "")
        )
        ET.SubElement(entry, f"{{{ATOM}}}summary", type="text").text = _x(summary)
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return Response(body, media_type="application/atom+xml; charset=utf-8")
