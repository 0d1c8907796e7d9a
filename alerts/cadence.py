"""When a saved search is due: daily at a local hour, weekly on a local weekday; DST-correct.

Times are computed in the search's IANA timezone and stored in UTC. A local hour that does not
exist on a spring-forward day is sent at the first instant after the gap; an hour that happens
twice on a fall-back day is sent once, at its first occurrence (`fold=0`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CADENCES = ("daily", "weekly")


class CadenceError(ValueError):
    """A bad timezone, hour, weekday or cadence; one line."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CadenceError(
            f"unknown timezone {name!r}: use an IANA name like America/Chicago"
        ) from None


def parse_weekday(value: str | int) -> int:
    if isinstance(value, int):
        if 0 <= value <= 6:
            return value
        raise CadenceError(f"weekday {value} is not 0-6")
    key = value.strip().lower()[:3]
    if key not in WEEKDAYS:
        raise CadenceError(f"unknown weekday {value!r}: use one of {', '.join(WEEKDAYS)}")
    return WEEKDAYS.index(key)


def check(cadence: str, hour: int, weekday: int, timezone: str) -> None:
    if cadence not in CADENCES:
        raise CadenceError(f"unknown cadence {cadence!r}: use daily or weekly")
    if not 0 <= hour <= 23:
        raise CadenceError(f"hour {hour} is not 0-23")
    parse_weekday(weekday)
    zone(timezone)


def _local_send(day: date, hour: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of `hour`:00 local on `day` (gap → just after it, overlap → first)."""
    # fold=0: an ambiguous wall time means its first occurrence; a nonexistent one (a
    # spring-forward gap) is read with the offset before the gap, which is the instant the gap ends
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=tz, fold=0).astimezone(UTC)


def next_due(*, cadence: str, hour: int, weekday: int, timezone: str, after: datetime) -> datetime:
    """The first send instant strictly after `after` (UTC)."""
    tz = zone(timezone)
    local_day = after.astimezone(tz).date()
    for offset in range(15):
        day = local_day + timedelta(days=offset)
        if cadence == "weekly" and day.weekday() != weekday:
            continue
        when = _local_send(day, hour, tz)
        if when > after:
            return when
    raise AssertionError("no send time within two weeks")  # unreachable for valid input


def period_key(*, cadence: str, due_at: datetime, timezone: str) -> str:
    """The period a send instant belongs to: '2026-11-25' daily, '2026-W48' weekly (local)."""
    local = due_at.astimezone(zone(timezone)).date()
    if cadence == "weekly":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return local.isoformat()


def lookback(cadence: str) -> timedelta:
    """How far back a search's first digest reaches (one period)."""
    return timedelta(days=7 if cadence == "weekly" else 1)
