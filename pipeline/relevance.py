"""Relevance stage: keep production-management jobs by title, drop the rest with a counted reason."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import DropItem

from pipeline.counting import incrementer
from pipeline.relevance_model import ModelVerdict, TitleModel
from pipeline.relevance_rules import Joined, RuleSet, compile_rule, expand
from pipeline.relevance_text import MAX_TITLE_CHARS, fold, fold_title, html_to_text

__all__ = [
    "MAX_DESCRIPTION_CHARS", "MAX_TITLE_CHARS", "FilterRelevantPipeline", "Irrelevant",
    "RoleProfile", "Verdict", "classify", "fold", "fold_title", "html_to_text", "load_profile",
]  # fmt: skip

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

# Plant words sit in the first screens of a posting; the cap bounds the work on huge pages.
MAX_DESCRIPTION_CHARS = 30_000

_SECTIONS = {
    "words", "include", "ambiguous", "plant_context", "description_veto", "exclude", "title_model"
}  # fmt: skip


@dataclass(frozen=True)
class Verdict:
    """What the relevance stage decided about one job, the rule that decided and its words."""

    keep: bool
    # kept: title_match | title_model | plant_context; dropped: an [exclude], [description_veto]
    # or [title_model.exclude] name, ambiguous_no_plant_context, unrelated or no_title
    reason: str
    matched: str = ""  # the profile rule, as written
    words: tuple[str, ...] = ()  # the words that decided: title words, description evidence


@dataclass(frozen=True)
class Evidence:
    """The plant evidence found in a text, term by term, and its score."""

    strong: tuple[str, ...]
    weak: tuple[str, ...]
    against: tuple[str, ...]

    @property
    def score(self) -> int:
        return (
            STRONG_WEIGHT * len(self.strong)
            + WEAK_WEIGHT * len(self.weak)
            - AGAINST_WEIGHT * len(self.against)
        )

    def words(self) -> tuple[str, ...]:
        return tuple(f"+{w}" for w in self.strong + self.weak) + tuple(
            f"-{w}" for w in self.against
        )


Named = tuple[tuple[str, RuleSet], ...]


@dataclass(frozen=True)
class RoleProfile:
    """The compiled patterns of a role profile TOML file (see pipeline/role_profile.toml)."""

    include: RuleSet
    ambiguous: RuleSet
    exclude: Named
    strong: RuleSet
    weak: RuleSet
    against: RuleSet
    threshold: int
    veto: Named
    model: TitleModel
    source: Path | None = None
    # what each title decides alone (`_judged`), filled as titles come
    titles: dict[str, _Judged] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: Path | None = None) -> Self:
        """Compile a parsed profile; raise ValueError naming the file and the bad entry."""
        where = str(source) if source else "role profile"
        unknown = set(data) - _SECTIONS
        if unknown:
            raise ValueError(f"{where}: unknown sections {sorted(unknown)}")
        words = {str(k): _word(v, f"{where}: words.{k}") for k, v in data.get("words", {}).items()}

        def rules(values: Any, key: str) -> RuleSet:
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ValueError(f"{where}: {key} must be a list of strings")
            compiled = [compile_rule(v, expand(v, words), f"{where}: {key}") for v in values]
            return RuleSet(compiled, f"{where}: {key}")

        def named(table: Any, key: str) -> Named:
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
        model = TitleModel.from_dict(table("title_model"), where)
        if not include and not model.lists["areas"]:
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
            model=model,
            source=source,
        )

    @cached_property
    def context(self) -> Joined:
        """The evidence sets and the [description_veto] sets, matched in one pass (`Joined`)."""
        return Joined([self.strong, self.weak, self.against, *(rules for _, rules in self.veto)])

    def scan(self, folded: str) -> tuple[Evidence, bytes, list[list[int]]]:
        """The plant evidence in folded text, its bytes, and each veto set's matching rules."""
        data = folded.encode()
        strong, weak, against, *vetoes = self.context.indices(data)
        evidence = Evidence(
            tuple(self.strong.found(folded, data, strong)),
            tuple(self.weak.found(folded, data, weak)),
            tuple(self.against.found(folded, data, against)),
        )
        return evidence, data, vetoes

    def evidence(self, folded: str) -> Evidence:
        """The plant evidence in folded text: strong and weak terms for, workplaces against."""
        return self.scan(folded)[0]

    def plant_score(self, folded: str) -> int:
        """Weigh the plant evidence in folded text (see `evidence`)."""
        return self.evidence(folded).score


def _word(value: Any, where: str) -> str:
    # A list in [words] is a set of alternatives; a string is a regex used as written.
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return "(?:" + "|".join(value) + ")"
    raise ValueError(f"{where}: must be a regex string or a non-empty list of them")


