"""Fast paths of the new-item pipeline answer what their plain forms answer: whitespace folded by
str.split, title judgements remembered per profile, and the other shortcuts of the stages."""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import pytest

from pipeline import relevance
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
