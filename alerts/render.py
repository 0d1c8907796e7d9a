"""Render digests, confirmations and operator alerts from the Jinja2 templates in templates/email."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from jinja2.ext import Extension

from alerts.message import sanitize_header

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
BASE_TEMPLATE = "email/base.html"

SUBJECT_NAME_MAX = 60
SUBJECT_MAX = 140

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


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """A rendered email: header-safe subject, plain text, and HTML with CSS inlined (or None)."""

    subject: str
    text: str
    html: str | None = None


@dataclass(slots=True)
class DigestJob:
    """One posting as a digest shows it (values from the listing contract, plus why it matched)."""

    posting_id: int
    title: str
    company: str
    url: str | None
    location_text: str | None = None
    workplace: str | None = None
    salary: Mapping[str, Any] | None = None  # the listing contract's salary object
    seniority: str | None = None
    posted_at: datetime | date | str | None = None
    attribution: str | None = None  # e.g. "Himalayas", where a source's terms ask for credit
    source_url: str | None = None
    why: str = ""
    market_pay: int | None = None
    market_label: str | None = None

    @classmethod
    def from_listing(
        cls,
        listing: Mapping[str, Any],
        *,
        why: str,
        attribution: str | None = None,
        source_url: str | None = None,
        market_table: Mapping[str, Any] | None = None,
    ) -> DigestJob:
        """Build from one element of the listing contract (`andon listings --format json`)."""
        location = listing.get("location") or {}
        pay, label = market_figure(market_table, listing.get("seniority"))
        return cls(
            posting_id=listing["id"],
            title=listing["title"],
            company=listing["company"],
            url=listing.get("url") or listing.get("apply_url"),
            location_text=location.get("text"),
            workplace=listing.get("workplace"),
            salary=listing.get("salary"),
            seniority=listing.get("seniority"),
            posted_at=listing.get("posted_at"),
            attribution=attribution,
            source_url=source_url,
            why=why,
            market_pay=pay,
            market_label=label,
        )


@dataclass(slots=True)
class DigestContext:
    """Everything one digest email shows; the counts are ours, the names are user text."""

    to_email: str
    subscriber_name: str | None
    search_name: str
    cadence: str  # daily | weekly
    jobs: Sequence[DigestJob]
    total_matches: int
    more_url: str
    manage_url: str
    unsubscribe_url: str
    feed_url: str | None
    postal_address: str
    period_label: str = ""  # e.g. "since Monday, Nov 23"


def market_figure(
    market_table: Mapping[str, Any] | None, seniority: str | None
) -> tuple[int | None, str | None]:
    """The dated market pay for a career level, and the line that shows it beside a salary."""
    if not market_table:
        return None, None
    key = seniority if seniority in SENIORITY_PLURALS else "all"
    amount = market_table.get(key)
    if not isinstance(amount, int | float):
        return None, None
    who = SENIORITY_PLURALS.get(seniority or "", "production managers")
    as_of = market_table.get("as_of")
    label = f"US median for {who}: ${amount:,.0f}" + (f" ({as_of})" if as_of else "")
    return int(amount), label


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
    lo = round(lo) if isinstance(lo, int | float) else None
    hi = round(hi) if isinstance(hi, int | float) else None
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


_UNSAFE_URL_CHARS = re.compile(r"[\x00-\x20\x7f]")


def safe_url(value: str | None) -> str:
    """The URL when it is absolute http(s), else '#': autoescape does not stop `javascript:`."""
    if not value or not isinstance(value, str):
        return "#"
    value = value.strip()
    # Browsers ignore tabs and newlines inside a scheme ("java\tscript:"), so refuse them outright.
    if _UNSAFE_URL_CHARS.search(value):
        return "#"
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
    return WORKPLACE_LABELS.get(value or "", oneline(value))


# --- CSS inlined once, when a template loads --------------------------------------------------

_JINJA_SYNTAX = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_COMMENT_PLACEHOLDER = re.compile(r"<!--andonjinja(\d+)x-->")
_TOKEN_PLACEHOLDER = re.compile(r"andonjinja(\d+)x")
_STYLE_BLOCK = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL | re.IGNORECASE)
# Elements whose text the HTML parser does not parse for comments.
_RAW_TEXT = re.compile(r"<(/?)(title|textarea|style|script)\b", re.IGNORECASE)


class InlineCssExtension(Extension):
    """Inlines base.html's <style> into every `email/*.html` template source as it loads.

    Jinja caches the compiled template, so the inliner runs once per template per process and
    a render is a plain Jinja render: no HTML parsing per email.
    """

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if not name or not name.startswith("email/") or not name.endswith(".html"):
            return source
        return inline_css_in_template(source, css=None if name == BASE_TEMPLATE else _base_css())


@functools.cache
def _inliner() -> css_inline.CSSInliner:
    # Remote stylesheets off: rendering never touches the network.
    return css_inline.CSSInliner(load_remote_stylesheets=False, keep_style_tags=False)


@functools.cache
def _base_css() -> str:
    source = (TEMPLATES_DIR / BASE_TEMPLATE).read_text(encoding="utf-8")
    return "\n".join(_STYLE_BLOCK.findall(source))


def inline_css_in_template(source: str, css: str | None) -> str:
    """Inline CSS into a Jinja HTML template source: its own <style> (css=None) or the given CSS.

    The Jinja syntax is swapped for placeholders the HTML parser keeps where they are: comments
    between elements (as text, a statement inside a <table> would be moved out of it), plain
    tokens inside tags and raw-text elements; then swapped back. A placeholder the parser lost,
    duplicated, moved or turned into an attribute name fails the load with ValueError.
    """
    originals: list[str] = []
    out: list[str] = []
    in_tag, raw_text = False, False
    pos = 0
    for match in _JINJA_SYNTAX.finditer(source):
        chunk = source[pos : match.start()]
        in_tag, raw_text = _html_state_after(chunk, in_tag, raw_text)
        n = len(originals)
        originals.append(match.group())
        placeholder = f"andonjinja{n}x" if in_tag or raw_text else f"<!--andonjinja{n}x-->"
        out += [chunk, placeholder]
        pos = match.end()
    out.append(source[pos:])
    protected = "".join(out)
    if css is None:
        inlined = _inliner().inline(protected)
    else:
        inlined = _inliner().inline_fragment(protected, css)
    comments = [int(n) for n in _COMMENT_PLACEHOLDER.findall(protected)]
    if (
        [int(n) for n in _COMMENT_PLACEHOLDER.findall(inlined)] != comments
        or sorted(int(n) for n in _TOKEN_PLACEHOLDER.findall(inlined))
        != list(range(len(originals)))
        or re.search(r"andonjinja\d+x=", inlined)
    ):
        raise ValueError(
            "CSS inlining moved Jinja syntax in an email template: keep Jinja tags out of "
            "attribute-name positions and out of <table> text"
        )
    inlined = _COMMENT_PLACEHOLDER.sub(lambda m: originals[int(m.group(1))], inlined)
    return _TOKEN_PLACEHOLDER.sub(lambda m: originals[int(m.group(1))], inlined)


def _html_state_after(html: str, in_tag: bool, raw_text: bool) -> tuple[bool, bool]:
    # Our templates keep '<' and '>' out of text and attribute values, so a character scan
    # for tag boundaries is enough; the last <title>/<style>… open or close sets raw_text.
    for char in html:
        if char == "<":
            in_tag = True
        elif char == ">":
            in_tag = False
    opens_and_closes = _RAW_TEXT.findall(html)
    if opens_and_closes:
        raw_text = opens_and_closes[-1][0] == ""
    return in_tag, raw_text


@functools.cache
def environment() -> Environment:
    """The one Jinja2 environment of the process; templates compile (and inline CSS) once."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        # Explicitly on for every template: select_autoescape() misses names like *.html.j2.
        # The .txt templates switch it off inside themselves with {% autoescape false %}.
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the code; no stat() per render.
        auto_reload=False,
        extensions=[InlineCssExtension],
    )
    env.filters.update(
        money=money,
        money_usd=money_usd,
        date=format_date,
        safe_url=safe_url,
        oneline=oneline,
        workplace=workplace,
    )
    return env


