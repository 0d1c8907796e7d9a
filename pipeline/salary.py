"""Salary parsing: structured source fields and free text → min, max, currency, period, annual USD.

Structured salaries come in one shape (`read_structured`), the one spiders emit after converting
their source's own: {min, max, currency, period}; amounts may be strings such as "$100,000".

Text (`read_text`) is read by our own range parser (price-parser reads "$120k–$150k" as 120):
amounts with currency symbols or codes, k/m suffixes, US and European separators, ranges
joined by -, –, to, bis, and; "up to X" gives a maximum only, "from X" a minimum only. A bare
number next to a currency-marked one is ignored ("2 openings, $90,000" → 90,000).

Period, when no word says it (hour/hr/hourly/Stunde, day, week, month/mo/Monat/mois,
year/yr/annual/p.a./jährlich), is inferred from the magnitude of the larger amount in USD:
below 300 → hour, below 10,000 → month, else year. Day and week are never guessed: a bare
day rate of 500 is read as a month, which is the rarer mistake for plant jobs. Annualised with
2080 hours, 260 days, 52 weeks, 12 months; converted with the dated table in `pipeline.rates`.

`parse_salary` returns None for nothing usable and for absurd values (annual USD outside
5,000–2,000,000, non-positive amounts, or max more than 20× min); `read_salary` and
`is_plausible` let a caller tell the two apart and count them.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from pipeline.rates import to_usd

PERIODS_PER_YEAR: dict[str, int] = {"hour": 2080, "day": 260, "week": 52, "month": 12, "year": 1}

MIN_ANNUAL_USD = 5_000
MAX_ANNUAL_USD = 2_000_000
MAX_RANGE_RATIO = 20


@dataclass(frozen=True)
class Salary:
    """A salary as posted, plus its annual value in USD (None when the currency is unknown)."""

    min: float | None
    max: float | None
    currency: str | None  # ISO 4217
    period: str  # hour | day | week | month | year
    annual_min_usd: float | None
    annual_max_usd: float | None


# --- currencies -------------------------------------------------------------------------------

# Symbols and codes as written in postings → ISO 4217. "$", "¥" and "kr" are ambiguous and
# resolved with the caller's hint (usually the posting country's currency).
_SYMBOLS: dict[str, str] = {
    "us$": "USD", "usd": "USD", "ca$": "CAD", "c$": "CAD", "cad": "CAD", "au$": "AUD",
    "a$": "AUD", "aud": "AUD", "nz$": "NZD", "nzd": "NZD", "s$": "SGD", "sgd": "SGD",
    "r$": "BRL", "brl": "BRL", "hk$": "HKD", "hkd": "HKD", "mx$": "MXN", "mxn": "MXN",
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "£": "GBP", "gbp": "GBP",
    "jpy": "JPY", "cny": "CNY", "rmb": "CNY", "₹": "INR", "inr": "INR", "rs.": "INR",
    "rs": "INR", "₺": "TRY", "try": "TRY", "tl": "TRY", "chf": "CHF", "pln": "PLN", "zł": "PLN",
    "zl": "PLN", "czk": "CZK", "kč": "CZK", "sek": "SEK", "nok": "NOK", "dkk": "DKK",
    "huf": "HUF", "ft": "HUF", "ron": "RON", "lei": "RON", "zar": "ZAR",
    "$": "$", "¥": "¥", "kr": "kr", "kr.": "kr",
}  # fmt: skip
_DOLLAR_HINTS = frozenset({"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"})
_KRONA_HINTS = frozenset({"SEK", "NOK", "DKK", "ISK"})
_ISO_CODE = re.compile(r"^[A-Za-z]{3}$")


def _resolve_currency(raw: str | None, hint: str | None) -> str | None:
    """Map a symbol or code to ISO 4217, using the hint for "$", "¥" and "kr"."""
    if not raw:
        return None
    hint = hint.upper() if hint else None
    code = _SYMBOLS.get(raw.strip().lower())
    if code is None:
        return raw.strip().upper() if _ISO_CODE.match(raw.strip()) else None
    if code == "$":
        return hint if hint in _DOLLAR_HINTS else "USD"
    if code == "¥":
        return "CNY" if hint == "CNY" else "JPY"
    if code == "kr":
        return hint if hint in _KRONA_HINTS else None
    return code


# --- periods ----------------------------------------------------------------------------------

_PERIOD_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "hour",
        re.compile(
            r"hourly|\bper[- ]hour|\b(?:an|a|per|each)\s+hour\b|/\s*h(?:ou)?r?\b|\bhrs?\b|"
            r"\bhour\b|\bstunde\b|\bstd\b|stündlich|\bheure\b|\bph\b",
            re.IGNORECASE,
        ),
    ),
    ("day", re.compile(r"\bdaily\b|\bper[- ]?day\b|/\s*day\b|\bday\b|\btag\b|\bjour\b", re.I)),
    ("week", re.compile(r"\bweekly\b|\bweek\b|/\s*wk\b|\bwoche\b|wöchentlich|\bsemaine\b", re.I)),
    (
        "month",
        re.compile(
            r"\bmonthly\b|\bmonths?\b|/\s*mo\b|/\s*mth\b|\bpm\b|\bmonat\w*|\bmois\b|"
            r"\bmensuel\w*|\bmes\b|\bmensual\b|miesięcznie|\bmsc\b",
            re.IGNORECASE,
        ),
    ),
    (
        "year",
        re.compile(
            r"\byearly\b|\byears?\b|\bannual\w*|\bannum\b|\byr\b|/\s*y\b|\bp\.\s?a\.?(?!\w)|"
            r"\bpa\b|\bjahr\w*|jährlich|\bpar an\b|\bannuel\w*|\baño\b|\bano\b|rocznie",
            re.IGNORECASE,
        ),
    ),
]
# Exact codes a structured period may still carry.
_PERIOD_CODES: dict[str, str] = {
    "ph": "hour", "pd": "day", "pw": "week", "pm": "month", "pa": "year", "py": "year",
    "hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month", "annual": "year",
    "annually": "year", "yearly": "year",
}  # fmt: skip


def _period_in(text: str, start: int = 0) -> str | None:
    """The period word found earliest at or after `start` (else anywhere) in the text."""
    best: tuple[int, str] | None = None
    fallback: tuple[int, str] | None = None
    for period, pattern in _PERIOD_PATTERNS:
        for m in pattern.finditer(text):
            if m.start() >= start:
                if best is None or m.start() < best[0]:
                    best = (m.start(), period)
                break
            if fallback is None or m.start() < fallback[0]:
                fallback = (m.start(), period)
    chosen = best or fallback
    return chosen[1] if chosen else None


def period_from_word(raw: Any) -> str | None:
    """Normalize a structured period field ("annual", "per-hour-wage", "1 YEAR", "HOUR")."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    word = raw.strip().lower()
    if word in _PERIOD_CODES:
        return _PERIOD_CODES[word]
    if word in PERIODS_PER_YEAR:
        return word
    if word in {"biweekly", "bw", "semimonthly", "one-time", "pw piece work"}:
        return None  # no exact period of ours; let magnitude decide
    return _period_in(word)


