"""Subscribers and saved searches: create, confirm, change, pause, unsubscribe.

These functions take a session and never commit; the caller's transaction decides. They are
what the CLI and the web app call, so both apply the same rules:
- an address is validated and normalized (email-validator), a timezone must be an IANA name;
- subscribing an address that exists adds a saved search and changes nothing else (a confirmed
  subscriber stays confirmed); a subscriber who had left comes back as pending, unless an
  operator vouches with `confirmed`;
- only `active` subscribers get digests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlmodel import Session, col

from alerts import cadence as cad
from alerts.models import SavedSearch, Subscriber
from db import utcnow
from pipeline.facts import SHIFT_LABELS, STANDARD_LABELS
from pipeline.sanitize import strip_controls
from search.filters import Filters, PlaceFilter
from search.matcher import SavedSearchSpec
from search.query import QueryError, parse_query, to_text
from search.sql import SearchError, build_filters


class SubscriptionError(ValueError):
    """A subscriber's or operator's mistake (bad address, query, timezone...); one line."""


def normalize_email(address: str) -> str:
    try:
        normalized = validate_email(address.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise SubscriptionError(f"{address!r} is not a valid email address: {exc}") from None
    # RFC 5321 lets the local part be case-sensitive, but no mailbox provider treats it so;
    # without this, Pat@ and pat@ would be two subscribers getting the same jobs twice
    return normalized.lower()


@dataclass
class SearchInput:
    """A saved search as a person states it (CLI options or web form fields)."""

    name: str | None = None
    query: str = ""
    location: str | None = None
    within: float | None = None
    workplaces: Sequence[str] = ()
    min_salary: float | None = None
    salary_required: bool = False
    seniorities: Sequence[str] = ()
    industries: Sequence[str] = ()
    skills: Sequence[str] = ()
    employment_types: Sequence[str] = ()
    shifts: Sequence[str] = ()
    min_team: int | None = None
    standards: Sequence[str] = ()
    exclude_companies: Sequence[str] = ()
    cadence: str = "daily"
    hour: int = 8
    weekday: str | int = "mon"
    timezone: str = "UTC"
    extra: dict[str, Any] = field(default_factory=dict)


def _validated(search: SearchInput) -> tuple[Filters, int]:
    try:
        node = parse_query(search.query)
    except QueryError as exc:
        raise SubscriptionError(exc.one_line()) from None
    del node
    try:
        filters = build_filters(
            location=search.location,
            within=search.within,
            workplaces=search.workplaces,
            min_salary=search.min_salary,
            salary_required=search.salary_required,
            seniorities=search.seniorities,
            industries=search.industries,
            skills=search.skills,
            employment_types=search.employment_types,
            shifts=search.shifts,
            min_team=search.min_team,
            standards=search.standards,
            exclude_companies=search.exclude_companies,
        )
        weekday = cad.parse_weekday(search.weekday)
        cad.check(search.cadence, search.hour, weekday, search.timezone)
    except (SearchError, cad.CadenceError) as exc:
        raise SubscriptionError(str(exc)) from None
    return filters, weekday


def _default_name(search: SearchInput) -> str:
    parts = [search.query.strip() or "all production jobs"]
    if search.location:
        parts.append(f"near {search.location}" if search.within else f"in {search.location}")
    return " ".join(parts)[:120]


def _apply(
    saved: SavedSearch, search: SearchInput, filters: Filters, weekday: int, now: datetime
) -> None:
    place = filters.place
    # a name is shown on terminals and in emails: no ESC sequences or bidi overrides in it
    saved.name = strip_controls(search.name or _default_name(search)).strip()[:120]
    saved.query = search.query.strip()
    saved.location = search.location
    saved.within_miles = search.within
    saved.place_city = place.city if place else None
    saved.place_region = place.region if place else None
    saved.place_country = place.country if place else None
    saved.place_latitude = place.latitude if place else None
    saved.place_longitude = place.longitude if place else None
    saved.workplaces = sorted(filters.workplaces)
    saved.min_salary_usd = filters.min_salary_usd
    saved.salary_required = filters.salary_required
    saved.seniorities = sorted(filters.seniorities)
    saved.industries = sorted(filters.industries)
    saved.skills = sorted(filters.skills)
    saved.employment_types = sorted(filters.employment_types)
    saved.shifts = sorted(filters.shifts)
    saved.min_team = filters.min_team
    saved.standards = sorted(filters.standards)
    saved.exclude_companies = sorted(c.strip() for c in search.exclude_companies if c.strip())
    saved.cadence = search.cadence
    saved.send_hour = search.hour
    saved.weekday = weekday
    saved.timezone = search.timezone
    saved.updated_at = now
    saved.next_due_at = cad.next_due(
        cadence=saved.cadence, hour=saved.send_hour, weekday=saved.weekday,
        timezone=saved.timezone, after=now,
    )  # fmt: skip


def subscriber_by_email(session: Session, email: str) -> Subscriber | None:
    return session.execute(
        select(Subscriber).where(col(Subscriber.email) == normalize_email(email))
    ).scalar_one_or_none()


def subscribe(
    session: Session,
    email: str,
    search: SearchInput,
    *,
    name: str | None = None,
    confirmed: bool = False,
    consent_source: str = "cli",
    now: datetime | None = None,
) -> tuple[Subscriber, SavedSearch, bool]:
    """Add a saved search for `email`; returns (subscriber, search, needs_confirmation)."""
    now = now or utcnow()
    address = normalize_email(email)
    filters, weekday = _validated(search)
    sub = session.execute(
        select(Subscriber).where(col(Subscriber.email) == address)
    ).scalar_one_or_none()
    if sub is None:
        sub = Subscriber(
            email=address, name=name, timezone=search.timezone, created_at=now,
            status="active" if confirmed else "pending", consent_source=consent_source,
            confirmed_at=now if confirmed else None,
        )  # fmt: skip
        session.add(sub)
        session.flush()
    elif sub.status in ("unsubscribed", "bounced", "complained"):
        # they left (or their mail bounced); coming back needs consent again
        sub.status = "active" if confirmed else "pending"
        sub.confirmed_at = now if confirmed else None
        sub.unsubscribed_at = None
        sub.status_reason = None
        sub.consent_source = consent_source
    elif confirmed and sub.status == "pending":
        sub.status = "active"
        sub.confirmed_at = now
    saved = SavedSearch(subscriber_id=sub.id, name="", created_at=now)  # type: ignore[arg-type]
    _apply(saved, search, filters, weekday, now)
    session.add(saved)
    session.add(sub)
    session.flush()
    return sub, saved, sub.status == "pending"


def update_search(
    session: Session, saved: SavedSearch, search: SearchInput, *, now: datetime | None = None
) -> SavedSearch:
    """Replace a saved search's query, filters and schedule (its digest history stays)."""
    now = now or utcnow()
    filters, weekday = _validated(search)
    _apply(saved, search, filters, weekday, now)
    session.add(saved)
    session.flush()
    return saved


