"""The literal gates before regex searches (`pipeline.prefilter`) change no result, only the cost."""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import re2

from pipeline import enrich, facts
from pipeline.prefilter import Gated, GatedAlternation, fold, literal_clauses, widened
from pipeline.re2_bytes import AsciiRE2

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "fixtures" / "facts"))
from collect import all_descriptions  # noqa: E402


def _gates() -> dict[str, Gated]:
    """Every gated rule of the facts and enrichment modules, by name."""
    found: dict[str, Gated] = {}
    for module in (facts, enrich):
        for name, value in vars(module).items():
            if isinstance(value, Gated):
                found[f"{module.__name__}.{name}"] = value
            elif isinstance(value, dict | list):
                pairs = value.items() if isinstance(value, dict) else enumerate(value)
                for key, item in pairs:
                    item = item[-1] if isinstance(item, tuple) else item
                    if isinstance(item, Gated):
                        found[f"{module.__name__}.{name}[{key}]"] = item
    return found


GATES = _gates()


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return list(all_descriptions(REPO).values())


def test_the_rules_are_gated() -> None:
    names = " ".join(GATES)
    for expected in ("_TEAM_RE", "_SHIFT_RES[3rd]", "_STANDARD_RES[gmp]", "_DESC_PATTERNS"):
        assert expected in names
    assert all(gate.clauses for gate in GATES.values()), "a rule without literals is not gated"


@pytest.mark.parametrize(
    ("pattern", "flags", "expected"),
    [
        (r"\bhaccp\b", 0, [{"haccp"}]),
        (r"\b(?:1st|first|day)[\s-]+(?:shifts?|crews?)\b", 0, [{"shift", "crew"}, {"1st", "first", "day"}]),
        (r"c?GMPs?", 0, [{"gmp"}]),
        (r"\bfood\b|\bsafe\s+quality\s+food\b", re.IGNORECASE, [{"food"}, {"food", "quality"}, {"food", "safe"}]),
        (r"(?i)\bteam\s+of\s+\d{1,3}", 0, [{"team"}, {"of"}]),
        (r"lean|\w+", 0, []),  # an alternative needs no literal: nothing is required
        (r"[[:digit:]]x", 0, []),  # RE2's POSIX class: Python would read "]x" as required
        (r"ge(?:tr)änke", 0, [{"getr"}, {"nke"}]),  # only ASCII literals
        (r"(?<![\w.])[56]S\b", 0, [{"s"}]),
    ],
)  # fmt: skip
def test_literal_clauses(pattern: str, flags: int, expected: list[set[str]]) -> None:
    assert [set(c) for c in literal_clauses(pattern, flags)] == expected


def test_digits_are_a_clause_only_for_re2() -> None:
    assert literal_clauses(r"\d+ people") == [frozenset({"people"})]
    assert literal_clauses(r"\d{2,}") == []
    assert literal_clauses(r"\d{2,}", ascii_digits=True) == [frozenset("0123456789")]


def test_clauses_after_the_first_stay_within_a_few_literals() -> None:
    assert literal_clauses(r"\bteam\s+of\s+(?:two|three|four|five|six|seven)") == [
        frozenset({"team"}),
        frozenset({"of"}),
    ]


def test_fold_keeps_what_ignorecase_matches() -> None:
    # characters that match an ASCII letter case-insensitively fold to it
    for odd, letter in (("\u212a", "k"), ("\u017f", "s"), ("\u0130", "i"), ("\u0131", "i")):
        assert fold(f"x{odd}y") == f"x{letter}y"
        assert re.search(letter, odd, re.IGNORECASE) or letter == "i"


@pytest.mark.parametrize(
    "text",
    [
        "\u212aaizen events",
        "ISO 9001 and HAC\u212a\u212aP? no: HACCP",
        "OSHA P\u017fM",
        "İndustrial equipment",
    ],
)
def test_odd_case_letters_still_match(text: str) -> None:
    for rx in (
        re.compile(r"\b(?:kaizen|haccp|psm|industrial)\b", re.I),
        re2.compile(r"(?i)\b(?:kaizen|psm)\b"),
    ):
        gated = Gated(rx)
        assert (gated.search(text) is None) == (rx.search(text) is None)


