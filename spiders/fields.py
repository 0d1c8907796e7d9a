"""Helpers spiders share to emit the common structured fields (KIND-SPEC.md): salary and dates.

A spider converts its source's own shapes here or in its module; the pipeline reads only
`salary = {"min", "max", "currency", "period"}` (amounts may still be strings such as
"$100,000", which the pipeline's text reader handles) and ISO 8601 / epoch dates.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

PERIODS = ("hour", "day", "week", "month", "year")

# Period words and codes sources put in structured fields → our periods.
_PERIOD_CODES: dict[str, str] = {
    "ph": "hour", "pd": "day", "pw": "week", "pm": "month", "pa": "year", "py": "year",
    "hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month", "annual": "year",
    "annually": "year", "yearly": "year", "hr": "hour", "yr": "year", "mo": "month",
}  # fmt: skip
# Codes that name no exact period of ours: the pipeline infers one from the amount.
_NO_PERIOD = frozenset({"biweekly", "bw", "semimonthly", "one-time", "pw piece work", "none"})
_PERIOD_WORD = re.compile(r"\b(hour|day|week|month|year|annum)s?\b|(hourly|annual|monthly|weekly)")

_MIN_KEYS = ("min", "minSalary", "minValue", "min_value", "salary_min", "salaryMin", "minimum",
             "MinimumRange", "min_amount")  # fmt: skip
_MAX_KEYS = ("max", "maxSalary", "maxValue", "max_value", "salary_max", "salaryMax", "maximum",
             "MaximumRange", "max_amount")  # fmt: skip
_CUR_KEYS = ("currency", "currencyCode", "currency_code", "currency_type", "salaryCurrency",
             "CurrencyCode")  # fmt: skip
_PERIOD_KEYS = ("period", "salaryPeriod", "interval", "unit", "unitText", "unit_text",
                "RateIntervalCode", "salary_period", "frequency")  # fmt: skip


def period_of(raw: Any) -> str | None:
    """A structured period field ("annual", "per-hour-wage", "1 YEAR", "HOUR", "PA") → our period."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    word = raw.strip().lower()[:60]
    if word in _PERIOD_CODES:
        return _PERIOD_CODES[word]
    if word in PERIODS:
        return word
    if word in _NO_PERIOD:
        return None
    m = _PERIOD_WORD.search(word.replace("-", " ").replace("_", " "))
    if not m:
        return None
    found = m.group(1) or m.group(2)
    return {"annum": "year", "annual": "year", "hourly": "hour", "monthly": "month",
            "weekly": "week"}.get(found, found)  # fmt: skip


def _first(data: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = data.get(key)
        if value not in (None, ""):
            return value
    return None


def common_salary(
    low: Any, high: Any, currency: Any = None, period: Any = None
) -> dict[str, Any] | None:
    """The common salary shape, or None when neither amount is given."""
    if low in (None, "") and high in (None, ""):
        return None
    cur = currency.strip().upper() if isinstance(currency, str) and currency.strip() else None
    return {
        "min": None if low == "" else low,
        "max": None if high == "" else high,
        "currency": cur,
        "period": period_of(period) if period not in PERIODS else period,
    }


def salary_from_fields(data: Any) -> dict[str, Any] | None:
    """A flat salary object with any of the usual key names ({minSalary, maxSalary, currency,
    salaryPeriod}, {min, max, interval}, {MinimumRange, MaximumRange, RateIntervalCode}, ...)."""
    if not isinstance(data, dict) or not data:
        return None
    low, high = _first(data, _MIN_KEYS), _first(data, _MAX_KEYS)
    if low is None and high is None:
        low = high = _first(data, ("value", "amount"))
    return common_salary(low, high, _first(data, _CUR_KEYS), _first(data, _PERIOD_KEYS))


def monetary_amount(base: Any) -> dict[str, Any] | None:
    """schema.org `baseSalary` (a MonetaryAmount with a QuantitativeValue, or a bare number)."""
    if isinstance(base, list):
        base = base[0] if base else None
    if isinstance(base, dict) and isinstance(base.get("baseSalary"), dict | list):
        return monetary_amount(base["baseSalary"])
    if not isinstance(base, dict):
        return common_salary(base, base) if base not in (None, "") else None
    value = base.get("value")
    if isinstance(value, dict):
        single = value.get("value")
        low = value.get("minValue", single)
        high = value.get("maxValue", single)
        unit = value.get("unitText") or base.get("unitText")
        return common_salary(low, high, base.get("currency"), unit)
    return common_salary(value, value, base.get("currency"), base.get("unitText"))


_RELATIVE = re.compile(
    r"^\s*(?:posted\s+)?(?:(?P<today>today)|(?P<yesterday>yesterday)|"
    r"(?P<n>\d{1,4})\+?\s+days?\s+ago)\s*$",
    re.IGNORECASE,
)


def days_ago(text: Any, now: datetime) -> str | None:
    """ "Posted Today" / "Posted Yesterday" / "Posted 30+ Days Ago", relative to `now` (the
    crawl), as an ISO date; None for anything else."""
    if not isinstance(text, str) or len(text) > 60:
        return None
    m = _RELATIVE.match(text)
    if not m:
        return None
    midnight = datetime.combine(now.astimezone(UTC).date(), time(), tzinfo=UTC)
    if m.group("today"):
        day = midnight
    elif m.group("yesterday"):
        day = midnight - timedelta(days=1)
    else:
        day = midnight - timedelta(days=int(m.group("n")))
    return day.date().isoformat()
