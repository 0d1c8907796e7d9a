"""Source shapes the spiders convert into the common fields (moved here from the pipeline's tables):
salaries of Himalayas, Lever, Ashby, Greenhouse, JSON-LD and flat objects; Workday's relative dates
and location codes. Each row goes through the spider's converter, then the pipeline's reader."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from pipeline.dates import parse_posted
from pipeline.location import parse_location
from pipeline.salary import read_salary
from spiders.ashby import salary_of as ashby_salary
from spiders.ashby import salary_text_of as ashby_text
from spiders.fields import monetary_amount, period_of, salary_from_fields
from spiders.greenhouse import pay_input_salary
from spiders.himalayas import salary_of as himalayas_salary
from spiders.lever import salary_range
from spiders.workday import location_text, posted_date


def lever_posting(data: dict[str, Any]) -> dict[str, Any] | None:
    return salary_range(data.get("salaryRange", data))


def greenhouse_job(data: dict[str, Any]) -> dict[str, Any] | None:
    return pay_input_salary(data.get("pay_input_ranges", data))


# (converter, source shape, currency hint) → (min, max, currency, period) or None
CASES: list[tuple[Callable[[Any], Any], dict[str, Any], str | None, tuple | None]] = [
    # --- Himalayas ---
    (
        himalayas_salary,
        {"minSalary": 15, "maxSalary": 30, "currency": "USD", "salaryPeriod": "hourly"},
        None,
        (15, 30, "USD", "hour"),
    ),
    (
        himalayas_salary,
        {"minSalary": 100000, "maxSalary": 115000, "currency": "USD", "salaryPeriod": "annual"},
        None,
        (100000, 115000, "USD", "year"),
    ),
    (
        himalayas_salary,
        {"minSalary": 5000, "maxSalary": 6000, "currency": "EUR", "salaryPeriod": "monthly"},
        None,
        (5000, 6000, "EUR", "month"),
    ),
    (
        himalayas_salary,
        {"minSalary": None, "maxSalary": None, "currency": None, "salaryPeriod": "annual"},
        None,
        None,
    ),
    # --- Lever salaryRange ---
    (
        lever_posting,
        {
            "salaryRange": {
                "currency": "usd",
                "interval": "per-year-salary",
                "min": 95000.0,
                "max": 120000.0,
            }
        },
        None,
        (95000, 120000, "USD", "year"),
    ),
    (
        lever_posting,
        {"currency": "USD", "interval": "per-hour-wage", "min": 28.5, "max": 34.0},
        None,
        (28.5, 34, "USD", "hour"),
    ),
    (
        lever_posting,
        {"currency": "EUR", "interval": "per-month-salary", "min": 4000, "max": 5000},
        None,
        (4000, 5000, "EUR", "month"),
    ),
    # --- Greenhouse pay_input_ranges (cents) ---
    (
        greenhouse_job,
        {
            "pay_input_ranges": [
                {
                    "min_cents": 9000000,
                    "max_cents": 12000000,
                    "currency_type": "USD",
                    "title": "US base pay",
                }
            ]
        },
        None,
        (90000, 120000, "USD", "year"),
    ),
    (
        greenhouse_job,
        {"min_cents": 3500, "max_cents": 4200, "currency_type": "USD"},
        None,
        (35, 42, "USD", "hour"),
    ),
    # --- JSON-LD baseSalary ---
    (
        monetary_amount,
        {
            "@type": "MonetaryAmount",
            "currency": "USD",
            "value": {"@type": "QuantitativeValue", "value": 40.00, "unitText": "HOUR"},
        },
        None,
        (40, 40, "USD", "hour"),
    ),
    (
        monetary_amount,
        {
            "baseSalary": {
                "@type": "MonetaryAmount",
                "currency": "USD",
                "value": {
                    "@type": "QuantitativeValue",
                    "minValue": "$100,000",
                    "maxValue": "$120,000",
                    "unitText": "YEAR",
                },
            }
        },
        None,
        (100000, 120000, "USD", "year"),
    ),
    (
        monetary_amount,
        {
            "@type": "MonetaryAmount",
            "currency": "EUR",
            "value": {
                "@type": "QuantitativeValue",
                "minValue": 3800,
                "maxValue": 4400,
                "unitText": "MONTH",
            },
        },
        None,
        (3800, 4400, "EUR", "month"),
    ),
    (
        monetary_amount,
        {"@type": "MonetaryAmount", "value": {"@type": "QuantitativeValue", "value": "$100,000"}},
        None,
        (100000, 100000, "USD", "year"),
    ),
    # --- flat objects with other key names (USAJOBS-style remuneration, Recruitee) ---
    (
        salary_from_fields,
        {"MinimumRange": "65000.0", "MaximumRange": "85000.0", "RateIntervalCode": "PA"},
        "USD",
        (65000, 85000, "USD", "year"),
    ),
    (
        salary_from_fields,
        {"min": "50000", "max": "60000", "period": "year", "currency": "EUR"},
        None,
        (50000, 60000, "EUR", "year"),
    ),
]


@pytest.mark.parametrize(("convert", "shape", "hint", "expected"), CASES)
def test_source_salary_shapes(convert, shape, hint, expected):
    salary = read_salary(convert(shape), None, currency_hint=hint)
    if expected is None:
        assert salary is None
        return
    assert salary is not None
    assert (salary.min, salary.max, salary.currency, salary.period) == pytest.approx(expected)


# Ashby: the compensation object, read with its summary text as the pipeline gets both.
ASHBY_CASES: list[tuple[dict[str, Any], tuple | None]] = [
    (
        {
            "compensationTierSummary": "CA$102.8K – CA$137K",
            "summaryComponents": [
                {
                    "compensationType": "EquityPercentage",
                    "interval": "NONE",
                    "currencyCode": None,
                    "minValue": 0.1,
                    "maxValue": 0.5,
                },
                {
                    "compensationType": "Salary",
                    "interval": "1 YEAR",
                    "currencyCode": "CAD",
                    "minValue": 102800,
                    "maxValue": 137000,
                },
            ],
        },
        (102800, 137000, "CAD", "year"),
    ),
    (
        {
            "compensationTierSummary": None,
            "scrapeableCompensationSalarySummary": None,
            "compensationTiers": [],
            "summaryComponents": [],
        },
        None,
    ),
    (
        {"scrapeableCompensationSalarySummary": "$60K - $75K", "summaryComponents": []},
        (60000, 75000, "USD", "year"),
    ),
    (
        {
            "compensationTiers": [
                {
                    "components": [
                        {
                            "compensationType": "Salary",
                            "interval": "1 HOUR",
                            "currencyCode": "USD",
                            "minValue": 31,
                            "maxValue": 36,
                        }
                    ]
                }
            ]
        },
        (31, 36, "USD", "hour"),
    ),
]


@pytest.mark.parametrize(("compensation", "expected"), ASHBY_CASES)
def test_ashby_compensation(compensation, expected):
    salary = read_salary(ashby_salary(compensation), ashby_text(compensation))
    if expected is None:
        assert salary is None
        return
    assert salary is not None
    assert (salary.min, salary.max, salary.currency, salary.period) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("word", "period"),
    [
        ("hourly", "hour"),
        ("per-hour-wage", "hour"),
        ("1 YEAR", "year"),
        ("HOUR", "hour"),
        ("PA", "year"),
        ("per-month-salary", "month"),
        ("annual", "year"),
        ("biweekly", None),
        ("NONE", None),
        ("", None),
        (None, None),
    ],
)
def test_period_words(word, period):
    assert period_of(word) == period


# --- Workday: relative posting dates and location codes ----------------------------------------

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Posted Today", datetime(2026, 11, 20, tzinfo=UTC)),
        ("Posted Yesterday", datetime(2026, 11, 19, tzinfo=UTC)),
        ("Posted 4 Days Ago", datetime(2026, 11, 16, tzinfo=UTC)),
        ("Posted 30+ Days Ago", datetime(2026, 10, 21, tzinfo=UTC)),
        ("2026-11-02", datetime(2026, 11, 2, tzinfo=UTC)),
    ],
)
def test_workday_relative_dates(value, expected):
    assert parse_posted(posted_date(value, NOW), NOW) == expected


def test_workday_location_codes():
    assert location_text("US-MI-Detroit") == "Detroit, MI, US"
    place = parse_location([location_text("US-MI-Detroit")], None)
    assert (place.city, place.region, place.country) == ("Detroit", "US-MI", "US")
    assert location_text("Kocaeli, Turkey") == "Kocaeli, Turkey"
