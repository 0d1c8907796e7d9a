"""`NormalizePostingPipeline`: a spider's `JobItem` → a `CleanPosting` (parse, sanitize, enrich).

Each field is parsed on its own: a value that cannot be read is left empty, counted in the
crawl stats under `andon/...` and logged once per item with its source and external id; only
an item without title, company or external id is dropped (`andon/drop/<reason>`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from scrapy.exceptions import DropItem

from pipeline import enrich
from pipeline.counting import incrementer
from pipeline.dates import parse_posted, parse_valid_through
from pipeline.facts import extract_facts, fact_columns
from pipeline.fingerprint import FingerprintBook
from pipeline.location import Place, currency_for_country, parse_location
from pipeline.posting_text import clean_line, http_url, text_to_html
from pipeline.prefilter import Gated
from pipeline.record import CleanPosting
from pipeline.salary import Salary, is_plausible, read_salary
from pipeline.sanitize import clean_html, html_text, normalize_text
from spiders.items import JobItem

logger = logging.getLogger(__name__)


class UnusableItem(ValueError):
    """The item lacks something a posting cannot do without; `reason` is a stats-key slug."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Report:
    """What normalizing one item noticed: stats keys (without "andon/") and log notes."""

    counts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def count(self, key: str, note: str | None = None) -> None:
        self.counts.append(key)
        if note:
            self.notes.append(note)


def _country_hint(item: JobItem) -> str | None:
    for key in ("country_code", "country"):
        value = item.extra.get(key)
        if isinstance(value, str) and len(value.strip()) == 2:
            return value.strip().upper()
    return None


def _has_structured_salary(data: dict[str, Any] | None) -> bool:
    """True when a structured salary carries any number (Himalayas sends all-null fields)."""
    if not data:
        return False
    stack: list[Any] = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            if any(c.isdigit() for c in value):
                return True
        elif isinstance(value, int | float) and not isinstance(value, bool):
            return True
    return False


def _salary(item: JobItem, place: Place, report: Report) -> Salary | None:
    has_input = bool(item.salary_text and item.salary_text.strip()) or _has_structured_salary(
        item.salary
    )
    if not has_input:
        return None
    hint = currency_for_country(place.country)
    try:
        if item.salary is None and item.salary_text is not None and len(item.salary_text) <= 200:
            salary = _read_salary_text(item.salary_text, hint)
        else:
            salary = read_salary(item.salary, item.salary_text, currency_hint=hint)
    except Exception:  # one odd value must not lose the item
        logger.exception("salary parser failed for %s %s", item.source, item.external_id)
        report.count("salary/error")
        return None
    if salary is None:
        report.count("salary/unparsed", f"salary {item.salary_text or item.salary!r}")
        return None
    if not is_plausible(salary):
        report.count("salary/absurd", f"absurd salary {salary}")
        return None
    report.count("salary/parsed")
    return salary


@lru_cache(maxsize=4096)
def _read_salary_text(text: str, currency_hint: str | None) -> Salary | None:
    """`read_salary` of a short salary field alone, remembered: a source repeats its pay ranges."""
    return read_salary(None, text, currency_hint=currency_hint)


# Pay stated in a description (US pay-transparency laws put the range there when the source has
# no salary field): a pay word, then an amount with a currency in the same sentence.
_PAY_WORD = re.compile(
    r"\b(?:salary|pay range|pay rate|base pay|compensation|wages?|hourly rate|hiring range|"
    r"starting pay|pay scale|gehalt|vergütung|salaire|salario)\b",
    re.IGNORECASE,
)
# With no pay word, a currency range that names its period is pay by itself:
# "$30.50 - $34.00 per hour", "$95,000 to $120,000 per year", "€18–22/h".
_RATE_RANGE = re.compile(
    r"[$€£]\s?\d[\d,.]{0,12}\s?k?\s{0,3}(?:-|–|—|to)\s{0,3}[$€£]?\s?\d[\d,.]{0,12}\s?k?"
    r"\s{0,3}(?:(?:per|an|a|/)\s{0,2}(?:hour|hr|h|year|yr|annum)\b|hourly\b|annually\b)",
    re.IGNORECASE,
)
_MONEY = re.compile(r"[$€£]\s?\d|\d[\d,.]*\s?k?\s*(?:USD|EUR|GBP|CAD)\b", re.IGNORECASE)
# searched only in text holding one of the pay words' literals (`pipeline.prefilter`): most
# descriptions have none, and the alternation's case-insensitive scan costs ~30 us a text
_PAY_WORD_GATED = Gated(_PAY_WORD)


