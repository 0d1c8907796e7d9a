"""`pipeline.re2_set.RegexSet` answers what Python's `re` answers, and skills read through it
are the skills every pattern's own search finds."""

from __future__ import annotations

import random
import re

import pytest

from pipeline import enrich
from pipeline.enrich import INDUSTRY_KEYWORDS
from pipeline.re2_set import RegexSet, without_lookarounds
from pipeline.sanitize import normalize_text

IGNORE = re.IGNORECASE
ODD = [
    re.compile(r"\bend$", IGNORE),  # Python's $ also matches before a final line break
    re.compile(r"^start"),
    re.compile(r"x{,3}y"),  # Python: x{0,3}y; RE2: the literal text
    re.compile(r"[:a]+z"),  # refused as "[[:digit:]]" would be (Python reads a plain class)
    re.compile("\u212aelvin", IGNORE),  # the Kelvin sign matches "k" in Python's re only
    re.compile("\u0130stanbul", IGNORE),
    re.compile(r"(?<![\w.])5S\b"),
    re.compile(r"\blean\b(?!\s+on\b)", IGNORE),
    re.compile(r"(a)\1"),
    re.compile(r"a\s+b"),  # \s: Python's also matches \v and \x1c-\x1f
    re.compile(r"\bfoo\S+bar\b"),
    re.compile(r"[(?=]x"),  # not a lookaround: a class
    re.compile(r"\(?!x"),
    re.compile(r"(?i:mixed)CASE"),
    re.compile(r"6σ|sigma", IGNORE),
    re.compile(r"\w+_\d{2}\b"),
    re.compile(r"(?s)a.b"),
    re.compile(r""),
]
POOL = [
    " ", "\n", "\t", "\x0b", "\x1c", "\x1f", "end", "start", "xxxy", "y", "{,3}", ":z", "kelvin",
    "Kelvin", "istanbul", "5S", "x5S", ".5S", "lean", "lean on", "LEAN", "aa", "a b", "a\x0bb",
    "foo-bar", "foo bar", "(x", "?=x", "mixedCASE", "MIXEDcase", "MIXEDCASE", "6σ", "SIGMA",
    "ab_12", "a\nb", "é", "ß", "İ", "-",
]  # fmt: skip


def _texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(POOL) for _ in range(rng.randint(0, 10))) for _ in range(count)]


def _patterns() -> list[re.Pattern[str]]:
    return [
        *ODD,
        *enrich._SKILLS.values(),
        *(
            re.compile(rf"\b(?:{'|'.join(words)})\b", IGNORE)
            for words in INDUSTRY_KEYWORDS.values()
        ),
        *(pattern for _kind, pattern in enrich._EMPLOYMENT),
        *(pattern for _level, pattern in enrich._SENIORITY),
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_set_answers_what_each_regex_answers(seed: int) -> None:
    patterns = _patterns()
    regex_set = RegexSet(patterns)
    known = 0
    for text in _texts(seed, 4000) + [f"{word} end\n" for word in POOL]:
        hits = regex_set.matching(text)
        if hits is None:
            assert not text.isascii() or any(c in text for c in "\x0b\x1c\x1d\x1e\x1f")
            continue
        known += 1
        for i, pattern in enumerate(patterns):
            found = pattern.search(text) is not None
            if regex_set.exact[i]:
                assert (i in hits) == found, (pattern.pattern, text)
            elif found:
                assert i in hits, (pattern.pattern, text)
    assert known > 1000


def test_only_the_constructs_both_engines_read_alike_are_exact() -> None:
    exact = dict(zip((p.pattern for p in ODD), RegexSet(ODD).exact, strict=True))
    refused = [*ODD[:9], re.compile(r"(?s)a.b")]
    assert not any(exact[p.pattern] for p in refused)
    assert all(exact[p.pattern] for p in ODD if p not in refused)


def test_lookarounds_are_cut_out_and_nothing_else() -> None:
    assert without_lookarounds(r"(?<![\w.,$-])[56]S\b") == r"[56]S\b"
    assert without_lookarounds(r"\blean\b(?!\s+(?:on|in)\b)x") == r"\blean\bx"
    assert without_lookarounds(r"[(?=]x\(?!y(?=(z))w") == r"[(?=]x\(?!yw"
    assert without_lookarounds(r"a(?=b") is None


@pytest.mark.parametrize("seed", [4, 5])
def test_skills_are_the_skills_each_pattern_finds(seed: int) -> None:
    rng = random.Random(seed)
    words = [
        "lean", "Lean on", "lean into", "5S", "6S", "x5S", "$5S", "SAP", "sap", "kaizen", "OEE",
        "HACCP", "cGMP", "GMPs", "good manufacturing practice", "Six-Sigma", "6σ", "green belt",
        "JIT", "just in time production", "Just-in-Time", "tableau", "Tableau de", "power bi",
        "ISO 9001", "IATF-16949", "AS9100D", "MRP II", "ERP", "Oracle", "ORACLE", "oracle",
        "JD Edwards", "D365", "PMP", "pmp", "TPM", "total productive maintenance", "VSM",
        "\u212aaizen", "ſap", "é", "the", ",", ".", "\n", "  ", "\t", "\x0b", "\x1c",
    ]  # fmt: skip
    for _ in range(3000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 12)))
        plain = normalize_text(text)
        expected = [skill for skill, pattern in enrich._SKILLS.items() if pattern.search(plain)]
        assert enrich.skills(text) == expected, text