def infer_period(amount: float, currency: str | None) -> str:
    """Guess a period from magnitude: < 300 USD → hour, < 10,000 → month, else year."""
    usd = to_usd(amount, currency)
    value = usd if usd is not None else amount
    if value < 300:
        return "hour"
    if value < 10_000:
        return "month"
    return "year"


# --- amounts in text --------------------------------------------------------------------------

_CUR_ALTERNATION = "|".join(
    re.escape(s) for s in sorted(_SYMBOLS, key=len, reverse=True) if not s.isalpha()
)
_CUR_WORDS = "|".join(sorted((s for s in _SYMBOLS if s.isalpha()), key=len, reverse=True))
_CUR = rf"(?:{_CUR_ALTERNATION}|\b(?:{_CUR_WORDS})\b)"
_NUM = r"\d{1,2}(?:,\d{2})+,\d{3}(?!\d)|\d{1,3}(?:[,.\u00a0\u202f' ]\d{3})+(?:[.,]\d{1,2})?(?!\d)|\d+(?:[.,]\d{1,2})?(?!\d)"
_AMOUNT = re.compile(
    rf"(?P<pre>{_CUR})?\s?(?P<num>{_NUM})"
    r"(?:\s?(?P<suf>k|tsd\.?|thousand)(?![a-z])|(?P<mil>m|mio\.?|million)(?![a-z]))?"
    rf"(?:\s?(?P<post>{_CUR}))?",
    re.IGNORECASE,
)
_RANGE_GAP = re.compile(
    # the low end may repeat the unit: "$28/hr to $34/hr", "$90k per year - $110k per year"
    r"^\s*(?:(?:/|per)\s*(?:hr|hour|h|yr|year|annum|mo|month|wk|week|day|std|stunde|monat)\.?\s*)?"
    r"(?:-|–|—|~|to|bis|à|a|and|und|et|through)\s*$|^\s*-{1,2}\s*$",
    re.IGNORECASE,
)
# A bare number followed by these is a count, not money.
_NOT_MONEY_AFTER = re.compile(
    r"^\s*(?:\+\s*)?(?:%|percent|openings?|positions?|roles?|years?|yrs?|months?|weeks?|days?|"
    r"hours?|hrs?|people|employees|shifts?|persons?|vacanc\w*|stellen|jahre)\b|^\s*%",
    re.IGNORECASE,
)
_UP_TO = re.compile(r"(?:up\s+to|max(?:imum)?\.?|bis\s+zu|jusqu'à|no\s+more\s+than)\s*$", re.I)
_FROM = re.compile(
    r"(?:from|starting\s+(?:at|from)|min(?:imum)?\.?|at\s+least|ab|à\s+partir\s+de)\s*$", re.I
)
_LAST_DECIMALS = re.compile(r"[.,](\d{1,2})$")
_SEPARATORS = re.compile(r"[,.\u00a0\u202f' ]")