@lru_cache(maxsize=8)
def _load(path: Path) -> RoleProfile:
    with path.open("rb") as fh:
        return RoleProfile.from_dict(tomllib.load(fh), source=path)


def load_profile(path: Path | None = None) -> RoleProfile:
    """Load and compile a role profile TOML file; None means the default next to this module.

    Compiled once per path and process: a crawl reads its profile when it starts.
    """
    return _load(Path(path or DEFAULT_PROFILE).resolve())


class _Title:
    """A folded title (`fold_title`) and the description folded on first use."""

    def __init__(self, folded: str, description: str | None, company: str | None) -> None:
        self.folded = folded
        self._description = description
        self._company = company
        self._body: str | None = None

    def body(self) -> str:
        # Folded here, once, because most titles are decided before the description matters.
        # The company's name and the source's categories count: "Sunrise Farms", "Hydro Power".
        if self._body is None:
            company = (self._company or "")[:MAX_TITLE_CHARS]
            self._body = fold(f"{company} | {(self._description or '')[:MAX_DESCRIPTION_CHARS]}")
        return self._body

    def context(self, span: tuple[int, int] | None = None) -> str:
        """The title without the matched role words, and the description: the evidence text."""
        # The role words themselves are not evidence: "Manufacturing Operations Lead" has to
        # prove its plant in the description, "Operations Manager - Manufacturing" in its title.
        start, end = span or (0, 0)
        return f"{self.folded[:start]} | {self.folded[end:]} | {self.body()}"


def _vetoed(profile: RoleProfile, text: str, verdict: Verdict) -> Verdict:
    # A title match is dropped when its description speaks more of another domain than of a plant.
    evidence, data, vetoes = profile.scan(text)
    for (reason, rules), indices in zip(profile.veto, vetoes, strict=True):
        found = rules.found(text, data, indices)
        if VETO_WEIGHT * len(found) > evidence.score:
            return Verdict(False, reason, verdict.matched, tuple(found) + evidence.words())
    return Verdict(True, verdict.reason, verdict.matched, verdict.words + evidence.words())


def _in_plant(
    profile: RoleProfile, text: str, matched: str, threshold: int, reason: str
) -> Verdict:
    evidence = profile.evidence(text)
    keep = evidence.score >= threshold
    return Verdict(
        keep, reason if keep else "ambiguous_no_plant_context", matched, evidence.words()
    )


def _spans(profile: RoleProfile, folded: str, data: bytes) -> list[tuple[int, int]]:
    # every span an ambiguous pattern matches: "operations lead" and "manufacturing operations lead"
    found = (profile.ambiguous.rules[i].search(folded) for i in profile.ambiguous.indices(data))
    return [span for span in found if span is not None]


def _by_model(profile: RoleProfile, title: _Title, model: ModelVerdict) -> Verdict | None:
    matched = f"title_model: {model.reason}"
    if model.outcome == "keep":
        return _vetoed(profile, title.context(), Verdict(True, "title_model", matched, model.words))
    if model.outcome == "generic":
        # "Zone Leader", "Line Supervisor": production titles unless the posting shows a shop,
        # a warehouse or a restaurant.
        verdict = _in_plant(profile, title.context(), matched, 0, "title_model")
        if not verdict.keep:
            return Verdict(False, verdict.reason, matched, model.words + verdict.words)
        return _vetoed(profile, title.context(), Verdict(True, "title_model", matched, model.words))
    if model.outcome in ("function", "worker"):
        return Verdict(False, model.reason, matched, model.words)
    return None


@dataclass(frozen=True)
class _Judged:
    """What a title decides alone: a final verdict, or what its description must still show."""

    folded: str
    final: Verdict | None = None
    include: tuple[str, tuple[int, int], tuple[str, ...]] | None = None  # rule, span, words
    model: ModelVerdict | None = None
    ambiguous: tuple[str, tuple[int, int]] | None = None  # rule, span


