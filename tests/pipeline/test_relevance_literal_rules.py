"""Rules that are a plain word or phrase report their own text as the word they matched
(`Rule.literal`), without a search: the same words the search finds."""

from __future__ import annotations

import dataclasses
import random
import re
from pathlib import Path

from pipeline.relevance import load_profile
from pipeline.relevance_rules import RuleSet, compile_rule
from pipeline.relevance_text import fold, html_to_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _texts() -> list[str]:
    pages = [
        html_to_text(p.read_text(errors="replace").replace("\\n", "\n"))
        for kind in ("facts", "greenhouse", "lever", "jsonld", "himalayas")
        for p in sorted((FIXTURES / kind).rglob("*"))
        if p.is_file() and p.suffix in {".json", ".html", ".txt", ".md"}
    ]
    rng = random.Random(4)
    words = ["haccp", "oee", "factory", "mill", "shop floor", "sqf", "usine", "werk", "cnc",
             "millennial", "werks", "x-haccp", "haccp_", "fabrication", "software", "café"]  # fmt: skip
    pages += [" ".join(rng.choice(words) for _ in range(rng.randint(1, 30))) for _ in range(400)]
    return [fold(p) for p in pages]


def _rule_sets() -> list[RuleSet]:
    profile = load_profile()
    sets = [profile.include, profile.ambiguous, profile.strong, profile.weak, profile.against]
    return sets + [rules for _reason, rules in profile.exclude + profile.veto]


def test_a_plain_rule_matches_its_own_text() -> None:
    rules = [rule for rules in _rule_sets() for rule in rules.rules if rule.literal is not None]
    assert len(rules) > 50
    matched = 0
    for text in _texts():
        data = text.encode()
        for rule in rules:
            span = rule.search(text, data)
            if span is not None:
                assert text[span[0] : span[1]] == rule.literal, (rule.text, text[:80])
                matched += 1
    assert matched > 300


def test_found_words_are_what_every_search_finds() -> None:
    texts = _texts()
    found = 0
    for rules in _rule_sets():
        searched = RuleSet([dataclasses.replace(rule, literal=None) for rule in rules.rules])
        for text in texts:
            data = text.encode()
            words = rules.found(text, data)
            assert words == searched.found(text, data), text[:80]
            found += len(words)
    assert found > 1000


def test_only_patterns_without_metacharacters_are_plain() -> None:
    plain = ["haccp", "shop floor", "responsable d'atelier", "fssc 22000", "usine", "a-b/c,d"]
    patterns = ["c?gmp", "kraftwerk\\w*", "plant (?:manager)", "mill.", "a|b", "x{2}", "^a", "[ab]"]
    for pattern in plain + patterns:
        rule = compile_rule(pattern, pattern, "test")
        assert (rule.literal == pattern) == (pattern in plain), pattern
        assert (rule.literal is None) == bool(re.search(r"[\\.+*?()|\[\]{}^$]", pattern))


def _plain_fold(text: str) -> str:
    """`fold` as it reads: casefold, the punctuation table, accents off, spaces squeezed."""
    import unicodedata

    from pipeline.relevance_text import _PUNCTUATION

    text = text.casefold().translate(_PUNCTUATION)
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(
            ch if ch < "\x80" or ch.isalnum() else " "
            for ch in decomposed
            if not unicodedata.combining(ch)
        )
    return " ".join(text.split())


def test_fold_and_script_dropping_shortcuts_are_the_plain_ones() -> None:
    from pipeline import relevance_text

    rng = random.Random(8)
    pool = [*(chr(c) for c in range(128)), "\u2019", "\u2013", "\u00a0", "é", "K", "ß", "İ", "`",
            "<script>", "</SCRIPT >", "<Style>", "</style>", "x"]  # fmt: skip
    texts = ["".join(rng.choice(pool) for _ in range(rng.randint(0, 20))) for _ in range(30000)]
    for text in texts:
        assert relevance_text.fold(text) == _plain_fold(text), repr(text)
        low = text.translate(relevance_text._ASCII_LOWER)
        assert (text.lower() if text.isascii() else low) == low
