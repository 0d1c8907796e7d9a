"""The plant-facts fields of the saved-search forms: shift, team size and regulated standards.

Each value is checked by the same filter definitions (`search.definitions`) that `andon
subscribe`, `andon listings`, /jobs and /api/jobs use, one field at a time so that the page can
show the message beside the field it belongs to.
"""

from __future__ import annotations

from typing import Any

from alerts.models import SavedSearch
from pipeline.facts import SHIFT_LABELS, STANDARD_LABELS
from search.sql import SearchError, build_filters
from web.formvalues import FormLike, number, text, values

# Each form field and its `build_filters` keyword (also the `Filters` field and `SearchInput` one).
_FIELDS = (("shift", "shifts"), ("min_team", "min_team"), ("standard", "standards"))


def blank() -> dict[str, Any]:
    return {"shift": [], "min_team": "", "standard": []}


def prefill(params: FormLike) -> dict[str, Any]:
    """The facts a /jobs "Get alerts" link carries, unvalidated (the form checks them)."""
    return {
        "shift": values(params, "shift"),
        "min_team": text(params, "min_team", 12),
        "standard": values(params, "standard"),
    }


def of_saved(saved: SavedSearch) -> dict[str, Any]:
    """A stored search's facts as form values, to prefill its edit form."""
    return {
        "shift": list(saved.shifts or ()),
        "min_team": str(saved.min_team) if saved.min_team else "",
        "standard": list(saved.standards or ()),
    }


def read(form: FormLike, errors: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The raw values (to refill the form) and the `SearchInput` fields; errors per field."""
    raw = prefill(form)
    given: dict[str, Any] = {
        "shifts": raw["shift"],
        "min_team": number(form, "min_team", errors, "the team size"),
        "standards": raw["standard"],
    }
    checked: dict[str, Any] = {"shifts": (), "min_team": None, "standards": ()}
    for key, keyword in _FIELDS:
        if key in errors:
            continue
        try:
            filters = build_filters(**{keyword: given[keyword]})
        except SearchError as exc:
            errors[key] = str(exc).replace("--min-team", "the team size")
            continue
        value = getattr(filters, keyword)
        checked[keyword] = sorted(value) if isinstance(value, frozenset) else value
    return raw, checked


def choices() -> dict[str, Any]:
    """What the form offers: each shift and standard with its label."""
    return {"shift_choices": SHIFT_LABELS, "standard_choices": STANDARD_LABELS}
