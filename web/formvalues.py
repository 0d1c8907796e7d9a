"""Reading one form or query-string value: text, a checkbox, several values, a number."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import ImmutableMultiDict

from pipeline.sanitize import strip_controls

# Starlette's FormData and QueryParams: one value (`get`) or all values (`getlist`) of a key.
FormLike = ImmutableMultiDict[str, Any]


def text(form: FormLike, key: str, max_len: int = 300) -> str:
    value = form.get(key)
    # NUL and other controls: PostgreSQL refuses NUL in a query, and none has a meaning here
    return strip_controls(value).strip()[:max_len] if isinstance(value, str) else ""


def checked(form: FormLike, key: str) -> bool:
    """A checkbox: ticked when it is sent as 1, true, on or yes."""
    return text(form, key).lower() in ("1", "true", "on", "yes")


def values(form: FormLike, key: str) -> list[str]:
    cleaned = (strip_controls(v).strip() for v in form.getlist(key) if isinstance(v, str))
    return [v[:100] for v in cleaned if v][:30]


def number(form: FormLike, key: str, errors: dict[str, str], what: str) -> float | None:
    raw = text(form, key).replace(",", "").replace("$", "")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        errors[key] = f"{what} must be a number"
        return None
    if value != value or value in (float("inf"), float("-inf")):  # NaN and infinities
        errors[key] = f"{what} must be a number"
        return None
    return value