def _to_number(raw: str) -> float:
    """'95,000' → 95000, '4.500' → 4500, '38.50' → 38.5, '1.234,56' → 1234.56."""
    m = _LAST_DECIMALS.search(raw)
    if m:
        whole = _SEPARATORS.sub("", raw[: m.start()])
        return float(f"{whole}.{m.group(1)}")
    return float(_SEPARATORS.sub("", raw))


@dataclass
class _Amount:
    start: int
    end: int
    raw: float
    multiplier: int
    currency: str | None  # raw symbol or code, resolved later
    excluded: bool

    @property
    def value(self) -> float:
        return self.raw * self.multiplier

    @property
    def marked(self) -> bool:
        return self.currency is not None or self.multiplier != 1


def _amounts(text: str) -> list[_Amount]:
    found: list[_Amount] = []
    for m in _AMOUNT.finditer(text):
        multiplier = 1000 if m.group("suf") else 1_000_000 if m.group("mil") else 1
        currency = m.group("pre") or m.group("post")
        excluded = currency is None and bool(_NOT_MONEY_AFTER.match(text[m.end() :]))
        found.append(
            _Amount(m.start(), m.end(), _to_number(m.group("num")), multiplier, currency, excluded)
        )
    return found


@dataclass(frozen=True)
class _Raw:
    """Amounts as read, before period inference and conversion."""

    min: float | None
    max: float | None
    currency: str | None
    period: str | None


def read_text(text: str | None, *, currency_hint: str | None = None) -> _Raw | None:
    """Read the first amount or range from salary text; None when there is none."""
    if not text or not any(c.isdigit() for c in text):
        return None
    amounts = [a for a in _amounts(text) if not a.excluded]
    if not amounts:
        return None
    if any(a.marked for a in amounts):
        # Keep marked amounts and the bare partners of a range with a marked amount.
        keep = []
        for i, a in enumerate(amounts):
            neighbours = amounts[max(0, i - 1) : i] + amounts[i + 1 : i + 2]
            partner = any(
                n.marked and _RANGE_GAP.match(text[min(a.end, n.end) : max(a.start, n.start)])
                for n in neighbours
            )
            if a.marked or partner:
                keep.append(a)
        amounts = keep
    low: _Amount | None = None
    high: _Amount | None = None
    for first, second in itertools.pairwise(amounts):
        if _RANGE_GAP.match(text[first.end : second.start]):
            low, high = first, second
            break
    if low is not None and high is not None:
        if low.multiplier == 1 and high.multiplier != 1 and low.raw < 1000:
            low.multiplier = high.multiplier  # "90–110k"
        currency = low.currency or high.currency
        lo, hi = low.value, high.value
        start = low.start
    else:
        only = amounts[0]
        currency, start = only.currency, only.start
        before = text[: only.start]
        lo = hi = only.value
        if _UP_TO.search(before):
            lo = None
        elif _FROM.search(before):
            hi = None
    if currency is None:
        # A currency word elsewhere in the text ("Salary (EUR): 50.000 - 60.000").
        m = re.search(_CUR, text, re.IGNORECASE)
        currency = m.group(0) if m else None
    resolved = _resolve_currency(currency, currency_hint) if currency else None
    if resolved is None and currency is None and currency_hint:
        resolved = currency_hint.upper()
    return _Raw(lo, hi, resolved, _period_in(text, start))


