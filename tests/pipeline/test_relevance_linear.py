"""Hostile input: every relevance rule runs in time linear in its input (issue 16, item 1).

The bounds are generous CPU-time bounds (process time, so a busy machine does not fail them):
a quadratic rule on these inputs takes seconds to hours, a linear one milliseconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import re2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.relevance import (
    MAX_DESCRIPTION_CHARS,
    MAX_TITLE_CHARS,
    RoleProfile,
    classify,
    fold,
    html_to_text,
    load_profile,
)
from pipeline.relevance_rules import RuleSet

# CPU seconds one classification may take on any input; linear rules need a few milliseconds.
BOUND_S = 0.5


def _profile() -> RoleProfile:
    return load_profile()


def _rule_sets(profile: RoleProfile) -> Iterator[tuple[str, RuleSet]]:
    yield "include", profile.include
    yield "ambiguous", profile.ambiguous
    yield "strong", profile.strong
    yield "weak", profile.weak
    yield "against", profile.against
    yield from profile.exclude + profile.veto + profile.model.exclude
    yield from profile.model.lists.items()


def _cpu(fn, *args):
    start = time.process_time()
    result = fn(*args)
    return result, time.process_time() - start


def _pieces() -> list[str]:
    # Words of the whole profile (rules as written, without regex syntax) and the characters
    # that made the old media rule quadratic: a long run of word characters after "production".
    pieces = {"W", "w", " ", "-", ",", "(", ")", "/", "'", "·", "é", "production ", "W" * 50}
    for _, rules in _rule_sets(_profile()):
        for rule in rules.rules:
            word = "".join(ch for ch in rule.text if ch.isalnum() or ch in " -'")
            if word.strip():
                pieces.add(word + " ")
    return sorted(pieces)


PIECES = _pieces()
hostile = st.lists(st.sampled_from(PIECES), min_size=1, max_size=40).flatmap(
    lambda parts: st.integers(min_value=1, max_value=3000).map(lambda n: "".join(parts) * n)
)


def test_every_rule_is_an_re2_pattern() -> None:
    for name, rules in _rule_sets(_profile()):
        for rule in rules.rules:
            assert isinstance(rule.regex, re2._Regexp), (name, rule.text)


@pytest.mark.parametrize(
    "title",
    [
        "Production Manager " + "W" * 8_000,  # the reproduction of issue 16
        "Production Manager " + "W" * 200_000,  # 200 KB in one word
        "production " * 20_000,
        "Superviseur·e de production " + "é" * 200_000,
        "(m/w/d) " * 25_000,
    ],
    ids=["8k-word", "200k-word", "200k-production", "200k-accents", "200k-gender-marks"],
)
def test_long_titles_are_linear(title: str) -> None:
    verdict, seconds = _cpu(classify, title, title, _profile())
    assert seconds < BOUND_S, f"{seconds:.2f} s CPU for a {len(title)}-character title"
    # a title is its first MAX_TITLE_CHARS characters: what follows cannot change the verdict
    assert verdict == classify(title[:MAX_TITLE_CHARS], title, _profile())


@pytest.mark.parametrize(
    "markup",
    [
        "<" * 200_000,
        "<script>" * 20_000 + "<style></style>" * 20_000,
        "<script></script>" * 20_000 + "x" * 200_000,
        "<a href=x>" * 30_000,
    ],
    ids=["open-brackets", "unclosed-scripts", "closed-scripts", "tags"],
)
def test_huge_markup_is_linear(markup: str) -> None:
    _, seconds = _cpu(html_to_text, markup)
    assert seconds < BOUND_S


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(title=hostile, description=hostile)
def test_any_text_over_the_whole_profile_is_linear(title: str, description: str) -> None:
    verdict, seconds = _cpu(classify, title, description, _profile(), description[:500])
    assert seconds < BOUND_S, f"{seconds:.2f} s CPU: title {title[:80]!r}…"
    assert isinstance(verdict.keep, bool)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=hostile)
def test_rule_sets_agree_with_their_rules(text: str) -> None:
    # An RE2 set that ran out of memory would answer "no match" in silence: on the longest text a
    # rule sees, every set must find exactly the rules that match one by one.
    folded = fold(text[:MAX_DESCRIPTION_CHARS])
    data = folded.encode()
    for name, rules in _rule_sets(_profile()):
        one_by_one = [i for i, rule in enumerate(rules.rules) if rule.search(folded) is not None]
        assert rules.indices(data) == one_by_one, name