def _salary_in_text(text: str, place: Place, report: Report) -> Salary | None:
    """Pay stated in the description, read only from a sentence that says it is pay."""
    for hit in _PAY_WORD_GATED.finditer(text, 0, 20000):
        # the sentence: from the last full stop or line break before the word to the line's end
        start = max(text.rfind(". ", 0, hit.start()), text.rfind("\n", 0, hit.start())) + 1
        end = text.find("\n", hit.end())
        sentence = text[start : end if end != -1 else min(len(text), hit.end() + 300)]
        if not _MONEY.search(sentence, hit.end() - start):
            continue
        try:
            salary = read_salary(None, sentence, currency_hint=currency_for_country(place.country))
        except Exception:  # one odd sentence must not lose the item
            report.count("salary/error")
            return None
        if salary is not None and is_plausible(salary):
            report.count("salary/from_description")
            return salary
    return _rate_range_in_text(text, place, report)


def _rate_range_in_text(text: str, place: Place, report: Report) -> Salary | None:
    # every match starts with a currency sign: searched from the first one, if any
    signs = [at for sign in "$€£" if (at := text.find(sign, 0, 20000)) >= 0]
    match = _RATE_RANGE.search(text, min(signs), 20000) if signs else None
    if match is None:
        return None
    try:
        salary = read_salary(
            None, match.group(0), currency_hint=currency_for_country(place.country)
        )
    except Exception:  # one odd sentence must not lose the item
        report.count("salary/error")
        return None
    if salary is not None and is_plausible(salary):
        report.count("salary/from_description")
        return salary
    return None


def _location(item: JobItem, report: Report) -> Place:
    try:
        place = parse_location(
            item.locations, item.location_parts, country_hint=_country_hint(item)
        )
    except Exception:
        logger.exception("location parser failed for %s %s", item.source, item.external_id)
        report.count("location/error")
        return Place(text=item.locations[0] if item.locations else None)
    had_input = bool([s for s in item.locations if s and s.strip()] or item.location_parts)
    if had_input and place.country is None and not place.remote:
        report.count("location/unresolved", f"location {item.locations or item.location_parts!r}")
    return place


def _dates(item: JobItem, now: datetime, report: Report) -> tuple[datetime | None, ...]:
    anchor = item.crawled_at or now
    results: list[datetime | None] = []
    for name, value, parse in (
        ("posted", item.posted, parse_posted),
        ("valid_through", item.valid_through, parse_valid_through),
    ):
        parsed = None
        if value not in (None, ""):
            try:
                parsed = parse(value, anchor)
            except Exception:
                logger.exception("date parser failed for %s %s", item.source, item.external_id)
            if parsed is None:
                report.count("date/unparsed", f"{name} {value!r}")
        results.append(parsed)
    return tuple(results)


def _safe(report: Report, key: str, func: Any, *args: Any) -> Any:
    try:
        return func(*args)
    except Exception:
        logger.exception("%s failed", key)
        report.count(f"{key}/error")
        return None


def normalize_with_report(
    item: JobItem, *, now: datetime | None = None
) -> tuple[CleanPosting, Report]:
    """Normalize an item and say what was questionable; raises `UnusableItem`."""
    now = now or datetime.now(UTC)
    external_id, title, company = _required(item)
    report = Report()
    description_html, description_text, normalized = _description(item, report)
    place = _location(item, report)
    salary = _salary(item, place, report) or _salary_in_text(description_text, place, report)
    posted_at, valid_through = _dates(item, now, report)
    posting = CleanPosting(
        source=item.source,
        external_id=external_id,
        title=title,
        company=company,
        url=http_url(item.url),
        apply_url=http_url(item.apply_url),
        description_text=description_text,
        description_html=description_html,
        location_text=place.text,
        city=place.city,
        region=place.region,
        country=place.country,
        latitude=place.latitude,
        longitude=place.longitude,
        **_salary_columns(salary),
        **_derived(item, report, (title, company, description_text, normalized), place),
        posted_at=posted_at,
        posted_or_earlier=bool(item.posted_or_earlier and posted_at is not None),
        valid_through=valid_through,
        req_id=clean_line(item.req_id) or None,
        attribution=clean_line(item.attribution) or None,
        relevance_rule=item.relevance_rule,
        seen_at=item.crawled_at or now,
    )
    return posting, report


