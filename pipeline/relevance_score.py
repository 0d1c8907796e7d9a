"""Measure the relevance stage on a labelled title file (the titles-reference.tsv format)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.relevance import RoleProfile, Verdict, classify

# Subsets reported separately, named after the `source` column: O*NET tiers, ESCO languages.
SUBSETS = ("onet-modern", "onet-legacy", "esco-en", "esco-fr", "esco-es")
LABELS = ("relevant", "irrelevant", "ambiguous")


@dataclass(frozen=True)
class Row:
    """One labelled title: its text, its label and the subset its source puts it in."""

    title: str
    label: str
    subset: str
    description: str = ""


@dataclass
class Tally:
    """True/false positives and false negatives of one subset, with the misclassified rows."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    errors: list[tuple[Row, Verdict]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    def add(self, row: Row, verdict: Verdict) -> None:
        expected = row.label == "relevant"
        if verdict.keep and expected:
            self.tp += 1
        elif verdict.keep:
            self.fp += 1
        elif expected:
            self.fn += 1
        else:
            self.tn += 1
        if verdict.keep != expected:
            self.errors.append((row, verdict))


def subset_of(source: str) -> str:
    """Name the subset of a `source` cell: "onet27|...|tier=legacy" -> "onet-legacy"."""
    head = source.split("|", 1)[0].strip()
    if head.startswith("esco-"):
        return head
    tier = "modern" if "tier=modern" in source else "legacy"
    return f"onet-{tier}" if head.startswith("onet") else head or "other"


def read_rows(path: Path) -> Iterator[Row]:
    """Read `title<TAB>label<TAB>source[<TAB>description]`; refuse a row with an unknown label."""
    with path.open(encoding="utf-8", newline="") as fh:
        for number, cells in enumerate(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE), 1):
            if not cells or (number == 1 and cells[0] == "title"):
                continue
            if len(cells) < 3 or cells[1] not in LABELS:
                raise ValueError(f"{path}:{number}: expected title<TAB>label<TAB>source")
            description = cells[3] if len(cells) > 3 else ""
            yield Row(cells[0], cells[1], subset_of(cells[2]), description)


def score(rows: Iterable[Row], profile: RoleProfile) -> dict[str, Tally]:
    """Tally each subset and "all"; ambiguous rows are left out, as the file's README says."""
    tallies: dict[str, Tally] = {}
    for row in rows:
        if row.label == "ambiguous":
            continue
        verdict = classify(row.title, row.description or None, profile)
        for name in (row.subset, "all"):
            tallies.setdefault(name, Tally()).add(row, verdict)
    ordered = [name for name in SUBSETS if name in tallies]
    ordered += sorted(set(tallies) - set(ordered) - {"all"}) + ["all"] * ("all" in tallies)
    return {name: tallies[name] for name in ordered}


def report_lines(tallies: dict[str, Tally], *, errors: bool = True) -> list[str]:
    """Format a score: one line per subset, then the misclassified rows (of "all")."""
    lines = [f"{'subset':<12} {'n':>5} {'precision':>9} {'recall':>7}  tp/fp/fn"]
    for name, t in tallies.items():
        lines.append(
            f"{name:<12} {t.n:>5} {t.precision:>9.3f} {t.recall:>7.3f}  {t.tp}/{t.fp}/{t.fn}"
        )
    wrong = tallies["all"].errors if errors and "all" in tallies else []
    if wrong:
        lines.append(f"errors ({len(wrong)}):")
    for row, verdict in wrong:
        kind = "missed" if row.label == "relevant" else "kept"
        rule = f" [{verdict.matched}]" if verdict.matched else ""
        lines.append(f"  {kind:<6} {row.subset:<11} {row.title!r} -> {verdict.reason}{rule}")
    return lines