# --- the emails ------------------------------------------------------------------------------


def digest_subject(count: int, search_name: str) -> str:
    """'12 new production jobs for “Plant manager Midwest”': our count, the name made header-safe."""
    noun = "job" if count == 1 else "jobs"
    name = sanitize_header(search_name, max_len=SUBJECT_NAME_MAX).replace("“", "").replace("”", "")
    subject = (
        f"{count} new production {noun} for “{name}”" if name else f"{count} new production {noun}"
    )
    return sanitize_header(subject, max_len=SUBJECT_MAX)


def render_digest(ctx: DigestContext) -> RenderedEmail:
    """The digest email: subject from our counts, text and HTML with the same jobs and footer."""
    env = environment()
    subject = digest_subject(ctx.total_matches, ctx.search_name)
    verb = "job matches" if ctx.total_matches == 1 else "jobs match"
    headline = f"{ctx.total_matches} new {verb} your saved search “{oneline(ctx.search_name)}”"
    if ctx.period_label:
        headline += f" {oneline(ctx.period_label)}"
    headline += "."
    if len(ctx.jobs) < ctx.total_matches:
        headline += f" Here are the best {len(ctx.jobs)}."
    first = ctx.jobs[0] if ctx.jobs else None
    preheader = f"{oneline(first.title)} at {oneline(first.company)}" if first else headline
    data = {
        "ctx": ctx,
        "subject": subject,
        "headline": headline,
        "preheader": preheader,
        "more": ctx.total_matches > len(ctx.jobs),
    }
    return RenderedEmail(
        subject=subject,
        text=env.get_template("email/digest.txt").render(data),
        html=env.get_template("email/digest.html").render(data),
    )


def render_confirmation(
    to_email: str,
    confirm_url: str,
    search_summary: str,
    postal_address: str,
    *,
    expires_in_days: int | None = None,
) -> RenderedEmail:
    """The double opt-in email; its subject is fixed text, never user input."""
    env = environment()
    subject = "Confirm your andon job alert"
    data = {
        "subject": subject,
        "to_email": to_email,
        "confirm_url": confirm_url,
        "search_summary": search_summary,
        "postal_address": postal_address,
        "expires_in_days": expires_in_days,
    }
    return RenderedEmail(
        subject=subject,
        text=env.get_template("email/confirm.txt").render(data),
        html=env.get_template("email/confirm.html").render(data),
    )


def render_operator_alert(subject_line: str, lines: Sequence[str]) -> RenderedEmail:
    """A plain-text note to the operator (auth failure, failing source); no HTML part."""
    subject = sanitize_header(f"[andon] {subject_line}", max_len=SUBJECT_MAX)
    text = (
        environment()
        .get_template("email/operator.txt")
        .render(subject=subject, lines=[oneline(line) for line in lines])
    )
    return RenderedEmail(subject=subject, text=text, html=None)
