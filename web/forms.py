"""Read the web forms into `SearchInput` and listing filters, with one message per bad field.

The service functions (`alerts.subscriptions`, `search.sql`) validate everything again and
raise one line for the first problem; here each field is checked on its own first so the page
can show every message next to the field it belongs to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from alerts import cadence as cad
from alerts.models import SavedSearch
from alerts.subscriptions import SearchInput, SubscriptionError, normalize_email
from pipeline.enrich import INDUSTRY_KEYWORDS, SKILL_PATTERNS
from pipeline.sanitize import strip_controls
from search.filters import EMPLOYMENT_TYPES, SENIORITIES, WORKPLACES, Filters
from search.query import QueryError, parse_query
from search.sql import SearchError, build_filters
from web import fact_fields
from web.formvalues import FormLike, checked, number, text, values

INDUSTRIES = tuple(INDUSTRY_KEYWORDS)
SKILLS = tuple(SKILL_PATTERNS)
DEFAULT_TIMEZONE = "UTC"  # when the browser runs no script to tell us its own
DEFAULT_HOUR = 8
COMMON_TIMEZONES = (
    "UTC", "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
    "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "America/Toronto",
    "America/Mexico_City", "America/Sao_Paulo", "Europe/London", "Europe/Dublin",
    "Europe/Berlin", "Europe/Paris", "Europe/Warsaw", "Asia/Kolkata", "Asia/Singapore",
    "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney",
)  # fmt: skip
LABELS = {
    "onsite": "On-site", "hybrid": "Hybrid", "remote": "Remote",
    "supervisor": "Supervisor", "assistant": "Assistant manager", "manager": "Manager",
    "senior": "Senior manager", "director": "Director", "executive": "VP / executive",
    "full_time": "Full time", "part_time": "Part time", "contract": "Contract",
    "temporary": "Temporary", "internship": "Internship",
    "food_beverage": "Food & beverage", "medical_devices": "Medical devices",
}  # fmt: skip


# Skills are mostly acronyms (HACCP, OEE); the rest read as words.
LABELS.update(
    {s: s.replace("_", " ").upper() for s in SKILLS}
    | {
        "lean": "Lean", "kaizen": "Kaizen", "six_sigma": "Six Sigma", "5s": "5S",
        "value_stream_mapping": "Value stream mapping", "oracle": "Oracle",
        "dynamics": "Dynamics", "power_bi": "Power BI", "tableau": "Tableau",
        "iatf_16949": "IATF 16949", "iso_9001": "ISO 9001", "as9100": "AS9100",
    }
)  # fmt: skip


MAX_QUERY = 500
MAX_PAGE = 100  # jobs on one /jobs page
MAX_OFFSET = 1_000_000
MAX_NAME = 120
MAX_LOCATION = 120
MAX_EMAIL = 254
# What each length-capped field is called in the message that refuses an over-long value.
_LIMITS = {
    "query": ("keywords", MAX_QUERY),
    "q": ("keywords", MAX_QUERY),
    "name": ("the name", MAX_NAME),
    "location": ("the location", MAX_LOCATION),
    "email": ("the email address", MAX_EMAIL),
}


def bounded(form: FormLike, key: str, errors: dict[str, str]) -> str:
    """A capped text field; an over-long value is refused with the limit named, never cut."""
    what, limit = _LIMITS[key]
    value = form.get(key)
    full = strip_controls(value).strip() if isinstance(value, str) else ""
    if len(full) > limit:
        errors[key] = f"{what} can be at most {limit} characters; this has {len(full)}"
        return full[:limit]  # only to refill the form; the error stops it being used
    return full


def place_error(location: str | None) -> str | None:
    """Why the gazetteer cannot place `location` ("did you mean …?"), or None."""
    if not location or not location.strip():
        return None
    from search.suggest import place_problem  # its index is built on first use

    problem = place_problem(location)
    return problem.message if problem else None


# `since` spans further back than this are refused (a timedelta of 99999999 days overflows).
MAX_SINCE_HOURS = 24 * 366 * 100
_SPAN = re.compile(r"^\s*(\d{1,12})\s*([hdwm])\s*$", re.IGNORECASE)
_SPAN_HOURS = {"h": 1, "d": 24, "w": 24 * 7, "m": 24 * 30}


def since_problem(value: str | None) -> str | None:
    """Why a `since` value cannot be searched (a span over 100 years), or None."""
    m = _SPAN.match(value or "")
    if m and int(m.group(1)) * _SPAN_HOURS[m.group(2).lower()] > MAX_SINCE_HOURS:
        return f"since {value!r} reaches back too far: at most 100 years (e.g. 7d, 12h, 2w)"
    return None


@dataclass
class SearchForm:
    """A saved-search form as submitted: the raw values (to refill the form) and the errors."""

    raw: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    search: SearchInput | None = None


def blank_form(timezone: str = DEFAULT_TIMEZONE) -> dict[str, Any]:
    return {
        "email": "", "name": "", "query": "", "location": "", "within": "", "min_salary": "",
        "salary_required": False,
        "workplace": [], "seniority": [], "industry": [], "skill": [], "employment_type": [],
        "cadence": "daily",
        "hour": str(DEFAULT_HOUR), "weekday": "mon", "timezone": timezone,
    } | fact_fields.blank()  # fmt: skip


def prefill(params: FormLike, timezone: str = DEFAULT_TIMEZONE) -> dict[str, Any]:
    """A blank form with the filters a link carries (/jobs' "Get alerts"), unvalidated."""
    form = blank_form(timezone)
    for key in ("query", "location", "within", "min_salary", "name"):
        form[key] = text(params, key, _LIMITS.get(key, ("", 40))[1])
    for key in ("workplace", "seniority", "industry", "skill", "employment_type"):
        form[key] = values(params, key)
    form["salary_required"] = checked(params, "salary_required")
    return form | fact_fields.prefill(params)


def form_of(saved: SavedSearch) -> dict[str, Any]:
    """A stored search as form values, to prefill its edit form."""
    return {
        "name": saved.name,
        "query": saved.query,
        "location": saved.location or "",
        "within": f"{saved.within_miles:g}" if saved.within_miles else "",
        "min_salary": f"{saved.min_salary_usd:.0f}" if saved.min_salary_usd else "",
        "salary_required": saved.salary_required,
        "workplace": list(saved.workplaces),
        "seniority": list(saved.seniorities),
        "industry": list(saved.industries),
        "cadence": saved.cadence,
        "hour": str(saved.send_hour),
        "weekday": cad.WEEKDAYS[saved.weekday],
        "timezone": saved.timezone,
    } | fact_fields.of_saved(saved)


def input_of(saved: SavedSearch, **changes: Any) -> SearchInput:
    """A stored search as `SearchInput` (to change only its schedule, say)."""
    base = SearchInput(
        name=saved.name, query=saved.query, location=saved.location, within=saved.within_miles,
        workplaces=saved.workplaces, min_salary=saved.min_salary_usd,
        salary_required=saved.salary_required, seniorities=saved.seniorities,
        industries=saved.industries, skills=saved.skills,
        employment_types=saved.employment_types, exclude_companies=saved.exclude_companies,
        shifts=saved.shifts, min_team=saved.min_team, standards=saved.standards, cadence=saved.cadence, hour=saved.send_hour, weekday=saved.weekday,
        timezone=saved.timezone,
    )  # fmt: skip
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def _choices(
    form: FormLike, key: str, allowed: Sequence[str], errors: dict[str, str], what: str
) -> list[str]:
    chosen = values(form, key)
    unknown = [v for v in chosen if v not in allowed]
    if unknown:
        errors[key] = f"unknown {what} {unknown[0]!r}"
    return [v for v in chosen if v in allowed]


def schedule_fields(form: FormLike, errors: dict[str, str]) -> dict[str, Any]:
    """Cadence, hour, weekday and timezone, each checked on its own."""
    cadence = text(form, "cadence") or "daily"
    if cadence not in cad.CADENCES:
        errors["cadence"] = "choose daily or weekly"
    hour_raw = text(form, "hour") or str(DEFAULT_HOUR)
    hour = DEFAULT_HOUR
    try:
        hour = int(hour_raw)
        if not 0 <= hour <= 23:
            raise ValueError(hour)
    except ValueError:
        errors["hour"] = "the hour must be a whole number from 0 to 23"
    weekday = text(form, "weekday") or "mon"
    try:
        cad.parse_weekday(weekday)
    except cad.CadenceError as exc:
        errors["weekday"] = str(exc)
    timezone = text(form, "timezone", 64) or DEFAULT_TIMEZONE
    try:
        cad.zone(timezone)
    except cad.CadenceError as exc:
        errors["timezone"] = str(exc)
    return {"cadence": cadence, "hour": hour, "weekday": weekday, "timezone": timezone}


def read_search_form(form: FormLike, *, with_email: bool) -> tuple[SearchForm, str | None]:
    """The search form's values and per-field errors; and the normalized email when asked."""
    errors: dict[str, str] = {}
    raw: dict[str, Any] = {
        key: text(form, key)
        for key in ("within", "min_salary", "cadence", "hour", "weekday", "timezone")
    }
    for key in ("email", "name", "query", "location"):
        raw[key] = bounded(form, key, errors)
    for key in ("workplace", "seniority", "industry", "skill", "employment_type"):
        raw[key] = values(form, key)
    raw["salary_required"] = checked(form, "salary_required")
    email = _email(raw["email"], errors) if with_email and "email" not in errors else None
    query = raw["query"]
    if "query" not in errors:
        try:
            parse_query(query)
        except QueryError as exc:
            errors["query"] = exc.one_line()
    within = number(form, "within", errors, "the radius")
    min_salary = number(form, "min_salary", errors, "the minimum salary")
    location = raw["location"] or None
    _check_place(location, within, errors)
    if min_salary is not None and min_salary < 0 and "min_salary" not in errors:
        errors["min_salary"] = "the minimum salary must not be negative"
    workplaces = _choices(form, "workplace", WORKPLACES, errors, "workplace")
    seniorities = _choices(form, "seniority", SENIORITIES, errors, "level")
    industries = _choices(form, "industry", INDUSTRIES, errors, "industry")
    skills = _choices(form, "skill", SKILLS, errors, "skill")
    employment_types = _choices(form, "employment_type", EMPLOYMENT_TYPES, errors, "job type")
    facts_raw, facts = fact_fields.read(form, errors)
    raw.update(facts_raw)
    schedule = schedule_fields(form, errors)
    result = SearchForm(raw=raw, errors=errors)
    if not errors:
        result.search = SearchInput(
            name=raw["name"] or None,
            query=query,
            location=location,
            within=within,
            workplaces=workplaces,
            min_salary=min_salary,
            salary_required=raw["salary_required"],
            seniorities=seniorities,
            industries=industries,
            skills=skills,
            employment_types=employment_types,
            **facts,
            **schedule,
        )
    return result, email


def _email(typed: str, errors: dict[str, str]) -> str | None:
    if not typed:
        errors["email"] = "enter the address the alerts should go to"
        return None
    try:
        return normalize_email(typed)
    except SubscriptionError:
        errors["email"] = "this is not a valid email address"
        return None


def _check_place(location: str | None, within: float | None, errors: dict[str, str]) -> None:
    """A place the gazetteer knows ("did you mean …?" otherwise), and a radius only with one."""
    if "location" in errors:
        return
    if problem := place_error(location):
        errors["location"] = problem
    elif "within" not in errors:
        try:
            build_filters(location=location, within=within)
        except SearchError as exc:
            errors["within" if within is not None else "location"] = _plain(str(exc))


def _plain(message: str) -> str:
    # The service's messages name CLI options; on a page the fields have labels instead.
    return (
        message.replace("--within", "the radius")
        .replace("--location", "a location")
        .replace("--min-salary", "the minimum salary")
    )


def listing_filters(
    *,
    location: str | None,
    within: float | None,
    workplace: Sequence[str],
    min_salary: float | None,
    seniority: Sequence[str],
    industry: Sequence[str],
    skill: Sequence[str],
    employment_type: Sequence[str],
    since: str | None,
    include_closed: bool,
    salary_required: bool = False,
    shift: Sequence[str] = (),
    min_team: float | None = None,
    standard: Sequence[str] = (),
) -> Filters:
    """Exactly the `build_filters` call of `andon listings` (SearchError on a bad value)."""
    return build_filters(
        location=location or None,
        within=within,
        workplaces=workplace,
        min_salary=min_salary,
        salary_required=salary_required,
        seniorities=seniority,
        industries=industry,
        skills=skill,
        employment_types=employment_type,
        shifts=shift,
        min_team=min_team,
        standards=standard,
        since=since or None,
        include_closed=include_closed,
    )


def read_listing_params(params: FormLike) -> tuple[dict[str, Any], dict[str, str]]:
    """The /jobs page's query string as typed values plus per-field errors (never raises)."""
    errors: dict[str, str] = {}
    values_: dict[str, Any] = {
        "q": bounded(params, "q", errors) or None,
        "location": bounded(params, "location", errors) or None,
        "within": number(params, "within", errors, "the radius"),
        "workplace": values(params, "workplace"),
        "min_salary": number(params, "min_salary", errors, "the minimum salary"),
        "salary_required": checked(params, "salary_required"),
        "seniority": values(params, "seniority"),
        "industry": values(params, "industry"),
        "skill": values(params, "skill"),
        "employment_type": values(params, "employment_type"),
        "shift": values(params, "shift"),
        "min_team": number(params, "min_team", errors, "the team size"),
        "standard": values(params, "standard"),
        "since": text(params, "since", 40) or None,
        "include_closed": text(params, "include_closed").lower() in ("1", "true", "on", "yes"),
    }
    for key, default, low, high in (("limit", 25, 1, MAX_PAGE), ("offset", 0, 0, MAX_OFFSET)):
        raw = text(params, key, 12)
        try:
            values_[key] = int(raw) if raw else default
        except ValueError:
            errors[key] = f"{key} must be a whole number"
            values_[key] = default
            continue
        # Refused, not clamped, like /api/jobs: a page that quietly showed something else
        # than asked for ("limit=0" showing one job) reads as a bug.
        if not low <= values_[key] <= high:
            errors[key] = f"{key} must be from {low:,} to {high:,}"
            values_[key] = default
    if "location" not in errors and (problem := place_error(values_["location"])):
        errors["location"] = problem
    if problem := since_problem(values_["since"]):
        errors["form"] = problem  # the page shows `since` problems above the results
    return values_, errors


def labels(mapping: Mapping[str, str] | None = None) -> dict[str, str]:
    return dict(LABELS, **(mapping or {}))
