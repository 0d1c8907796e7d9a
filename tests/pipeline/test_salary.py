"""Salary parsing: a table of structured and text inputs with their expected readings."""

from __future__ import annotations

import pytest

from pipeline.rates import EUR_PER, RATES_DATE, USD_PER_UNIT, to_usd
from pipeline.salary import is_plausible, parse_salary, read_salary

# (structured, text, currency hint) → (min, max, currency, period) or None
CASES: list[tuple[dict | None, str | None, str | None, tuple | None]] = [
    # --- text ---
    (None, "$38/hr", None, (38, 38, "USD", "hour")),
    (None, "$28/hr to $34/hr", None, (28, 34, "USD", "hour")),
    (None, "$90k per year - $110k per year", None, (90000, 110000, "USD", "year")),
    (None, "$95,000 - $115,000 per year", None, (95000, 115000, "USD", "year")),
    (None, "€4.500 brutto/Monat", None, (4500, 4500, "EUR", "month")),
    (None, "90k–110k", "USD", (90000, 110000, "USD", "year")),
    (None, "90k–110k", None, (90000, 110000, None, "year")),
    (None, "$120k–$150k", None, (120000, 150000, "USD", "year")),
    (None, "£45k", None, (45000, 45000, "GBP", "year")),
    (None, "USD 80,000-100,000 annually", None, (80000, 100000, "USD", "year")),
    (None, "2 openings, $90,000", None, (90000, 90000, "USD", "year")),
    (None, "up to $60/hour", None, (None, 60, "USD", "hour")),
    (None, "DOE", None, None),
    (None, "Competitive salary", "USD", None),
    (None, "", None, None),
    (None, "€60.000 - €70.000 p.a.", None, (60000, 70000, "EUR", "year")),
    (None, "1.234,56 € pro Monat", None, (1234.56, 1234.56, "EUR", "month")),
    (None, "$25.50 - $30.00 an hour + 10% bonus", None, (25.5, 30, "USD", "hour")),
    (None, "$90-110k", None, (90000, 110000, "USD", "year")),
    (None, "from $50,000 a year", None, (50000, None, "USD", "year")),
    (None, "$5,000/mo", None, (5000, 5000, "USD", "month")),
    (None, "50 000 SEK per month", None, (50000, 50000, "SEK", "month")),
    (None, "CA$102.8K - CA$137K", None, (102800, 137000, "CAD", "year")),
    (None, "$85,000 to $95,000", "CAD", (85000, 95000, "CAD", "year")),
    (None, "₹12,00,000 per annum", None, (1200000, 1200000, "INR", "year")),
    (None, "45.000 - 55.000 EUR jährlich", None, (45000, 55000, "EUR", "year")),
    (None, "CHF 8'000 pro Monat", None, (8000, 8000, "CHF", "month")),
    (None, "$22 - $26 per hour, 3 shifts", None, (22, 26, "USD", "hour")),
    (None, "Pay: $70,000.00 - $85,000.00 per year", None, (70000, 85000, "USD", "year")),
    (None, "$110,000 - $95,000", None, (95000, 110000, "USD", "year")),
    (None, "$18", None, (18, 18, "USD", "hour")),
    (None, "4500 EUR", None, (4500, 4500, "EUR", "month")),
    (None, "$1.2M", None, (1200000, 1200000, "USD", "year")),
    (None, "$300/day", None, (300, 300, "USD", "day")),
    (None, "$1,500 per week", None, (1500, 1500, "USD", "week")),
    (None, "65000", "EUR", (65000, 65000, "EUR", "year")),
    (None, "30-35 zł/h", None, (30, 35, "PLN", "hour")),
    # --- the common structured shape spiders emit (source shapes: tests/spiders/test_fields.py) ---
    (
        {"min": 15, "max": 30, "currency": "USD", "period": "hour"},
        None,
        None,
        (15, 30, "USD", "hour"),
    ),
    (
        {"min": 5000, "max": 6000, "currency": "EUR", "period": "month"},
        None,
        None,
        (5000, 6000, "EUR", "month"),
    ),
    ({"min": None, "max": None, "currency": None, "period": "year"}, None, None, None),
    ({"min": "$100,000", "max": "$120,000"}, None, None, (100000, 120000, "USD", "year")),
    (
        {"min": 35, "max": 42, "currency": "USD", "period": None},
        None,
        None,
        (35, 42, "USD", "hour"),
    ),
    # --- other structured shapes ---
    (
        {"min": "50000", "max": "60000", "period": "year", "currency": "EUR"},
        None,
        None,
        (50000, 60000, "EUR", "year"),
    ),
    (
        {"min": "65000.0", "max": "85000.0", "period": "PA"},
        None,
        "USD",
        (65000, 85000, "USD", "year"),
    ),
    # structured without currency borrows it from the text
    ({"min": 4000, "max": 4500}, "4.000 - 4.500 € monatlich", None, (4000, 4500, "EUR", "month")),
]


