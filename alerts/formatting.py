"""How listings read in emails and pages: money, dates, places, safe links (the Jinja filters)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

WORKPLACE_LABELS = {"onsite": "On-site", "hybrid": "Hybrid", "remote": "Remote"}
SENIORITY_PLURALS = {
    "supervisor": "production supervisors",
    "assistant": "assistant production managers",
    "manager": "production managers",
    "senior": "senior production managers",
    "director": "production directors",
    "executive": "production executives",
}
PERIOD_LABELS = {"hour": "hour", "day": "day", "week": "week", "month": "month", "year": "year"}
# "$" alone means US dollars here; every other dollar gets its prefix so a CAD salary is never
# read as USD (a complaint about similar tools). Codes without a symbol are written as codes.
CURRENCY_SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "INR": "₹",
    "KRW": "₩",
    "CAD": "CA$",
    "AUD": "A$",
    "NZD": "NZ$",
    "MXN": "MX$",
    "SGD": "S$",
    "HKD": "HK$",
    "BRL": "R$",
    "CNY": "CN¥",
}


def market_figure(
    market_table: Mapping[str, Any] | None, seniority: str | None, country: str | None = "US"
) -> tuple[int | None, str | None]:
    """The dated market pay for a career level, and the line that shows it beside a salary.

    Only where the table applies: a US posting (`country`) and a table of US data (its `country`
    key, US when absent). A median is no exact figure: rounded to the nearest thousand.
    """
    if not market_table or country != "US":
        return None, None
    if str(market_table.get("country") or "US").upper() != "US":
        return None, None
    key = seniority if seniority in SENIORITY_PLURALS else "all"
    amount = market_table.get(key)
    if not isinstance(amount, int | float) or isinstance(amount, bool):
        return None, None
    rounded = int(round(amount, -3))
    who = SENIORITY_PLURALS.get(seniority or "", "production managers")
    as_of = market_table.get("as_of")
    label = f"US median for {who}: ${rounded:,}" + (f" ({as_of})" if as_of else "")
    return rounded, label


# --- filters -------------------------------------------------------------------------------


def _amounts(lo: float | None, hi: float | None, symbol: str) -> str:
    # Cents only when an amount has them, and then on both ends: "$28.50–$32.00 / hour".
    cents = any(v is not None and not float(v).is_integer() for v in (lo, hi))
    fmt = "{:,.2f}" if cents else "{:,.0f}"
    if lo is not None and hi is not None and lo != hi:
        return f"{symbol}{fmt.format(lo)}–{symbol}{fmt.format(hi)}"
    if lo is not None:
        return f"{'' if hi is not None else 'from '}{symbol}{fmt.format(lo)}"
    if hi is not None:
        return f"up to {symbol}{fmt.format(hi)}"
    return ""


def money(salary: Mapping[str, Any] | None) -> str:
    """'$95,000–$120,000 / year', '€4,000 / month', 'PLN 5,000–6,000 / month'; '' when unknown."""
    if not salary:
        return ""
    lo, hi = salary.get("min"), salary.get("max")
    currency = str(salary.get("currency") or "USD").upper()
    symbol = CURRENCY_SYMBOLS.get(currency)
    amounts = _amounts(lo, hi, symbol or "")
    if not amounts:
        return ""
    if symbol is None:
        # The code goes after "from"/"up to" so it reads "from PLN 5,000".
        head, sep, tail = amounts.rpartition(" ")
        amounts = f"{head}{sep}{currency} {tail}" if head else f"{currency} {amounts}"
    period = PERIOD_LABELS.get(str(salary.get("period") or ""))
    return f"{amounts} / {period}" if period else amounts


def money_usd(salary: Mapping[str, Any] | None) -> str:
    """The annual USD equivalent, only when the salary is in another currency or period."""
    if not salary:
        return ""
    if str(salary.get("currency") or "USD").upper() == "USD" and salary.get("period") == "year":
        return ""
    lo, hi = salary.get("annual_min_usd"), salary.get("annual_max_usd")
    # a converted figure is an estimate: to the nearest thousand, not "$157,766"
    lo = int(round(lo, -3)) if isinstance(lo, int | float) else None
    hi = int(round(hi, -3)) if isinstance(hi, int | float) else None
    amounts = _amounts(lo, hi, "$")
    return f"about {amounts} a year" if amounts else ""


def format_date(value: datetime | date | str | None) -> str:
    """'Nov 20, 2026' from a datetime, a date or an ISO 8601 string; '' when missing."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return ""
    return f"{value:%b} {value.day}, {value.year}"


def posted(
    value: datetime | date | str | None, or_earlier: bool = False, now: datetime | None = None
) -> str:
    """When a job was posted: 'Nov 20, 2026', or '30+ days ago' when the date is only a bound
    (Workday's "Posted 30+ Days Ago": posted then or earlier); '' when missing."""
    if not or_earlier:
        return format_date(value)
    when = value
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when)
        except ValueError:
            return ""
    if when is None:
        return ""
    if not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day, tzinfo=UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    days = max(0, ((now or datetime.now(UTC)) - when).days)
    return f"{days}+ days ago"


_UNSAFE_URL_CHARS = re.compile(r"[\x00-\x20\x7f]")


_NETLOC_END = re.compile(r"[/?#]")


def safe_url(value: str | None) -> str:
    """The URL when it is absolute http(s), else '#': autoescape does not stop `javascript:`."""
    if not value or not isinstance(value, str):
        return "#"
    value = value.strip()
    # Browsers ignore tabs and newlines inside a scheme ("java\tscript:"), so refuse them outright.
    if _UNSAFE_URL_CHARS.search(value):
        return "#"
    # A digest shows ~180 links: most are plain ASCII http(s) URLs, told apart without urlsplit
    # (which would say the same: scheme http(s), a netloc, no bracket it could refuse).
    if value.isascii():
        head = value[:8].lower()
        rest = value[8:] if head == "https://" else value[7:] if head[:7] == "http://" else None
        if rest is not None:
            netloc = _NETLOC_END.split(rest, 1)[0]
            if netloc and "[" not in netloc and "]" not in netloc:
                return value
    return _safe_url_parsed(value)


def _safe_url_parsed(value: str) -> str:
    """`safe_url`'s general path, for a stripped value without unsafe characters."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return "#"
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return "#"
    return value


_SPACE_RUN = re.compile(r"\s+")


def oneline(value: Any) -> str:
    """Collapse all whitespace: scraped text must not add lines (a fake link) to a text email."""
    return _SPACE_RUN.sub(" ", str(value or "")).strip()


def workplace(value: str | None) -> str:
    """'On-site', 'Hybrid', 'Remote'; anything else as one line."""
    return WORKPLACE_LABELS.get(value or "", oneline(value))