def test_widened_opens_only_wide_counted_repeats() -> None:
    assert widened(r"lead[^.!?\n]{0,120}?\b\d{1,5}") == r"lead[^.!?\n]{0,}?\b\d{1,5}"
    assert widened(r"a{1,3}b") is None
    assert widened(r"\{0,30}") is None  # an escaped brace is a literal
    assert widened(r"[{]{0,30}") == r"[{]{0,}"
    assert widened(r"[]{0,30}]x") is None  # "]" first in a class is a literal: all one class


def _mutations(text: str, rng: random.Random) -> list[str]:
    """The text and variants: case flipped, odd case-folding letters, whitespace changed."""
    odd = str.maketrans({"k": "\u212a", "s": "\u017f", "i": "\u0131", "I": "\u0130"})
    variants = [text, text.swapcase(), text.translate(odd), re.sub(r" ", "  \n", text)]
    words = text.split()
    if len(words) > 3:
        rng.shuffle(words)
        variants.append(" ".join(words))
    return variants


def test_gates_answer_what_the_patterns_answer(corpus: list[str]) -> None:
    rng = random.Random(7)
    sentences = [s for text in corpus for s in re.split(r"(?<=[.!?\n])", text) if s.strip()]
    sample = rng.sample(sentences, min(len(sentences), 1500))
    texts = [t for s in sample for t in _mutations(s, rng)]
    for name, gated in GATES.items():
        for text in texts:
            want = gated.regex.search(text)
            got = gated.search(text)
            assert (got and got.span()) == (want and want.span()), (name, text)


def _ungated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Gated, "admits", lambda self, text: True)
    monkeypatch.setattr(Gated, "admits_folded", lambda self, folded: True)
    monkeypatch.setattr(GatedAlternation, "for_text", lambda self, folded: self.regex)


def test_the_corpus_reads_the_same_without_the_gates(
    corpus: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def read(text: str) -> Any:
        return (
            facts.extract_facts(text),
            enrich.industries("Plant Manager", "Acme", text, {"department": text[:200]}),
            enrich.workplace(None, None, [], text),
            enrich.skills(text),
        )

    gated = [read(text) for text in corpus]
    _ungated(monkeypatch)
    assert [read(text) for text in corpus] == gated
    assert any(g[0] for g in gated) and any(g[1] for g in gated)  # the corpus has facts to find


def _answers(match: Any, regex: Any) -> Any:
    """Everything the facts rules read from a match: spans, groups by number and by name."""
    if match is None:
        return None
    numbers = range(regex.groups + 1)
    return (
        [match.span(i) for i in numbers],
        [(match.start(i), match.end(i)) for i in numbers],
        [match.group(i) for i in numbers],
        [match[i] for i in numbers],
        {name: match.group(name) for name in regex.groupindex},
        match.group(0, *numbers) if regex.groups else match.group(),
    )


def test_re2_on_ascii_bytes_answers_what_google_re2_answers(corpus: list[str]) -> None:
    rng = random.Random(3)
    sentences = [s for text in corpus for s in re.split(r"(?<=[.!?\n])", text) if s.strip()]
    texts = [s for s in rng.sample(sentences, min(len(sentences), 800)) if s.isascii()]
    texts += ["", " ", "lead 12 people, 3 shifts; on call volume. 24/7 on-call", "x" * 300]
    rules = [gate for gate in GATES.values() if isinstance(gate.searcher, AsciiRE2)]
    empty = re2.compile(r"(?i)(x*)(?P<lead>lead)?")  # empty matches: finditer must step
    checked = 0
    for regex in [*(gate.regex for gate in rules), empty]:
        fast = AsciiRE2(regex)
        for text in texts:
            for bounds in [(), (0,), (3, len(text) - 2), (len(text), 1), (-5, 10**6)]:
                want = regex.search(text, *bounds)
                assert _answers(fast.search(text, *bounds), regex) == _answers(want, regex)
                checked += want is not None
                assert [_answers(m, regex) for m in fast.finditer(text, *bounds)] == [
                    _answers(m, regex) for m in regex.finditer(text, *bounds)
                ]
    assert len(rules) > 20 and checked > 500  # the facts rules, and they match these texts


def test_gates_with_many_literals_find_them_in_one_pass() -> None:
    many = [gate for gate in GATES.values() if gate._indexed]
    assert facts._TEAM_RE in many  # ~40 leading verbs and people nouns
    for text in ("We lead 40 operators", "Apply now", "MANAGING A TEAM OF 12", "\u0130ntern"):
        for gate in many:
            folded = fold(text)
            assert gate._holds_literals(text) == all(
                any(literal in folded for literal in clause) for clause in gate.clauses
            )
