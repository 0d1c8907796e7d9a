"""One-pass gates answer what the per-rule checks answer: the literals a text holds
(`LiteralIndex`), the relevance sets matched together (`Joined`), and the facts' sentence
fast paths. Checked on the fixtures' descriptions, recombined, and on random strings."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest

from pipeline import enrich, facts
from pipeline.prefilter import LiteralIndex, fold
from pipeline.relevance import classify, load_profile
from pipeline.relevance_rules import Joined
from pipeline.relevance_text import fold as relevance_fold
from pipeline.relevance_text import html_to_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _texts(seed: int, count: int = 600) -> list[str]:
    pages = [
        html_to_text(p.read_text(errors="replace").replace("\\n", "\n"))
        for kind in ("facts", "greenhouse", "lever", "jsonld")
        for p in sorted((FIXTURES / kind).rglob("*"))
        if p.is_file() and p.suffix in {".json", ".html", ".txt", ".md"}
    ]
    sentences = [s for t in pages for s in re.split(r"(?<=[.!?\n])", t) if s.strip()]
    rng = random.Random(seed)
    spaces = [" ", "  ", "\t", "\n", "\n\n", "\r\n", " \n ", ". ", "!"]
    mixed = []
    for _ in range(count):
        parts = rng.sample(sentences, min(len(sentences), rng.randint(1, 12)))
        if rng.random() < 0.5:  # the fixtures' descriptions name few skills
            parts.insert(rng.randint(0, len(parts)), rng.choice(_SKILLS))
        text = "".join(p + rng.choice(spaces) for p in parts)
        mixed.append(text.upper() if rng.random() < 0.2 else text)
    return pages + mixed


_SKILLS = [
    "Drive lean manufacturing, 5S, kaizen and Six Sigma (Green Belt) projects.",
    "Experience with SAP, Oracle or JD Edwards ERP and MRP II systems.",
    "Microsoft Dynamics 365, Power BI and Tableau reporting.",
    "Knowledge of ISO 9001, IATF 16949, AS9100D, GMP, cGMPs, HACCP and OSHA.",
    "Improve OEE through TPM, total productive maintenance and a CMMS.",
    "APICS CPIM or CSCP certification, PMP a plus; just-in-time (JIT) and TQM.",
    "Lean on your team; clean rooms; value stream mapping (VSM) workshops.",
]


class _Failing:
    """An RE2 set whose automaton ran out of memory: it reports no match at all."""

    def Match(self, _data: bytes) -> None:  # RE2's own method name
        return None


class _Unknown:
    """A pattern index for which RE2 could not tell (`PatternIndex.matching` is None)."""

    def matching(self, _text: str) -> None:
        return None


class _Everything:
    """A literal index that says every literal is there: every rule runs, nothing is gated."""

    def __init__(self, index: LiteralIndex) -> None:
        self.all = frozenset(index.literals)

    def present(self, _text: str) -> frozenset[str]:
        return self.all


def test_literal_index_finds_exactly_the_literals_a_text_holds() -> None:
    literals = ["lean", "ean", "sigma", "6σ", "haccp", "shift", "ift", "a", "gmp", "9001", "-"]
    index = LiteralIndex(literals)
    rng = random.Random(3)
    pool = [*literals, " ", "x", "É", "\ud800", "\U0001f600", "ſ", "\n"]
    texts = [
        "",
        *("".join(rng.choice(pool) for _ in range(rng.randint(0, 12))) for _ in range(5000)),
    ]
    texts += [fold(t) for t in _texts(1, 100)]
    for text in texts:
        assert index.present(text) == {lit for lit in literals if lit in text}, repr(text)


def test_literal_index_falls_back_to_scans_when_re2_gives_up() -> None:
    index = LiteralIndex(["shift", "gmp", "haccp"])
    index._set = _Failing()
    assert index.present("2nd shift, haccp") == {"shift", "haccp"}


def test_industries_and_skills_are_what_ungated_rules_find(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _texts(5)
    titles = ["Production Manager", "Plant Manager - Food", "Bakery Supervisor", "Pharma Lead"]

    def run() -> list[Any]:
        return [
            (
                enrich.industries(titles[i % 4], "Acme", text, {"department": "Operations"}),
                enrich.skills(text),
            )
            for i, text in enumerate(texts)
        ]

    gated = run()
    monkeypatch.setattr(enrich, "_INDUSTRY_LITERALS", _Everything(enrich._INDUSTRY_LITERALS))
    monkeypatch.setattr(enrich, "_SKILL_INDEX", _Everything(enrich._SKILL_INDEX))
    enrich._strong_industries.cache_clear()  # remembered titles: found again without gates
    assert gated == run()
    assert sum(bool(i) for i, _s in gated) > 100 and sum(bool(s) for _i, s in gated) > 50


def test_facts_are_what_ungated_rules_find(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _texts(7)
    gated = [facts.extract_facts(t) for t in texts]
    monkeypatch.setattr(facts, "_PATTERNS", _Unknown())  # the literals decide alone
    by_literals = [facts.extract_facts(t) for t in texts]
    monkeypatch.setattr(facts, "_LITERALS", _Everything(facts._LITERALS))
    assert gated == by_literals == [facts.extract_facts(t) for t in texts]
    assert sum(bool(f) for f in gated) > 50


def test_remembered_industry_rules_are_the_ones_worked_out_anew() -> None:
    titles = ["Production Manager", "Bakery Supervisor", "Pharma Lead", "Plant Manager - Food"]
    enrich._strong_industries.cache_clear()
    for i, text in enumerate(_texts(13, 200)):
        strong = f"{titles[i % 4]} \n {text[:300]}"
        for _ in range(2):  # worked out, then remembered
            assert enrich._strong_industries(strong) == enrich._in_strong(strong)
            present = enrich._INDUSTRY_LITERALS.present(fold(text))
            fresh = [
                (industry, alternation.for_present(present))
                for industry, alternation in enrich._INDUSTRY_PATTERNS.items()
            ]
            remembered = [(k, rx) for k, rx, _leading in enrich._narrowed(present)]
            assert remembered == [(k, rx) for k, rx in fresh if rx]
    assert enrich._strong_industries.cache_info().hits > 0


def test_company_industries_are_remembered_not_changed() -> None:
    for name in ["Tyson Foods", "Bosch", "Spirit AeroSystems", "Acme", "Hitachi Energy", ""]:
        direct = {i for gated, inds in enrich._COMPANY_PATTERNS if gated.search(name) for i in inds}
        assert enrich.company_industries(name) == direct


def test_sentence_fast_paths_split_and_squeeze_as_the_regexes_do() -> None:
    rng = random.Random(9)
    pool = [*"ab .!?\t\f\r\n", " ", "  ", "A", "x.Y", "\u00a0", "\x0b"]
    for _ in range(20000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 14)))
        assert facts._squeeze(text) == facts._WS_RE.sub(" ", text), repr(text)
        every = []
        for line in text.splitlines():
            stripped = line.strip(" \t-•*·")
            if stripped:
                every += [s.strip() for s in facts._SPLIT_RE.split(stripped) if s.strip()]
        assert [s for s, _ in facts._segments(text)] == every, repr(text)


def _joined_sets() -> list[Joined]:
    profile = load_profile()
    return [profile.context, Joined([profile.include, profile.ambiguous, profile.strong])]


def test_joined_sets_match_what_each_set_matches() -> None:
    texts = [relevance_fold(t) for t in _texts(13, 300)]
    for joined in _joined_sets():
        for text in texts:
            data = text.encode()
            assert joined.indices(data) == [rules.indices(data) for rules in joined.sets]


def test_joined_sets_fall_back_to_each_set_when_re2_gives_up() -> None:
    joined = _joined_sets()[0]
    text = relevance_fold("Lead a food plant of 200 operators; no software or film work")
    expected = [rules.indices(text.encode()) for rules in joined.sets]
    joined = Joined(joined.sets)
    joined._set = _Failing()
    assert joined.indices(text.encode()) == expected
    assert any(expected)


def test_verdicts_on_descriptions_are_what_separate_sets_give(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    profile = load_profile()
    texts = _texts(17, 400)
    titles = ["Operations Manager", "Production Manager", "Line Supervisor", "Plant Lead"]
    verdicts = [classify(titles[i % 4], t, profile, "Acme") for i, t in enumerate(texts)]
    separate = Joined(profile.context.sets)
    separate._set = _Failing()
    monkeypatch.setitem(profile.__dict__, "context", separate)
    assert verdicts == [classify(titles[i % 4], t, profile, "Acme") for i, t in enumerate(texts)]
    assert len({v.reason for v in verdicts}) > 2


def test_rule_search_on_ascii_bytes_is_the_wrapper_search() -> None:
    profile = load_profile()
    groups = [profile.include, profile.ambiguous, profile.strong, profile.weak, profile.against]
    groups += [rules for _reason, rules in profile.exclude + profile.veto]
    rules = [rule for group in groups for rule in group.rules]
    texts = [relevance_fold(t) for t in _texts(19, 120)]
    texts = [t for t in texts if t.isascii()]
    hits = 0
    for text in texts:
        data = text.encode()
        for rule in rules:
            span = rule.search(text, data)
            assert span == rule.search(text), (rule.text, text[:80])
            hits += span is not None
    assert hits > 200