def set_paused(
    session: Session, saved: SavedSearch, paused: bool, *, now: datetime | None = None
) -> None:
    now = now or utcnow()
    saved.active = not paused
    if not paused:
        saved.next_due_at = cad.next_due(
            cadence=saved.cadence, hour=saved.send_hour, weekday=saved.weekday,
            timezone=saved.timezone, after=now,
        )  # fmt: skip
    saved.updated_at = now
    session.add(saved)


def confirm(session: Session, subscriber: Subscriber, *, now: datetime | None = None) -> bool:
    """Confirm a pending subscriber; True if this changed anything (confirming twice is fine)."""
    if subscriber.status != "pending":
        return False
    subscriber.status = "active"
    subscriber.confirmed_at = now or utcnow()
    session.add(subscriber)
    return True


def unsubscribe(
    session: Session,
    subscriber: Subscriber,
    *,
    reason: str = "unsubscribed",
    status: str = "unsubscribed",
    now: datetime | None = None,
) -> bool:
    """Stop all mail to a subscriber; True if they were not already stopped."""
    if subscriber.status == status:
        return False
    subscriber.status = status
    subscriber.unsubscribed_at = now or utcnow()
    subscriber.status_reason = reason
    session.add(subscriber)
    return True


def searches_of(session: Session, subscriber_id: int) -> list[SavedSearch]:
    return list(
        session.execute(
            select(SavedSearch)
            .where(col(SavedSearch.subscriber_id) == subscriber_id)
            .order_by(col(SavedSearch.id))
        ).scalars()
    )


def filters_of(saved: SavedSearch) -> Filters:
    """The stored search's filters, with the place as resolved when it was saved."""
    place = None
    if saved.location:
        place = PlaceFilter(
            text=saved.location, city=saved.place_city, region=saved.place_region,
            country=saved.place_country, latitude=saved.place_latitude,
            longitude=saved.place_longitude, within_miles=saved.within_miles,
        )  # fmt: skip
    return Filters(
        place=place,
        workplaces=frozenset(saved.workplaces),
        min_salary_usd=saved.min_salary_usd,
        salary_required=saved.salary_required,
        seniorities=frozenset(saved.seniorities),
        industries=frozenset(saved.industries),
        skills=frozenset(saved.skills),
        employment_types=frozenset(saved.employment_types),
        shifts=frozenset(saved.shifts or ()),
        min_team=saved.min_team,
        standards=frozenset(saved.standards or ()),
        exclude_companies=frozenset(c.casefold() for c in saved.exclude_companies),
    )


def spec_of(saved: SavedSearch) -> SavedSearchSpec:
    return SavedSearchSpec(
        id=saved.id,  # type: ignore[arg-type]
        query=parse_query(saved.query),
        filters=filters_of(saved),
        subscriber_id=saved.subscriber_id,
    )


def describe(saved: SavedSearch) -> str:
    """One line a person can read: the query and the filters."""
    parts = [to_text(parse_query(saved.query)) or "any production job"]
    if saved.location:
        parts.append(
            f"within {saved.within_miles:g} mi of {saved.location}"
            if saved.within_miles
            else f"in {saved.location}"
        )
    if saved.workplaces:
        parts.append("/".join(saved.workplaces))
    if saved.min_salary_usd:
        parts.append(f"≥ ${saved.min_salary_usd:,.0f}/yr")
    if saved.salary_required:
        parts.append("only jobs that state a salary")
    for label, values in (
        ("level", saved.seniorities),
        ("industry", saved.industries),
        ("skills", saved.skills),
        ("type", saved.employment_types),
    ):
        if values:
            parts.append(f"{label}: {', '.join(values)}")
    # Facts read as the digest shows them ("3rd shift", "ISO 9001"), not as stored keys.
    if saved.shifts:
        parts.append(" or ".join(SHIFT_LABELS.get(v, v) for v in saved.shifts))
    if saved.standards:
        parts.append("standards: " + ", ".join(STANDARD_LABELS.get(v, v) for v in saved.standards))
    if saved.min_team:
        parts.append(f"leads {saved.min_team}+ people")
    if saved.exclude_companies:
        parts.append(f"not {', '.join(saved.exclude_companies)}")
    when = f"daily at {saved.send_hour:02d}:00" if saved.cadence == "daily" else (
        f"weekly on {cad.WEEKDAYS[saved.weekday].title()} at {saved.send_hour:02d}:00"
    )  # fmt: skip
    parts.append(f"{when} {saved.timezone}")
    return " · ".join(parts)