# --- the structured shape -------------------------------------------------------------------


def _number(value: Any, hint: str | None) -> tuple[float | None, str | None]:
    """A number from a structured field; strings like "$100,000" also yield their currency."""
    if isinstance(value, bool):
        return None, None
    if isinstance(value, int | float):
        return float(value), None
    if isinstance(value, str):
        raw = read_text(value, currency_hint=None)
        if raw is not None:
            number = raw.min if raw.min is not None else raw.max
            symbol = re.search(_CUR, value, re.IGNORECASE)
            return number, _resolve_currency(symbol.group(0), hint) if symbol else None
    return None, None


def read_structured(
    data: dict[str, Any] | None, *, currency_hint: str | None = None
) -> _Raw | None:
    """Read the structured salary {min, max, currency, period} (see the module docstring)."""
    if not isinstance(data, dict) or not data:
        return None
    currency_field = data.get("currency")
    currency = (
        _resolve_currency(currency_field, currency_hint)
        if isinstance(currency_field, str) and currency_field.strip()
        else None
    )
    lo, lo_cur = _number(data.get("min"), currency_hint)
    hi, hi_cur = _number(data.get("max"), currency_hint)
    if lo is None and hi is None:
        return None
    return _Raw(lo, hi, currency or lo_cur or hi_cur, period_from_word(data.get("period")))


# --- assembling -------------------------------------------------------------------------------


def _annual_usd(amount: float | None, currency: str | None, period: str) -> float | None:
    if amount is None:
        return None
    return to_usd(amount * PERIODS_PER_YEAR[period], currency)


def read_salary(
    structured: dict[str, Any] | None,
    text: str | None,
    *,
    currency_hint: str | None = None,
) -> Salary | None:
    """Read a salary without judging it: structured fields first, then text."""
    raw = read_structured(structured, currency_hint=currency_hint)
    from_text = read_text(text, currency_hint=currency_hint) if text else None
    if raw is None:
        raw = from_text
    elif from_text is not None:
        # Structured amounts win; text may still carry the currency or period they lack.
        raw = _Raw(
            raw.min, raw.max, raw.currency or from_text.currency, raw.period or from_text.period
        )
    if raw is None or (raw.min is None and raw.max is None):
        return None
    lo, hi = raw.min, raw.max
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    currency = raw.currency or (currency_hint.upper() if currency_hint else None)
    reference = hi if hi is not None else lo
    assert reference is not None
    period = raw.period or infer_period(reference, currency)
    return Salary(
        min=lo,
        max=hi,
        currency=currency,
        period=period,
        annual_min_usd=_annual_usd(lo, currency, period),
        annual_max_usd=_annual_usd(hi, currency, period),
    )


def is_plausible(salary: Salary) -> bool:
    """False for values no real posting has: see the module docstring for the bounds."""
    values = [v for v in (salary.min, salary.max) if v is not None]
    if not values or any(v <= 0 for v in values):
        return False
    lo, hi = salary.min, salary.max
    if lo is not None and hi is not None and (lo > hi or hi > lo * MAX_RANGE_RATIO):
        return False
    annual = [v for v in (salary.annual_min_usd, salary.annual_max_usd) if v is not None]
    return all(MIN_ANNUAL_USD <= v <= MAX_ANNUAL_USD for v in annual)


def parse_salary(
    structured: dict[str, Any] | None,
    text: str | None,
    *,
    currency_hint: str | None = None,
) -> Salary | None:
    """Parse a salary; None when there is none or it is absurd (see `is_plausible`)."""
    salary = read_salary(structured, text, currency_hint=currency_hint)
    if salary is None or not is_plausible(salary):
        return None
    return salary
