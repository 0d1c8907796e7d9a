"""The facts rules picked by one RE2 pass over the whole text (`facts._PATTERNS`) find what
every rule searched on every sentence finds."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from pipeline import facts
from pipeline.prefilter import PatternIndex
from pipeline.relevance_text import html_to_text
from tests.pipeline.test_facts_gating import _all_rules

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# sentences that state facts, with the words that change them ("hand over", "preferred")
_STATED = [
    "Hand over to third shift supervisor at the end of each day",
    "Handoff to 2nd shift; pass-down with night shift leads",
    "Rotating 12-hour shifts, every other weekend and on-call support",
    "GMP and FDA experience preferred",
    "ISO 9001, IATF 16949 or AS9100 is a plus",
    "Nice to have: HACCP, SQF, BRCGS, FSSC 22000",
    "Preferred Qualifications:",
    "Lead a team of 45 operators and 3 supervisors",
    "Manage 120 people in a union environment (UAW)",
    "Non-union facility. Relocation assistance available. Travel up to 25% of the time",
    "No relocation offered; no travel",
    "Support on call volume and weekend coverage",
    "Requirements",
    "Nachtschicht und Wechselschicht; Rufbereitschaft am Wochenende",
]
_GAPS = [" ", "  ", "\t", " \t ", "\n", "\n\n", "\r\n", " \n ", ". ", "! ", "\n- ", "\n• ", "\f"]


def _texts(seed: int, count: int) -> list[str]:
    pages = [
        html_to_text(p.read_text(errors="replace").replace("\\n", "\n"))
        for kind in ("facts", "greenhouse", "lever")
        for p in sorted((FIXTURES / kind).rglob("*"))
        if p.is_file() and p.suffix in {".json", ".html", ".txt", ".md"}
    ]
    sentences = [s for t in pages for s in re.split(r"(?<=[.!?\n])", t) if s.strip()]
    rng = random.Random(seed)
    texts = list(pages)
    for _ in range(count):
        parts = rng.sample(sentences, rng.randint(0, 6)) + rng.sample(_STATED, rng.randint(1, 4))
        rng.shuffle(parts)
        # words of a sentence parted by odd runs of spaces, tabs and bullets too
        parts = [
            rng.choice(_GAPS[:4]).join(p.split(" ")) if rng.random() < 0.3 else p for p in parts
        ]
        text = "".join(p + rng.choice(_GAPS) for p in parts)
        texts.append(text.upper() if rng.random() < 0.15 else text)
    return texts


def test_spaced_squeezes_runs_of_spaces_and_tabs_as_a_regex_does() -> None:
    rng = random.Random(3)
    pool = [" ", "  ", "\t", "a", "\n", "\u00a0", "\x0b"]
    for _ in range(20000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 16)))
        assert facts._spaced(text) == re.sub(r"[ \t]+", " ", text), repr(text)


def test_a_rule_that_matches_in_a_sentence_is_found_in_the_spaced_text() -> None:
    hits = 0
    for text in _texts(5, 600):
        found = facts._PATTERNS.matching(facts._spaced(text))
        assert found is not None
        for sentence, _preferred in facts._segments(text):
            clean = facts._squeeze(sentence)
            for i, gate in enumerate(facts._PATTERN_GATES):
                if gate.regex.search(clean) is not None:
                    assert i in found, (gate.pattern[:60], clean)
                    hits += 1
    assert hits > 1000


def test_facts_are_what_every_rule_on_every_sentence_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = _texts(7, 1500)
    picked = [facts.extract_facts(t) for t in texts]
    monkeypatch.setattr(facts, "_rules_for", _all_rules)
    every = [facts.extract_facts(t) for t in texts]
    assert picked == every
    assert sum("shifts" in f for f in every) > 300 and sum("standards" in f for f in every) > 300
    assert any(s["preferred"] for f in every for s in f.get("standards", []))


def test_the_literals_decide_when_re2_cannot_tell(monkeypatch: pytest.MonkeyPatch) -> None:
    index = PatternIndex(facts._PATTERN_GATES)
    assert index.matching("2nd shift, GMP preferred") is not None
    assert index.matching("lone \ud800 surrogate") is None

    class _Failing:  # an RE2 set whose automaton ran out of memory reports no match at all
        def Match(self, _data: bytes) -> None:  # RE2's own method name
            return None

    index._set = _Failing()
    assert index.matching("2nd shift, GMP preferred") is None
    monkeypatch.setattr(facts, "_PATTERNS", index)
    text = "Second shift. GMP experience preferred; lead 12 operators"
    assert facts._rules_for(text) == facts._rules_for_literals(text)
    stated = facts.extract_facts(text)
    monkeypatch.setattr(facts, "_rules_for", _all_rules)
    assert stated == facts.extract_facts(text) and stated["team_size"]["value"] == 12


def test_pattern_index_takes_re2_patterns_only() -> None:
    from pipeline.prefilter import Gated

    with pytest.raises(TypeError):
        PatternIndex([Gated(re.compile(r"\bshift\b"))])
