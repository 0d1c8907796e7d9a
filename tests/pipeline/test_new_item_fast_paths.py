"""Fast paths of the new-item pipeline answer what their plain forms answer: whitespace folded by
str.split, title judgements remembered per profile, and the other shortcuts of the stages."""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline import enrich, normalize, relevance, sanitize, storable, tokens
from pipeline.enrich import INDUSTRY_KEYWORDS
from pipeline.leading import aligned_fold, leading_literals, search_from
from pipeline.location import Place
from pipeline.relevance import RoleProfile, classify, load_profile
from pipeline.relevance_score import read_rows
from pipeline.relevance_text import fold, fold_title

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "tests" / "fixtures" / "relevance" / "titles-reference.tsv"
sys.path.insert(0, str(REPO / "tests" / "fixtures" / "facts"))
from collect import all_descriptions  # noqa: E402

SPACES = [chr(c) for c in range(0x110000) if chr(c).isspace()]


@pytest.fixture(scope="module")
def descriptions() -> list[str]:
    return list(all_descriptions(REPO).values())[:30]


def _odd_strings(rng: random.Random, count: int) -> list[str]:
    pool = [*SPACES, "a", "É", "x y", "-", "\u200b", "\u2019", "ß"]
    return ["".join(rng.choice(pool) for _ in range(rng.randint(0, 12))) for _ in range(count)]


def test_fold_squeezes_whitespace_as_the_regex_did() -> None:
    assert len(SPACES) > 20  # \x1c-\x1f, \x85, \u2028... not only ASCII spaces
    spaces = re.compile(r"\s+")
    for text in [*_odd_strings(random.Random(4), 20000), *SPACES]:
        assert " ".join(text.split()) == spaces.sub(" ", text).strip()
        assert fold(text) == spaces.sub(" ", fold(text)).strip()
        assert fold_title(text) == spaces.sub(" ", fold_title(text)).strip()


def test_remembered_title_judgements_are_fresh_ones(descriptions: list[str]) -> None:
    profile = load_profile()
    titles = [row.title for row in read_rows(REFERENCE)]
    titles += ["", "  ", "Operations Manager - Manufacturing", "P" * 400 + " Plant Manager"]
    rng = random.Random(8)
    for title in titles:
        fresh = relevance._judge_title(profile, title)
        assert relevance._judged(profile, title) == fresh
        assert relevance._judged(profile, title) == fresh  # remembered
        description = rng.choice([None, *descriptions])
        verdict = classify(title, description, profile, "Acme Foods")
        assert verdict == classify(title, description, profile, "Acme Foods")
    assert "P" * 400 + " Plant Manager" not in profile.titles  # too long to be remembered
    assert len(profile.titles) > 1000


def test_each_profile_remembers_its_own_judgements(tmp_path: Path) -> None:
    default = load_profile()
    assert classify("Bakery Supervisor", None, default).keep
    text = relevance.DEFAULT_PROFILE.read_text()
    stricter = text.replace("[exclude]", '[exclude]\nbakery = ["bakery"]', 1)
    assert stricter != text
    path = tmp_path / "profile.toml"
    path.write_text(stricter)
    other = load_profile(path)
    assert isinstance(other, RoleProfile) and other is not default
    assert classify("Bakery Supervisor", None, other).reason == "bakery"
    assert classify("Bakery Supervisor", None, default).keep


def test_odd_spaces_are_found_as_the_regex_finds_them() -> None:
    rng = random.Random(6)
    pool = [*(chr(c) for c in range(128)), *SPACES, "é"]
    texts = ["".join(rng.choice(pool) for _ in range(rng.randint(0, 8))) for _ in range(30000)]
    for text in [*texts, *(chr(c) for c in range(128))]:
        assert sanitize._has_odd_space(text) == (sanitize._ODD_SPACE.search(text) is not None)


def test_ascii_words_are_the_regex_words() -> None:
    rng = random.Random(2)
    pool = [*(chr(c) for c in range(128)), "lean", "5S", "é", "ß", "\u0131"]
    texts = ["".join(rng.choice(pool) for _ in range(rng.randint(0, 16))) for _ in range(30000)]
    for text in texts:
        assert tokens._words(text) == tokens._WORD_RE.findall(text)
        assert tokens.tokenize_text(text) == tokens._WORD_RE.findall(tokens._fold(text))


