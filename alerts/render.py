"""Render digests, confirmations and operator alerts from the Jinja2 templates in templates/email."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import css_inline
from jinja2 import Environment
from jinja2.ext import Extension

from alerts.formatting import market_figure, oneline
from alerts.message import RenderedEmail, sanitize_header
from alerts.templating import TEMPLATES_DIR, make_environment
from pipeline.facts import fact_labels

__all__ = [
    "ClosedJob", "DigestContext", "DigestJob", "RenderedEmail", "render_confirmation",
    "render_digest",
]  # fmt: skip

BASE_TEMPLATE = "email/base.html"

SUBJECT_NAME_MAX = 60
SUBJECT_MAX = 140


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
    posted_or_earlier: bool = False  # posted_at is a bound ("30+ days ago")
    attribution: str | None = None  # e.g. "Himalayas", where a source's terms ask for credit
    source_url: str | None = None
    why: str = ""
    market_pay: int | None = None
    market_label: str | None = None
    # (label, signed link): Not relevant, Hide this company, Applied (`alerts.feedback`)
    feedback: tuple[tuple[str, str], ...] = ()
    # (label, quote) per plant fact (`pipeline.facts`): the quote is the proof, shown on hover
    facts: tuple[tuple[str, str], ...] = ()

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
        pay, label = market_figure(market_table, listing.get("seniority"), location.get("country"))
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
            posted_or_earlier=bool(listing.get("posted_or_earlier")),
            attribution=attribution,
            source_url=source_url,
            why=why,
            market_pay=pay,
            market_label=label,
            facts=tuple(fact_labels(listing.get("facts"))),
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
    closed: Sequence[ClosedJob] = ()  # sent before, closed since: "No longer open"
    # the footer's health line: boards read for this digest, those failing today, /status
    boards: int | None = None
    boards_failing: int = 0
    status_url: str | None = None


@dataclass(slots=True, frozen=True)
class ClosedJob:
    """A job from an earlier digest that has closed since (`alerts.liveness`)."""

    title: str
    company: str
    closed_on: str  # "Nov 27", in the subscriber's timezone


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
    """The emails' Jinja2 environment; templates compile (and inline CSS) once per process."""
    return make_environment(extensions=[InlineCssExtension])


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
