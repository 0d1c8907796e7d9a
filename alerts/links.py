"""The links in emails and pages: signed tokens under the public base URL, never raw ids."""

from __future__ import annotations

from urllib.parse import urlencode

from alerts.feedback import feedback_token
from alerts.models import SavedSearch
from alerts.tokens import make_token
from config import Settings


def confirm_url(settings: Settings, subscriber_id: int) -> str:
    return f"{settings.base_url}/confirm/{make_token(settings.secret(), 'confirm', subscriber_id)}"


def unsubscribe_token(settings: Settings, subscriber_id: int) -> str:
    return make_token(settings.secret(), "unsubscribe", subscriber_id)


def unsubscribe_url(settings: Settings, subscriber_id: int) -> str:
    """The RFC 8058 one-click target: GET shows a button, POST unsubscribes; never expires."""
    return f"{settings.base_url}/unsubscribe/{unsubscribe_token(settings, subscriber_id)}"


def manage_url(settings: Settings, subscriber_id: int) -> str:
    return f"{settings.base_url}/manage/{make_token(settings.secret(), 'manage', subscriber_id)}"


def feedback_url(
    settings: Settings, subscriber_id: int, search_id: int, posting_id: int, action: str
) -> str:
    """A digest job's Not relevant / Hide this company / Applied link: a page that confirms."""
    token = feedback_token(settings.secret(), subscriber_id, search_id, posting_id, action)
    return f"{settings.base_url}/feedback/{token}"


def feed_url(settings: Settings, saved_search_id: int) -> str:
    return f"{settings.base_url}/feeds/{make_token(settings.secret(), 'feed', saved_search_id)}.xml"


def jobs_url(settings: Settings, saved: SavedSearch) -> str:
    """The listing page with this search's query and filters: 'the rest' of a capped digest."""
    params: list[tuple[str, str]] = []
    if saved.query:
        params.append(("q", saved.query))
    if saved.location:
        params.append(("location", saved.location))
    if saved.within_miles:
        params.append(("within", f"{saved.within_miles:g}"))
    if saved.min_salary_usd:
        params.append(("min_salary", f"{saved.min_salary_usd:.0f}"))
    for key, values in (
        ("workplace", saved.workplaces), ("seniority", saved.seniorities),
        ("industry", saved.industries), ("skill", saved.skills),
        ("employment_type", saved.employment_types),
    ):  # fmt: skip
        params.extend((key, v) for v in values)
    query = urlencode(params)
    return f"{settings.base_url}/jobs" + (f"?{query}" if query else "")
