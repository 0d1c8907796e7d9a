"""Posting dates as spiders emit them (epoch s/ms, ISO 8601, RFC 822, free text such as "3 weeks ago") → UTC."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

# Posted dates later than this after the crawl are clock skew or garbage.
MAX_FUTURE = timedelta(days=2)

_NUMERIC = re.compile(r"^\s*-?\d+(?:\.\d+)?\s*$")
_LOOSE_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
_UTC_SUFFIX = re.compile(r"\s*(?:UTC|GMT|Z)\s*$", re.IGNORECASE)
_RFC822 = re.compile(r"^\s*(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}")


def _aware(dt: datetime) -> datetime:
    """Naive means UTC (sources without an offset are UTC or close enough for a posting date)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _from_epoch(number: float) -> datetime | None:
    # Sources send seconds or milliseconds (sometimes documenting one and sending the other):
    # > 1e12 can only be ms.
    seconds = number / 1000 if abs(number) > 1e12 else number
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _from_text(text: str, now: datetime) -> datetime | None:
    found = _absolute(text)
    return _relative(text, now) if found is _RELATIVE else found


_RELATIVE = object()  # what `_absolute` says of a text that is no absolute date


@lru_cache(maxsize=4096)  # remembered: a source gives many items the same timestamp or day
def _absolute(text: str) -> Any:
    """The date an ISO 8601, loose ISO or RFC 822 text states (None when it is not a valid
    one), or _RELATIVE when the text is none of these; it does not depend on the crawl's time."""
    m = _LOOSE_DATE.match(text)
    if m:  # "2026-5-15", which fromisoformat refuses
        try:
            return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), tzinfo=UTC)
        except ValueError:
            return None
    iso = _UTC_SUFFIX.sub("", text) if not text.endswith("Z") else text
    try:
        return _aware(datetime.fromisoformat(iso.strip()))
    except ValueError:
        pass
    if _RFC822.match(text):
        try:
            return _aware(parsedate_to_datetime(text))
        except (TypeError, ValueError):
            return None
    return _RELATIVE


def _relative(text: str, now: datetime) -> datetime | None:
    # dateparser is slow to import and only needed for the rare free-text date.
    import dateparser

    parsed = dateparser.parse(
        text,
        languages=["en"],
        settings={
            "RELATIVE_BASE": now.astimezone(UTC).replace(tzinfo=None),
            "PREFER_DATES_FROM": "past",
            "RETURN_AS_TIMEZONE_AWARE": True,
            "TIMEZONE": "UTC",
            "TO_TIMEZONE": "UTC",
        },
    )
    return _aware(parsed) if parsed is not None else None


def parse_date(value: Any, *, now: datetime) -> datetime | None:
    """Parse a date as a source gives it into an aware UTC datetime; garbage → None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        return None
    text = value.strip()
    if _NUMERIC.match(text):
        return _from_epoch(float(text))
    return _from_text(text, now)


def parse_posted(value: Any, now: datetime) -> datetime | None:
    """A posted date, refused (None) when it lies more than two days after `now`."""
    posted = parse_date(value, now=now)
    if posted is None or posted > now.astimezone(UTC) + MAX_FUTURE:
        return None
    return posted


_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{1,2}-\d{1,2}\s*$")


def parse_valid_through(value: Any, now: datetime) -> datetime | None:
    """An expiry date; a date without a time means the end of that day (UTC)."""
    parsed = parse_date(value, now=now)
    if parsed is None:
        return None
    if (isinstance(value, str) and _DATE_ONLY.match(value)) or type(value) is date:
        return parsed + timedelta(days=1) - timedelta(microseconds=1)
    return parsed
