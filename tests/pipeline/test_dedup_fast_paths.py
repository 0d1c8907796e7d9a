"""The dedup fast paths give what the general code gives: folding, Jaccard, the size bound."""

from __future__ import annotations

import random
import unicodedata
from types import SimpleNamespace

from pipeline.candidates import NEAR_DUPLICATE, Candidates, find_duplicate
from pipeline.keys import shingles, similarity
from pipeline.tokens import fold

POOL = [chr(i) for i in range(0x250)] + list("ẞßﬁＡ①Ⅸ²ǅİıŉ\u0301\u0308ΣσςÅ")


def _general_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def test_fold_matches_the_general_code_on_random_strings():
    rng = random.Random(7)
    for _ in range(30_000):
        text = "".join(rng.choice(POOL) for _ in range(rng.randint(0, 12)))
        assert fold.__wrapped__(text) == _general_fold(text), repr(text)


def test_similarity_is_intersection_over_union():
    rng = random.Random(8)
    for _ in range(3_000):
        a = frozenset(rng.sample(range(60), rng.randint(0, 40)))
        b = frozenset(rng.sample(range(60), rng.randint(0, 40)))
        expected = 1.0 if not a and not b else (len(a & b) / len(a | b) if a and b else 0.0)
        assert similarity(a, b) == expected


def test_find_duplicate_with_the_size_bound_picks_what_comparing_every_candidate_picks():
    rng = random.Random(9)
    words = [f"w{i}" for i in range(12)]
    key = ("acme", "manager", "toledo")
    hits = 0
    for _ in range(400):
        base = [rng.choice(words) for _ in range(rng.randint(0, 40))]
        texts = [" ".join(base)]
        for _ in range(3):  # variants: some words changed, some added, so some pass the bar
            variant = [w if rng.random() > 0.15 else rng.choice(words) for w in base]
            variant += [rng.choice(words) for _ in range(rng.randint(0, 30))]
            texts.append(" ".join(variant))
        if rng.random() < 0.25:  # the same text somewhere: the shortcut that shingles nothing
            texts.insert(rng.randint(1, len(texts)), texts[0])
        candidates = [SimpleNamespace(description_text=t) for t in texts[1:]]
        item = SimpleNamespace(req_id=None, url=None, source="s", description_text=texts[0])
        found = Candidates(by_key={key: candidates})
        expected = next(
            (
                c
                for c in candidates
                if similarity(shingles(texts[0]), shingles(c.description_text)) >= NEAR_DUPLICATE
            ),
            None,
        )
        assert find_duplicate(item, key, found) is expected  # type: ignore[arg-type]
        hits += expected is not None
    assert 40 < hits < 360  # both outcomes are exercised