def _ids() -> list[str]:
    return [str(text or structured)[:40] for structured, text, _, _ in CASES]


@pytest.mark.parametrize(("structured", "text", "hint", "expected"), CASES, ids=_ids())
def test_salary_table(
    structured: dict | None, text: str | None, hint: str | None, expected: tuple | None
) -> None:
    salary = read_salary(structured, text, currency_hint=hint)
    if expected is None:
        assert salary is None
        return
    assert salary is not None
    assert (salary.min, salary.max, salary.currency, salary.period) == pytest.approx(expected)


def test_table_is_big_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize(
    ("text", "annual_min", "annual_max"),
    [
        ("$38/hr", 38 * 2080, 38 * 2080),
        ("$300/day", 300 * 260, 300 * 260),
        ("$1,500 per week", 1500 * 52, 1500 * 52),
        ("$5,000/mo", 60000, 60000),
        ("$95,000 - $115,000 per year", 95000, 115000),
    ],
)
def test_annualised_in_usd(text: str, annual_min: float, annual_max: float) -> None:
    salary = parse_salary(None, text)
    assert salary is not None
    assert salary.annual_min_usd == pytest.approx(annual_min)
    assert salary.annual_max_usd == pytest.approx(annual_max)


def test_other_currencies_convert_with_the_dated_table() -> None:
    salary = parse_salary(None, "€4.500 brutto/Monat")
    assert salary is not None
    assert salary.annual_min_usd == pytest.approx(4500 * 12 * EUR_PER["USD"])
    assert RATES_DATE == "2026-10-06"
    for code in ("USD", "EUR", "GBP", "CAD", "AUD", "CHF", "JPY", "INR", "MXN", "PLN", "CZK",
                 "SEK", "NOK", "DKK", "CNY", "BRL", "TRY", "SGD", "ZAR", "HUF", "RON", "NZD"):  # fmt: skip
        assert USD_PER_UNIT[code] > 0
    assert to_usd(100, "USD") == 100


def test_unknown_currency_keeps_the_salary_without_usd() -> None:
    salary = parse_salary({"min": 50000, "max": 60000, "currency": "XYZ", "period": "year"}, None)
    assert salary is not None
    assert salary.currency == "XYZ"
    assert salary.annual_min_usd is None
    assert salary.annual_max_usd is None


@pytest.mark.parametrize(
    ("structured", "text"),
    [
        (None, "$2/hr"),  # 4,160 a year
        (None, "$5,000,000 per year"),
        ({"min": 1, "max": 200000, "currency": "USD", "period": "year"}, None),
        ({"min": -100, "max": 100, "currency": "USD", "period": "hour"}, None),
        ({"min": 0, "max": 0, "currency": "USD", "period": "year"}, None),
    ],
)
def test_absurd_values_are_read_but_not_plausible(
    structured: dict | None, text: str | None
) -> None:
    salary = read_salary(structured, text)
    assert salary is not None
    assert not is_plausible(salary)
    assert parse_salary(structured, text) is None


def test_structured_wins_over_text() -> None:
    salary = parse_salary(
        {"min": 100000, "max": 120000, "currency": "USD", "period": "year"},
        "$50/hour",
    )
    assert salary is not None
    assert (salary.min, salary.period) == (100000, "year")
