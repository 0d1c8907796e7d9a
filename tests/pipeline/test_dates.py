"""Date parsing: every format the sources use, anchored at a fixed `now`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from pipeline.dates import parse_date, parse_posted, parse_valid_through

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)

CASES: list[tuple[object, datetime | None]] = [
    (1790401136, datetime(2026, 9, 26, 5, 38, 56, tzinfo=UTC)),  # epoch seconds
    (1764205361939, datetime(2025, 11, 27, 1, 2, 41, 939000, tzinfo=UTC)),  # epoch ms
    ("1764205361939", datetime(2025, 11, 27, 1, 2, 41, 939000, tzinfo=UTC)),
    ("1790401136", datetime(2026, 9, 26, 5, 38, 56, tzinfo=UTC)),
    (1790401136.5, datetime(2026, 9, 26, 5, 38, 56, 500000, tzinfo=UTC)),
    ("2026-08-06T12:50:10-04:00", datetime(2026, 8, 6, 16, 50, 10, tzinfo=UTC)),
    ("2026-09-24T14:42:40.916Z", datetime(2026, 9, 24, 14, 42, 40, 916000, tzinfo=UTC)),
    ("2026-07-08T19:48:19.767+00:00", datetime(2026, 7, 8, 19, 48, 19, 767000, tzinfo=UTC)),
    ("2017-03-18T00:00", datetime(2017, 3, 18, tzinfo=UTC)),  # no tz → UTC
    ("2026-01-30", datetime(2026, 1, 30, tzinfo=UTC)),
    ("2026-5-15", datetime(2026, 5, 15, tzinfo=UTC)),
    ("2026-08-05 10:10:39 UTC", datetime(2026, 8, 5, 10, 10, 39, tzinfo=UTC)),
    ("Mon, 27 Jul 2026 10:00:00 GMT", datetime(2026, 7, 27, 10, tzinfo=UTC)),
    ("Mon, 27 Jul 2026 10:00:00 +0000", datetime(2026, 7, 27, 10, tzinfo=UTC)),
    ("Mon, 27 Jul 2026 12:00:00 +0200", datetime(2026, 7, 27, 10, tzinfo=UTC)),
    ("3 weeks ago", datetime(2026, 10, 30, 15, 30, tzinfo=UTC)),
    ("2 hours ago", datetime(2026, 11, 20, 13, 30, tzinfo=UTC)),
    ("November 3, 2026", datetime(2026, 11, 3, tzinfo=UTC)),
    # relative "Posted N Days Ago" is converted by the spider that sees it (tests/spiders/test_fields.py)
    ("2026-11-16", datetime(2026, 11, 16, tzinfo=UTC)),
    (date(2026, 11, 1), datetime(2026, 11, 1, tzinfo=UTC)),
    ("garbage xyz", None),
    ("", None),
    (None, None),
    (True, None),
    ("2026-13-45", None),
    ({"not": "a date"}, None),
]


@pytest.mark.parametrize(("value", "expected"), CASES, ids=[repr(v)[:40] for v, _ in CASES])
def test_parse_date(value: object, expected: datetime | None) -> None:
    parsed = parse_date(value, now=NOW)
    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() == timedelta(0)


def test_naive_datetime_is_utc() -> None:
    assert parse_date(datetime(2026, 1, 1, 12), now=NOW) == datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_posted_in_the_far_future_is_refused() -> None:
    assert parse_posted("2026-11-21", NOW) == datetime(2026, 11, 21, tzinfo=UTC)
    assert parse_posted("2026-12-30", NOW) is None
    assert parse_posted("not a date", NOW) is None


def test_valid_through_date_only_means_end_of_day() -> None:
    end = parse_valid_through("2026-12-30", NOW)
    assert end == datetime(2026, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)
    assert parse_valid_through("2017-03-18T00:00", NOW) == datetime(2017, 3, 18, tzinfo=UTC)
    assert parse_valid_through(None, NOW) is None
