"""Relevance stage: keep production-management jobs by title, drop the rest with a counted reason."""

from __future__ import annotations

import html
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Self

from scrapy.exceptions import DropItem

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from spiders.items import JobItem

DEFAULT_PROFILE = Path(__file__).with_name("role_profile.toml")

# Weights of the evidence scoring documented in role_profile.toml: a strong plant term, a
# non-plant workplace and a veto term weigh as much as two weak plant terms.
STRONG_WEIGHT = 2
WEAK_WEIGHT = 1
AGAINST_WEIGHT = 2
VETO_WEIGHT = 2

# Plant words sit in the first screens of a posting; the cap bounds regex time on huge pages.
MAX_DESCRIPTION_CHARS = 30_000

_SECTIONS = {"words", "include", "ambiguous", "plant_context", "description_veto", "exclude"}
_PUNCTUATION = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u02bc": "'",
        "`": "'",
        "\u2010": "-",
        "\u2011": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
    }
)
_SPACES = re.compile(r"\s+")
# "(m/w/d)", "m/f/d", "(H/F)", "F/H", "(all genders)", "(gn)": gender markers of DE/FR postings
# sit between the role and its qualifier ("Schichtleiter (m/w/d) Fertigung"); cut them out.
_GENDER = re.compile(
    r"\(?(?<![\w/])[mwfdhx] ?/ ?[mwfdhx](?: ?/ ?[mwfdhx])?(?![\w/])\)?|\((?:all genders|gn\*?)\)"
)
_MACRO = re.compile(r"\{(\w+)\}")
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def fold(text: str) -> str:
    """Lower-case `text`, strip accents ("Producción" -> "produccion") and unify punctuation."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", bare.casefold().translate(_PUNCTUATION)).strip()


def fold_title(title: str) -> str:
    """`fold` a job title and drop its gender markers."""
    return _SPACES.sub(" ", _GENDER.sub(" ", fold(title))).strip()


def html_to_text(markup: str) -> str:
    """Cheap tag stripping: good enough to look for words, not for display."""
    return html.unescape(_TAG.sub(" ", _SCRIPT.sub(" ", markup)))


class Rule(NamedTuple):
    """One profile pattern as written in the TOML file, and compiled."""

    text: str
    regex: re.Pattern[str]  # the pattern between word boundaries
    # The bare pattern, to find candidates: re skips ahead fast to a literal prefix, but not when
    # the pattern starts with a lookbehind, and descriptions are long.
    probe: re.Pattern[str]

    def search(self, text: str) -> re.Match[str] | None:
        """`self.regex.search(text)`, done as a fast scan for candidates and a match at each."""
        pos = 0
        while (candidate := self.probe.search(text, pos)) is not None:
            found = self.regex.match(text, candidate.start())
            if found:
                return found
            pos = candidate.start() + 1
        return None


@dataclass(frozen=True)
class Verdict:
    """What the relevance stage decided about one job, and the profile pattern that decided it."""

    keep: bool
    # kept: title_match | plant_context; dropped: an [exclude] or [description_veto] name,
    # ambiguous_no_plant_context, unrelated or no_title
    reason: str
    matched: str = ""


@dataclass(frozen=True)
class RoleProfile:
    """The compiled patterns of a role profile TOML file (see pipeline/role_profile.toml)."""

    include: tuple[Rule, ...]
    ambiguous: tuple[Rule, ...]
    exclude: tuple[tuple[str, tuple[Rule, ...]], ...]
    strong: tuple[Rule, ...]
    weak: tuple[Rule, ...]
    against: tuple[Rule, ...]
    threshold: int
    veto: tuple[tuple[str, tuple[Rule, ...]], ...]
    source: Path | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: Path | None = None) -> Self:
        """Compile a parsed profile; raise ValueError naming the file and the bad entry."""
        where = str(source) if source else "role profile"
        unknown = set(data) - _SECTIONS
        if unknown:
            raise ValueError(f"{where}: unknown sections {sorted(unknown)}")
        words = {str(k): _word(v, f"{where}: words.{k}") for k, v in data.get("words", {}).items()}

        def rules(values: Any, key: str) -> tuple[Rule, ...]:
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ValueError(f"{where}: {key} must be a list of strings")
            return tuple(_compile(v, words, f"{where}: {key}") for v in values)

        def named(table: Any, key: str) -> tuple[tuple[str, tuple[Rule, ...]], ...]:
            if not isinstance(table, Mapping):
                raise ValueError(f"{where}: [{key}] must be a table of reason = [patterns]")
            # tomllib keeps the file's order, which is the order reasons are tried in
            return tuple((name, rules(v, f"{key}.{name}")) for name, v in table.items())

        def table(key: str) -> Mapping[str, Any]:
            value = data.get(key, {})
            if not isinstance(value, Mapping):
                raise ValueError(f"{where}: [{key}] must be a table")
            return value

        include = rules(table("include").get("patterns", []), "include.patterns")
        if not include:
            raise ValueError(f"{where}: include.patterns is empty; nothing would ever be kept")
        context = table("plant_context")
        return cls(
            include=include,
            ambiguous=rules(table("ambiguous").get("patterns", []), "ambiguous.patterns"),
            exclude=named(data.get("exclude", {}), "exclude"),
            strong=rules(context.get("strong", []), "plant_context.strong"),
            weak=rules(context.get("weak", []), "plant_context.weak"),
            against=rules(context.get("against", []), "plant_context.against"),
            threshold=int(context.get("threshold", 1)),
            veto=named(data.get("description_veto", {}), "description_veto"),
            source=source,
        )

    def plant_score(self, folded: str) -> int:
        """Weigh the plant evidence in folded text: strong and weak terms for, workplaces against."""
        return (
            STRONG_WEIGHT * _count(self.strong, folded)
            + WEAK_WEIGHT * _count(self.weak, folded)
            - AGAINST_WEIGHT * _count(self.against, folded)
        )


def _unaccent(pattern: str) -> str:
    # Patterns lose their accents like the text does, so a profile may spell "producción".
    decomposed = unicodedata.normalize("NFKD", pattern.replace("ß", "ss"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_PUNCTUATION)


def _word(value: Any, where: str) -> str:
    # A list in [words] is a set of alternatives; a string is a regex used as written.
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return "(?:" + "|".join(value) + ")"
    raise ValueError(f"{where}: must be a regex string or a non-empty list of them")


def _compile(pattern: str, words: Mapping[str, str], where: str) -> Rule:
    expanded = pattern
    for _ in range(5):  # [words] may refer to each other; five levels is plenty and ends cycles
        expanded = _MACRO.sub(lambda m: words.get(m[1], m[0]), expanded)
    bare = _lower(_unaccent(expanded))
    try:
        return Rule(pattern, re.compile(rf"(?<!\w)(?:{bare})(?!\w)"), re.compile(bare))
    except re.error as exc:
        raise ValueError(f"{where}: bad pattern {pattern!r}: {exc}") from exc


def _lower(pattern: str) -> str:
    # Text is folded to lower case, so patterns are lowered too, except escapes (\W is not \w);
    # matching without IGNORECASE keeps re's fast scan for a literal prefix.
    out: list[str] = []
    escaped = False
    for ch in pattern:
        out.append(ch if escaped else ch.lower())
        escaped = ch == "\\" and not escaped
    return "".join(out)


def _first(rules: Iterable[Rule], text: str) -> tuple[Rule, re.Match[str]] | None:
    for rule in rules:
        found = rule.search(text)
        if found:
            return rule, found
    return None


def _count(rules: Iterable[Rule], text: str) -> int:
    return sum(1 for rule in rules if rule.search(text))


@lru_cache(maxsize=8)
def _load(path: Path) -> RoleProfile:
    with path.open("rb") as fh:
        return RoleProfile.from_dict(tomllib.load(fh), source=path)


def load_profile(path: Path | None = None) -> RoleProfile:
    """Load and compile a role profile TOML file; None means the default next to this module.

    Compiled once per path and process: a crawl reads its profile when it starts.
    """
    return _load(Path(path or DEFAULT_PROFILE).resolve())


def classify(title: str, description: str | None, profile: RoleProfile) -> Verdict:
    """Decide whether a job with this title (and plain-text description) is production management.

    The title decides; the description is only evidence, for ambiguous titles ("Operations
    Manager") and against title matches that turn out to be media or software jobs.
    """
    folded = fold_title(title or "")
    if not folded:
        return Verdict(False, "no_title")
    for reason, rules in profile.exclude:
        hit = _first(rules, folded)
        if hit:
            return Verdict(False, reason, hit[0].text)

    def evidence(found: re.Match[str]) -> str:
        # The role words themselves are not evidence: "Manufacturing Operations Lead" has to
        # prove its plant in the description, "Operations Manager - Manufacturing" in its title.
        # Folded here, once, because most titles are decided before the description matters.
        body = fold((description or "")[:MAX_DESCRIPTION_CHARS])
        return f"{folded[: found.start()]} | {folded[found.end() :]} | {body}"

    hit = _first(profile.include, folded)
    if hit:
        rule, found = hit
        text = evidence(found)
        plant = profile.plant_score(text)
        for reason, rules in profile.veto:
            if VETO_WEIGHT * _count(rules, text) > plant:
                return Verdict(False, reason, rule.text)
        return Verdict(True, "title_match", rule.text)

    hit = _first(profile.ambiguous, folded)
    if hit:
        rule, found = hit
        if profile.plant_score(evidence(found)) >= profile.threshold:
            return Verdict(True, "plant_context", rule.text)
        return Verdict(False, "ambiguous_no_plant_context", rule.text)
    return Verdict(False, "unrelated")


class FilterRelevantPipeline:
    """Drop items that are not production-management jobs, counting kept and dropped by reason."""

    def __init__(self, profile: RoleProfile, stats: StatsCollector | None = None) -> None:
        self.profile = profile
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        path = crawler.settings.get("ANDON_ROLE_PROFILE")
        return cls(load_profile(Path(path) if path else None), crawler.stats)

    def process_item(self, item: JobItem) -> JobItem:
        if item.description_html:
            description: str | None = html_to_text(
                item.description_html[: MAX_DESCRIPTION_CHARS * 2]
            )
        else:
            description = item.description_text
        verdict = classify(item.title or "", description, self.profile)
        if verdict.keep:
            self._inc("andon/relevance/kept")
            return item
        self._inc(f"andon/relevance/dropped/{verdict.reason}")
        # Most items of a broad search are dropped here and every drop is counted in the stats;
        # a warning per drop would bury the warnings that matter.
        raise DropItem(f"irrelevant: {verdict.reason}", log_level="DEBUG")

    def _inc(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)
