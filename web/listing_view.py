"""What the /jobs pages show beside the listing contract: the apply link, the distance, alert links."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from alerts.formatting import safe_url
from pipeline.models import Posting
from search.geo import haversine_miles
from search.posting import PlaceFilter


def _aggregator_kinds() -> frozenset[str]:
    """Source kinds that list other companies' jobs (the `kind` prefix of a source's external
    id): their page is not the employer's, so it is the apply link only when nothing better is
    known. Each spider class says whether it is one."""
    from spiders.registry import aggregator_kinds

    return aggregator_kinds()


EMPLOYER_LABEL = "Apply on the employer's site"

# /jobs parameters the subscribe form has fields for, with the form's name for each.
_ALERT_FIELDS = {
    "q": "query",
    "location": "location",
    "within": "within",
    "min_salary": "min_salary",
    "salary_required": "salary_required",
    "workplace": "workplace",
    "seniority": "seniority",
    "industry": "industry",
    "skill": "skill",
    "employment_type": "employment_type",
    "shift": "shift",
    "min_team": "min_team",
    "standard": "standard",
}


def _kind(source: dict[str, Any]) -> str:
    return str(source.get("external_id") or "").split(":", 1)[0]


def _host(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def apply_link(item: dict[str, Any]) -> dict[str, str] | None:
    """The button under a job: the employer's own posting when a source has it, else honest words.

    `item` is one listing (the contract of DESIGN.md). A posting seen on an employer's ATS and on
    a job board links to the ATS; one known only from a board links to the board's apply URL,
    called the employer's site only when it leads off the board.
    """
    sources = item.get("sources") or []
    aggregators = _aggregator_kinds()
    own = [s for s in sources if _kind(s) not in aggregators and safe_url(s["url"]) != "#"]
    apply_url = safe_url(item.get("apply_url"))
    if own:
        employer = safe_url(own[0]["url"])
        # The ATS's own application form (same host as its posting) beats the posting page.
        if apply_url != "#" and _host(apply_url) == _host(employer):
            return {"href": apply_url, "label": EMPLOYER_LABEL}
        return {"href": employer, "label": EMPLOYER_LABEL}
    board_hosts = {_host(s["url"]) for s in sources if s.get("url")}
    if apply_url != "#" and _host(apply_url) not in board_hosts:
        return {"href": apply_url, "label": EMPLOYER_LABEL}
    href = apply_url if apply_url != "#" else safe_url(item.get("url"))
    if href == "#":
        return None
    return {"href": href, "label": f"See the job on {_host(href) or 'the job board'}"}


def miles_away(place: PlaceFilter | None, posting: Posting) -> int | None:
    """Whole miles from a radius search's centre to the posting, when both have coordinates."""
    if (
        place is None
        or place.within_miles is None
        or place.latitude is None
        or place.longitude is None
        or posting.latitude is None
        or posting.longitude is None
        or posting.workplace == "remote"
    ):
        return None
    miles = haversine_miles(place.latitude, place.longitude, posting.latitude, posting.longitude)
    return round(miles)


def alerts_url(params: dict[str, Any]) -> str:
    """The home page's subscribe form, prefilled with the filters on a /jobs page."""
    pairs: list[tuple[str, str]] = []
    for key, name in _ALERT_FIELDS.items():
        value = params.get(key)
        if value is None or value == "" or value is False or value == []:
            continue
        if isinstance(value, list):
            pairs.extend((name, str(v)) for v in value)
        elif value is True:
            pairs.append((name, "1"))
        elif isinstance(value, float):
            pairs.append((name, f"{value:g}" if key == "within" else f"{value:.0f}"))
        else:
            pairs.append((name, str(value)))
    return f"/?{urlencode(pairs)}#subscribe" if pairs else "/#subscribe"