def _judge_title(profile: RoleProfile, title: str) -> _Judged:
    """The title's part of `classify`: its exclude, include, model and ambiguous rules."""
    folded = fold_title(title)
    if not folded:
        return _Judged(folded, final=Verdict(False, "no_title"))
    data = folded.encode()
    for reason, rules in profile.exclude:
        hit = rules.first(folded, data)
        if hit and not profile.model.floor_lead(reason, data):
            words = (folded[slice(*hit[1])],)
            return _Judged(folded, final=Verdict(False, reason, hit[0].text, words))
    if excluded := profile.model.excluded(data):
        matched = f"title_model.exclude.{excluded.reason}"
        return _Judged(folded, final=Verdict(False, excluded.reason, matched, excluded.words))
    if hit := profile.include.first(folded, data):
        rule, span = hit
        return _Judged(folded, include=(rule.text, span, (folded[span[0] : span[1]],)))
    model = profile.model.judge(data)
    hit = profile.ambiguous.first(folded, data)
    if (
        hit
        and model.outcome == "keep"
        and not profile.model.area_outside(folded, _spans(profile, folded, data))
    ):
        # "Manufacturing Operations Lead": the area word is part of an ambiguous title, which
        # has to prove its plant; "Operations Manager - Manufacturing" names it outside.
        model = ModelVerdict("ambiguous", model.reason, model.words)
    return _Judged(folded, model=model, ambiguous=(hit[0].text, hit[1]) if hit else None)


def _judged(profile: RoleProfile, title: str) -> _Judged:
    """`_judge_title`, remembered per profile (a source repeats its titles) up to 4,096 titles
    of at most MAX_TITLE_CHARS (only a longer title's first characters count)."""
    memo = profile.titles
    if (judged := memo.get(title)) is None:
        judged = _judge_title(profile, title)
        if len(title) <= MAX_TITLE_CHARS:
            if len(memo) >= 4096:
                memo.clear()  # a bound, not an LRU
            memo[title] = judged
    return judged


def classify(
    title: str, description: str | None, profile: RoleProfile, company: str | None = None
) -> Verdict:
    """Decide whether a job with this title (and plain-text description) is production management.

    The title decides; the description and the company (its name, the source's categories) are
    only evidence, for ambiguous titles ("Operations Manager") and against title matches that
    turn out to be media, software, power-station, mine or farm jobs.
    """
    judged = _judged(profile, title or "")
    if judged.final is not None:
        return judged.final
    t = _Title(judged.folded, description, company)
    if judged.include is not None:
        rule_text, span, words = judged.include
        return _vetoed(profile, t.context(span), Verdict(True, "title_match", rule_text, words))
    model = judged.model  # set on every title not decided and not included
    decided = _by_model(profile, t, model) if model else None
    if decided:
        return decided
    if judged.ambiguous is not None:
        rule_text, span = judged.ambiguous
        return _in_plant(profile, t.context(span), rule_text, profile.threshold, "plant_context")
    if model and model.outcome == "ambiguous":
        matched = f"title_model: {model.reason}"
        verdict = _in_plant(profile, t.context(), matched, profile.threshold, "plant_context")
        return Verdict(verdict.keep, verdict.reason, matched, model.words + verdict.words)
    return Verdict(False, "unrelated")


def _company(item: JobItem) -> str:
    # The company's name and what the source says of the job's department and categories.
    extra = item.extra or {}
    parts = [item.company or ""]
    for key in ("department", "departments", "categories", "category", "industry"):
        value = extra.get(key)
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            parts.extend(v for v in value[:20] if isinstance(v, str))
    return " | ".join(p for p in parts if p)


class Irrelevant(DropItem):
    """An item the relevance stage dropped, with the reason it is counted under."""

    def __init__(self, reason: str) -> None:
        # Most items of a broad search are dropped here and every drop is counted in the stats;
        # a warning per drop would bury the warnings that matter.
        super().__init__(f"irrelevant: {reason}", log_level="DEBUG")
        self.reason = reason


class FilterRelevantPipeline:
    """Drop items that are not production-management jobs, counting kept and dropped by reason."""

    def __init__(self, profile: RoleProfile, stats: StatsCollector | None = None) -> None:
        self.profile = profile
        self.stats = stats
        self._count = incrementer(stats)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        path = crawler.settings.get("ANDON_ROLE_PROFILE")
        return cls(load_profile(Path(path) if path else None), crawler.stats)

    def process_item(self, item: JobItem) -> JobItem:
        if not hasattr(item, "title"):
            return item  # an unchanged re-crawled item (`pipeline.fingerprint`): decided before
        if item.description_html:
            description: str | None = html_to_text(
                item.description_html[: MAX_DESCRIPTION_CHARS * 2]
            )
        else:
            description = item.description_text
        verdict = classify(item.title or "", description, self.profile, _company(item))
        if verdict.keep:
            self._inc("andon/relevance/kept")
            # kept on the posting: digest feedback is counted per rule (`alerts.feedback`)
            item.relevance_rule = (verdict.matched or verdict.reason)[:200]
            return item
        self._inc(f"andon/relevance/dropped/{verdict.reason}")
        raise Irrelevant(verdict.reason)

    def _inc(self, key: str) -> None:
        self._count(key)