def _required(item: JobItem) -> tuple[str, str, str]:
    """The external id, title and company, cleaned; an item without one is unusable."""
    title = clean_line(item.title)
    company = clean_line(item.company)
    external_id = (item.external_id or "").strip()
    if not external_id:
        raise UnusableItem("no_external_id")
    if not title:
        raise UnusableItem("no_title")
    if not company:
        raise UnusableItem("no_company")
    return external_id, title, company


def _description(item: JobItem, report: Report) -> tuple[str, str, bool]:
    """The description as sanitized HTML and as text, whichever of the two the source gave, and
    whether the text is known to be as `normalize_text` leaves it."""
    description_html = _safe(report, "description", clean_html, item.description_html) or ""
    if description_html:
        return description_html, *html_text(description_html)
    description_text = normalize_text(item.description_text or "")
    return text_to_html(description_text), description_text, True


def _salary_columns(salary: Salary | None) -> dict[str, Any]:
    return {
        "salary_min": salary.min if salary else None,
        "salary_max": salary.max if salary else None,
        "salary_currency": salary.currency if salary else None,
        "salary_period": salary.period if salary else None,
        "annual_min_usd": salary.annual_min_usd if salary else None,
        "annual_max_usd": salary.annual_max_usd if salary else None,
    }


def _derived(
    item: JobItem, report: Report, texts_read: tuple[str, str, str, bool], place: Place
) -> dict[str, Any]:
    """The fields read from the title, company and description text (and whether that is
    normalized) by `pipeline.enrich` and `pipeline.facts`; a failing rule is reported and
    leaves its field empty."""
    title, company, description_text, normalized = texts_read
    texts = [*(item.locations or []), *([place.text] if place.text else [])]
    extra_text = [v for k, v in item.extra.items() if k not in {"country", "country_code"}]
    workplace = _safe(
        report, "workplace", enrich.workplace, item.workplace_hint, item.remote, texts,
        description_text,
    )  # fmt: skip
    industries = _safe(
        report, "industries", enrich.industries, title, company, description_text, extra_text
    )
    return {
        "workplace": workplace,
        "employment_type": _safe(
            report, "employment", enrich.employment_type, item.employment_type
        ),
        "seniority": _safe(report, "seniority", enrich.seniority, title),
        "industries": industries or [],
        "skills": _safe(
            report, "skills", enrich.skills, *_skills_text(title, description_text, normalized)
        )
        or [],
        **fact_columns(_safe(report, "facts", extract_facts, description_text) or {}),
    }


def _skills_text(title: str, description_text: str, normalized: bool) -> tuple[str, bool]:
    """The text skills are read in, and whether `normalize_text` would leave it as it is: so
    when both are not empty, the description is normalized and the title (a `clean_line`: no
    run of whitespace, no line break, no space at an end) holds no zero-width space."""
    plain = normalized and bool(title and description_text) and "\u200b" not in title
    return f"{title}\n{description_text}", plain


def normalize_item(item: JobItem, *, now: datetime | None = None) -> CleanPosting:
    """Normalize one item into a `CleanPosting`; raises `UnusableItem` (with a reason)."""
    return normalize_with_report(item, now=now)[0]


class NormalizePostingPipeline:
    """Turns each `JobItem` into a `CleanPosting`, counting what it could not read."""

    def __init__(self, stats: Any, book: FingerprintBook | None = None) -> None:
        self.stats = stats
        self.book = book
        self._count = incrementer(stats)

    @classmethod
    def from_crawler(cls, crawler: Any) -> NormalizePostingPipeline:
        return cls(crawler.stats, FingerprintBook.of(crawler))

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, JobItem):
            return item  # not ours (an earlier stage already normalized it, or another type)
        try:
            posting, report = normalize_with_report(item)
        except UnusableItem as exc:
            self._count(f"andon/drop/{exc.reason}")
            raise DropItem(f"{exc.reason}: {item.source} {item.external_id!r}") from exc
        for key in report.counts:
            self._count(f"andon/{key}")
        if report.notes:
            logger.info(
                "questionable values in %s %s: %s",
                item.source, item.external_id, "; ".join(report.notes),
            )  # fmt: skip
        self._count("andon/normalize/ok")
        if self.book is not None:
            # the raw item's fingerprint travels to the store with the clean posting
            posting.fingerprint = self.book.take(item.source, item.external_id)
        return posting
