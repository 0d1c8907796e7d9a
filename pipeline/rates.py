"""Dated currency table: converts salary amounts to USD for filtering and sorting.

Source: the European Central Bank's euro foreign exchange reference rates of **2026-10-06**
(the daily ``eurofxref-daily.xml`` feed, "EUR 1 = x units"), transcribed from a recorded copy
of that day's feed; nothing is fetched at run time. USD per unit is derived as
``EUR_PER[USD] / EUR_PER[X]``. The ECB publishes reference rates "for information purposes
only": that is all we need, since annual USD figures only rank and filter postings — the
posting keeps its own currency and amounts. Refresh by pasting a newer day's feed values here
and changing ``RATES_DATE``.
"""

from __future__ import annotations

RATES_DATE = "2026-10-06"
RATES_SOURCE = "ECB euro foreign exchange reference rates (eurofxref-daily), 2026-10-06"

# Units of each currency per 1 EUR, as the ECB publishes them.
EUR_PER: dict[str, float] = {
    "EUR": 1.0,
    "USD": 1.1269,
    "JPY": 178.15,
    "CZK": 24.405,
    "DKK": 7.4747,
    "GBP": 0.84880,
    "HUF": 364.95,
    "PLN": 4.3650,
    "RON": 5.3510,
    "SEK": 11.2425,
    "CHF": 0.9359,
    "ISK": 137.20,
    "NOK": 10.7780,
    "TRY": 55.4196,
    "AUD": 1.6140,
    "BRL": 5.5991,
    "CAD": 1.6058,
    "CNY": 7.5554,
    "HKD": 8.8438,
    "IDR": 20104.80,
    "ILS": 3.4348,
    "INR": 108.6615,
    "KRW": 1508.67,
    "MXN": 20.2217,
    "MYR": 4.6034,
    "NZD": 2.0061,
    "PHP": 70.702,
    "SGD": 1.4392,
    "THB": 37.836,
    "ZAR": 18.5829,
}

# USD value of one unit of each currency.
USD_PER_UNIT: dict[str, float] = {code: EUR_PER["USD"] / per for code, per in EUR_PER.items()}


def to_usd(amount: float | None, currency: str | None) -> float | None:
    """Convert an amount to USD with the dated table; None when either is unknown."""
    if amount is None or not currency:
        return None
    rate = USD_PER_UNIT.get(currency.upper())
    return None if rate is None else amount * rate
