"""The title model of the relevance stage: a leader word, a production-area word, no exclusion.

Built from the word lists of the role profile's [title_model] table (see role_profile.toml), so
an operator adds a process, a product or a synonym without code. Each list compiles into one RE2
set, so a title is read once per list, in time linear in its length.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

from pipeline.relevance_rules import (
    LETTERS,
    SEPARATORS,
    Rule,
    RuleSet,
    compile_rule,
    lower,
    unaccent,
)

# The lists of [title_model], and what a match of each means.
LIST_KEYS = (
    "supervisors",  # lead the floor: enough with any area word, a generic one included
    "managers",  # lead a function: need a production area word in the title
    "areas",  # processes, materials, products and places of a plant
    "generic_areas",  # shift, line, zone, department: a plant's or a shop's
    "functions",  # other functions of a plant (quality, maintenance): never kept by the model
    "individual_contributors",  # operators, technicians, planners: kept only under a supervisor
)
EXCLUDE_KEY = "exclude"  # named lists of other domains, applied to every title
OVERRIDES_KEY = "floor_lead_overrides"  # [exclude] reasons a floor leader's title escapes


@dataclass(frozen=True)
class ModelVerdict:
    """What the title model says: keep, ask the description (generic), or drop (excluded)."""

    outcome: str  # "keep" | "generic" | "ambiguous" | "excluded" | "function" | "worker" | "none"
    reason: str  # the rule: "leader+area", "supervisor+generic_area", an exclusion's name ...
    words: tuple[str, ...] = ()

    def explain(self) -> str:
        """The rule and the words that decided, for `andon relevance explain`."""
        return f"{self.reason}: " + ", ".join(self.words) if self.words else self.reason


def compile_word(entry: str, where: str) -> Rule:
    """Compile a word-list entry: letters literally, `*` any letters, other marks any separator.

    "chef d'atelier" also matches "chef d’atelier" and "chef d atelier"; "charge hand" matches
    "chargehand" and "charge-hand"; "assembl*" matches "assembly" and "assembling".
    """
    folded = lower(unaccent(entry.strip()))
    if not folded.replace("*", "").strip():
        raise ValueError(f"{where}: empty word {entry!r}")
    parts: list[str] = []
    gap = False
    for ch in folded:
        if ch == "*":
            parts.append(LETTERS)
        elif ch.isalnum():
            if gap and parts:
                parts.append(SEPARATORS)
            parts.append(ch)
        gap = not ch.isalnum() and ch != "*"
    return compile_rule(entry, "".join(parts), where)


def _words(values: Any, where: str) -> RuleSet:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"{where} must be a list of strings")
    return RuleSet([compile_word(v, where) for v in values], where)


@dataclass(frozen=True)
class TitleModel:
    """The compiled word lists of [title_model]."""

    lists: Mapping[str, RuleSet]
    exclude: tuple[tuple[str, RuleSet], ...]
    floor_lead_overrides: frozenset[str] = frozenset()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> Self:
        """Compile a parsed [title_model] table; raise ValueError naming the bad entry."""
        unknown = set(data) - set(LIST_KEYS) - {EXCLUDE_KEY, OVERRIDES_KEY}
        if unknown:
            raise ValueError(f"{where}: unknown [title_model] lists {sorted(unknown)}")
        lists = {k: _words(data.get(k, []), f"{where}: title_model.{k}") for k in LIST_KEYS}
        table = data.get(EXCLUDE_KEY, {})
        if not isinstance(table, Mapping):
            raise ValueError(f"{where}: [title_model.exclude] must be a table of name = [words]")
        exclude = tuple(
            (str(name), _words(v, f"{where}: title_model.exclude.{name}"))
            for name, v in table.items()
        )
        overrides = data.get(OVERRIDES_KEY, [])
        if not isinstance(overrides, list) or not all(isinstance(v, str) for v in overrides):
            raise ValueError(f"{where}: title_model.{OVERRIDES_KEY} must be a list of strings")
        return cls(lists, exclude, frozenset(overrides))

    @classmethod
    def empty(cls) -> Self:
        return cls({k: RuleSet(()) for k in LIST_KEYS}, ())

    def floor_lead(self, reason: str, data: bytes) -> bool:
        """Whether the [exclude] reason `reason` yields because a floor leader leads the title."""
        return reason in self.floor_lead_overrides and bool(self.lists["supervisors"].indices(data))

    def area_outside(self, folded: str, spans: Sequence[tuple[int, int]]) -> bool:
        """Whether an area word is in the folded title outside all of `spans`."""
        chars = list(folded)
        for start, end in spans:
            chars[start:end] = "|" * (end - start)
        return bool(self.lists["areas"].indices("".join(chars).encode()))

    def excluded(self, data: bytes) -> ModelVerdict | None:
        """The first exclusion list with a word in the title (UTF-8 `data`), if any."""
        for name, words in self.exclude:
            found = words.found(data.decode(), data)
            if found:
                return ModelVerdict("excluded", name, tuple(found))
        return None

    def judge(self, data: bytes) -> ModelVerdict:
        """Judge a folded title (UTF-8 `data`) that no exclusion list names."""
        text = data.decode()
        found = {key: self.lists[key].found(text, data) for key in LIST_KEYS}
        supervisors, managers = found["supervisors"], found["managers"]
        if not supervisors and not managers:
            return ModelVerdict("none", "no_leader_word")
        if found["functions"]:
            return ModelVerdict("function", "other_function", tuple(found["functions"]))
        if found["individual_contributors"] and not supervisors:
            return ModelVerdict(
                "worker",
                "individual_contributor",
                _all(found, "individual_contributors", "managers"),
            )
        if found["areas"]:
            return ModelVerdict(
                "keep", "leader+area", _all(found, "supervisors", "managers", "areas")
            )
        if found["generic_areas"] and supervisors:
            return ModelVerdict(
                "generic", "supervisor+generic_area", _all(found, "supervisors", "generic_areas")
            )
        if found["generic_areas"]:
            return ModelVerdict(
                "ambiguous", "manager+generic_area", _all(found, "managers", "generic_areas")
            )
        if supervisors:
            # a bare "Foreman", "Overseer", "Contremaîtresse": the description decides
            return ModelVerdict("ambiguous", "supervisor_without_area", tuple(supervisors))
        return ModelVerdict("none", "leader_without_area", tuple(managers))


def _all(found: Mapping[str, Sequence[str]], *keys: str) -> tuple[str, ...]:
    # one word may match several entries ("mill", "*mill"): name it once
    return tuple(dict.fromkeys(word for key in keys for word in found[key]))
