"""A match's score and reason: hits carry numbers, reasons are written on demand from the index,
and place decisions are kept by posting location from one index to the next (`PlaceMemo`).
Everything here is checked against the plain, eager computation on the matching bench's
realistic postings and searches."""

from __future__ import annotations

import random

import pytest

from bench.matching import make_postings, make_searches
from search.compiled import _Doc, _explain_query, _positive_leaves, _score_query, doc_fields
from search.constraints import active_filters, explain_filters
from search.matcher import SALARY_KNOWN_BONUS, Match, SavedSearchSpec, SearchIndex
from search.place import PlaceMemo, explain_place, place_accepts, place_score
from search.posting import PostingDoc, best_annual_usd
from search.query import evaluate


@pytest.fixture(scope="module")
def corpus() -> tuple[list[SavedSearchSpec], list[PostingDoc]]:
    rng = random.Random(20261130)
    return make_searches(rng, 600), make_postings(rng, 300)


def _eager(specs: list[SavedSearchSpec], doc: PostingDoc) -> list[Match]:
    """What a posting matches, scored and explained part by part as the matcher once did."""
    d, fields = _Doc(doc), doc_fields(doc)
    best = best_annual_usd(doc.annual_min_usd, doc.annual_max_usd)
    bonus = 0.0 if best is None else SALARY_KNOWN_BONUS
    out = []
    for s in specs:
        if not (evaluate(s.query, fields) and s.filters.accepts(doc)):
            continue
        q_score, q_why = _explain_query(_positive_leaves(s.query), d)
        p_score, p_why = (0.0, "") if s.filters.place is None else explain_place(
            s.filters.place, doc
        )  # fmt: skip
        parts = [q_why, p_why, explain_filters(active_filters(s.filters), doc)]
        why = " · ".join(p for p in parts if p) or "every new posting"
        out.append(Match(s.id, doc.id, round(q_score + p_score + bonus, 3), why))
    return out


def test_the_score_alone_is_the_explained_score(corpus) -> None:
    specs, docs = corpus
    leaves = [_positive_leaves(s.query) for s in specs]
    places = {s.filters.place for s in specs if s.filters.place is not None}
    assert len(places) > 20
    for doc in docs:
        d = _Doc(doc)
        for each in leaves:
            assert _score_query(each, d) == _explain_query(each, d)[0]
        for place in places:
            if place_accepts(place, doc):
                assert place_score(place, doc) == explain_place(place, doc)[0]


def test_pages_sharing_a_place_memo_match_as_the_eager_matcher(corpus) -> None:
    specs, docs = corpus
    memo = PlaceMemo()
    pages = [specs[:300], specs[300:]]
    matched = 0
    for page in pages:
        index = SearchIndex.build(page, place_memo=memo)
        for doc in docs:
            want = _eager(page, doc)
            assert index.match(doc) == want
            assert [index.hit_match(h, doc) for h in index.hits(doc)] == want
            matched += len(want)
    assert matched > 1_000  # the corpus exercises the matcher, places included


def test_a_memo_that_starts_again_still_decides_right(corpus, monkeypatch) -> None:
    specs, docs = corpus
    monkeypatch.setattr(PlaceMemo, "LOCATIONS", 3)
    memo = PlaceMemo()
    index = SearchIndex.build(specs, place_memo=memo)
    for doc in docs + docs[::-1]:
        assert index.match(doc) == _eager(specs, doc)
    assert len(memo._decided) <= 3 and len(memo._reasons) <= 3