@pytest.mark.parametrize(
    ("pattern", "flags", "expected"),
    [
        (r"\bLean\b(?!\s+on)", 0, {"lean"}),
        (r"(?<![\w.])[56]S\b", 0, {"5", "6"}),
        (r"\bsix[\s-]?sigma\b|\b6σ|\b(?:green|black)\s+belt\b", 0, {"six", "6", "green", "black"}),
        (r"(?i:\bjust\s+in)", 0, {"just"}),
        (r"\b[cC]?GMPs?\b", 0, {"cgmp", "gmp"}),  # an optional first letter, or none
        (r"(?:ab)?c*d", 0, {"abc", "abd", "c", "d"}),
        (r"(?:ab|cd)?e", 0, {"ab", "cd", "e"}),
        (r"x*", 0, None),  # the empty match starts anywhere
        (r"[^a]?b", 0, None),
        (r"(?:a|b\w)+c", 0, {"a", "b"}),  # a repeat taken at least once
        (r"\bfoo|\w+", 0, None),  # one alternative starts anywhere
        (r"(?=x)", 0, None),  # only zero-width: the empty match starts anywhere
        (r"é\w", 0, None),  # not ASCII
    ],
)  # fmt: skip
def test_leading_literals(pattern: str, flags: int, expected: set[str] | None) -> None:
    found = leading_literals(pattern, flags)
    assert (found if found is None else set(found)) == expected


