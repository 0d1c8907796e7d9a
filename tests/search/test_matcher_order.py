"""`match_many` orders each search's matches best first, ties by lower posting id, with two
stable C-level sorts: the same order as sorting every match by (-score, posting id), on the
matching bench's realistic postings and searches, with exact duplicates (equal scores) given in
shuffled id order."""

from __future__ import annotations

import random
from dataclasses import replace
from itertools import pairwise

from bench.matching import make_postings, make_searches
from search.matcher import Match, SearchIndex


def test_match_many_orders_like_the_plain_sort() -> None:
    rng = random.Random(14)
    docs = make_postings(rng, 300)
    # Copies under other ids score exactly as their original: ties broken by posting id only.
    docs += [replace(d, id=d.id + 10_000) for d in docs[:100]]
    rng.shuffle(docs)
    index = SearchIndex.build(make_searches(rng, 200))

    got = index.match_many(docs)

    expected: dict[int, list[Match]] = {}
    for doc in docs:
        for m in index.match(doc):
            expected.setdefault(m.search_id, []).append(m)
    for matches in expected.values():
        matches.sort(key=lambda m: (-m.score, m.posting_id))
    assert got == expected
    ties = sum(1 for ms in got.values() for a, b in pairwise(ms) if a.score == b.score)
    assert ties > 100  # the tie-break was exercised