def test_searches_begun_at_the_first_leading_literal_find_the_first_match(
    descriptions: list[str],
) -> None:
    regexes = [*enrich._SKILLS.values(), re.compile(r"(?<![\w.,$-])5S\b|\bkaizen\b", re.I)]
    regexes += [re.compile(r"\b(?:c?GMP|a?sap)\b", re.I), re.compile(r"\b[56]?S\b(?!\s+on)")]
    regexes += [re.compile(rf"\b(?:{w})\b", re.I) for ws in INDUSTRY_KEYWORDS.values() for w in ws]
    rng = random.Random(12)
    words = ["5S", "x.5S", "lean", "LEAN on", "Six-Sigma", "SAP", "sap", "a", "\u212aaizen", "cGMP",
             "gmp", "GMPs", "xgmp", "c", "S", "6S on", "asap",
             "ſap", "ıso 9001", "İSO 9001", "straße", "ß", "i\u0307", "ﬁll", "café"]  # fmt: skip
    texts = descriptions + [
        " ".join(rng.choice(words) for _ in range(rng.randint(0, 20))) for _ in range(600)
    ]
    matched = aligned = 0
    for regex in regexes:
        leading = leading_literals(regex.pattern, regex.flags)
        for text in texts:
            want = regex.search(text)
            folded = aligned_fold(text)
            got = search_from(regex, text, folded, leading)
            assert (got and got.span()) == (want and want.span()), (regex.pattern, text)
            for pos in (1, len(text) // 2, len(text)):  # and from later on
                later = regex.search(text, pos)
                got = search_from(regex, text, folded, leading, pos)
                assert (got and got.span()) == (later and later.span()), (regex.pattern, text, pos)
            matched += want is not None
            aligned += folded is not None and not text.isascii()
    assert matched > 500 and aligned > 500  # and not only on ASCII text


def test_industries_and_skills_read_the_same_searched_from_the_start(
    descriptions: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    skills = "Lean on kaizen, 5S and Six Sigma; SAP/JD Edwards, MRP II, ISO 9001 and OSHA."
    texts = descriptions + [f"{t.upper()} Straße İ ſ {skills}" for t in descriptions]
    texts += [f"{t} {skills.lower()} café" for t in descriptions]

    def read() -> list[tuple[list[str], list[str]]]:
        return [(enrich.industries("Plant Manager", "Acme", t), enrich.skills(t)) for t in texts]

    begun_late = read()
    monkeypatch.setattr(enrich, "search_from", lambda rx, text, _f, _l, pos=0: rx.search(text, pos))
    monkeypatch.setattr(enrich, "_hits", lambda rx, text, _f, _l: len(rx.findall(text)[:2]))
    assert read() == begun_late
    assert sum(bool(i) for i, _s in begun_late) > 20 and sum(bool(s) for _i, s in begun_late) > 20


def _plain_normalize_text(text: str) -> str:
    """normalize_text without its shortcuts: every line's spaces squeezed, runs of breaks cut."""
    lines = [sanitize._SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return sanitize._MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


def test_normalize_text_is_the_plain_squeeze() -> None:
    rng = random.Random(10)
    pool = [" ", "  ", "\n", "\n\n\n\n", "\t", "\r", "\f", "\v", "\xa0", "\u200b", "\u2009",
            "\x1c", "\u2028", "a", "word", "é", "-", "\n- "]  # fmt: skip
    texts = ["".join(rng.choice(pool) for _ in range(rng.randint(0, 30))) for _ in range(30000)]
    texts += ["\n" * n for n in range(12)] + ["a" + "\n" * n + "b" for n in range(12)]
    for text in texts:
        assert sanitize.normalize_text(text) == _plain_normalize_text(text), repr(text)


def test_remembered_employment_types_are_read_anew() -> None:
    values = ["Full-time", "FullTime", "PartTime", "Contract", "Intern", "x" * 300 + " temporary",
              "Vollzeit", "", "per diem", "Full-time"]  # fmt: skip
    for value in values * 2:
        assert enrich.employment_type(value) == enrich._read_employment(value)
        assert enrich.employment_type([3, value]) == enrich._read_employment(value)  # type: ignore[list-item]
    assert enrich._employment_of.cache_info().hits > 0


def _plain_rate_range(text: str, place: Any, report: Any) -> Any:
    """`normalize._rate_range_in_text` searching the whole text, from its start."""
    match = normalize._RATE_RANGE.search(text, 0, 20000)
    if match is None:
        return None
    salary = normalize.read_salary(
        None, match.group(0), currency_hint=normalize.currency_for_country(place.country)
    )
    if salary is not None and normalize.is_plausible(salary):
        report.count("salary/from_description")
        return salary
    return None


def test_pay_in_descriptions_is_read_as_the_ungated_search_reads_it(
    descriptions: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pay = ["Salary: $95,000 - $115,000 per year.", "$30.50 - $34.00 per hour", "€18–22/h",
           "The hiring range is $88,000 to $104,000.", "£30k to £35k per annum", "WAGES $20/hr",
           "Vergütung: 4.500 EUR", "a $5M budget", "x" * 20100 + " $20 - $25 per hour"]  # fmt: skip
    rng = random.Random(14)
    texts = [*descriptions, *pay]
    texts += [f"{rng.choice(descriptions)[:400]}\n{rng.choice(pay)}" for _ in range(200)]
    places = [Place(), Place(country="DE"), Place(country="GB")]

    def read() -> list[Any]:
        found = []
        for i, text in enumerate(texts):
            report = normalize.Report()
            found.append((normalize._salary_in_text(text, places[i % 3], report), report.counts))
        return found

    gated = read()
    monkeypatch.setattr(normalize, "_PAY_WORD_GATED", normalize._PAY_WORD)
    monkeypatch.setattr(normalize, "_rate_range_in_text", _plain_rate_range)
    assert read() == gated
    assert sum(bool(salary) for salary, _counts in gated) > 100


def test_remembered_storable_lines_are_made_anew() -> None:
    rng = random.Random(15)
    pool = ["a", " ", "  ", "\n", "\t", "\x00", "\u202e", "\ud800", "é", "x" * 70, "\u2028"]
    values = ["".join(rng.choice(pool) for _ in range(rng.randint(0, 12))) for _ in range(3000)]
    values += ["t" * 299 + " x", "y" * 400]  # around the remembered length
    for value in values * 2:
        for limit in (storable.MAX_SHORT, storable.MAX_TITLE, storable.MAX_LOCATION_TEXT):
            assert storable._line(value, limit) == storable.one_line(value, limit)
    assert storable._short_line.cache_info().hits > 0
