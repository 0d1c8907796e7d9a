"""`WindowIndex` matches as `SearchIndex` does (the reference): the same postings for each search,
in the same order, with the same scores and reasons, on the matching bench's realistic postings
and searches and on hand-made queries that reach every branch (fielded words and phrases, NOT,
phrases of words that are not single tokens, places by radius, city, region, country and text,
remote postings, postings without coordinates)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from bench.matching import make_postings, make_searches
from search.definitions import Filters
from search.matcher import Match, SavedSearchSpec, SearchIndex
from search.posting import PlaceFilter, PostingDoc
from search.query import And, Not, Phrase, Term, parse_query
from search.window import WindowIndex


def _window_matches(specs: list[SavedSearchSpec], docs: list[PostingDoc]) -> dict[int, list[Match]]:
    index = WindowIndex(docs)
    return {
        search_id: [index.match(ranked, k) for k in range(len(ranked))]
        for search_id, ranked in index.rank(specs).items()
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_window_matches_like_the_search_index_on_the_bench_corpus(seed: int) -> None:
    rng = random.Random(seed)
    docs = make_postings(rng, 400)
    # copies under other ids: equal scores, ordered by posting id
    docs += [replace(d, id=d.id + 10_000) for d in docs[:80]]
    rng.shuffle(docs)
    specs = make_searches(rng, 600)
    want = SearchIndex.build(specs).match_many(docs)
    got = _window_matches(specs, docs)
    assert got == want
    assert sum(len(v) for v in got.values()) > 5_000  # the comparison had matches to compare


DETROIT = PlaceFilter("Detroit, MI", "Detroit", "US-MI", "US", 42.3314, -83.0458, 50.0)


def _doc(i: int, title: str, description: str = "", **kw: object) -> PostingDoc:
    return PostingDoc(id=i, title=title, company=kw.pop("company", "Acme Foods"),  # type: ignore[arg-type]
                      description=description, **kw)  # type: ignore[arg-type]  # fmt: skip


def _hand_docs() -> list[PostingDoc]:
    return [
        _doc(1, "Production Manager", "Lead the bakery line", city="Detroit", region="US-MI",
             country="US", latitude=42.33, longitude=-83.05),
        _doc(2, "Plant Manager", "production manager duties", city="Dearborn", region="US-MI",
             country="US", latitude=42.32, longitude=-83.18, annual_max_usd=120_000.0),
        _doc(3, "Production Supervisor", "night shift", city="Toledo", region="US-OH",
             country="US", latitude=41.65, longitude=-83.54),
        _doc(4, "Production Manager", "remote role", workplace="remote", country="US"),
        _doc(5, "Manager, Production", "bakery", city="Detroit", region="US-MI", country="US"),
        _doc(6, "Werkleiter", "Produktion", city="Berlin", country="DE", latitude=52.5,
             longitude=13.4, company="Manager GmbH"),
        _doc(7, "Production Manager", "", location_text="Detroit metro area", country="US"),
        _doc(8, "Director of Production", "production manager", workplace="remote",
             country="DE", annual_min_usd=90_000.0),
    ]  # fmt: skip


PLACES = [
    None,
    DETROIT,
    PlaceFilter("Detroit", "Detroit", "US-MI", "US"),
    PlaceFilter("Michigan", None, "US-MI", "US"),
    PlaceFilter("United States", None, None, "US"),
    PlaceFilter("Detroit metro"),
    PlaceFilter("Toledo, OH", "Toledo", "US-OH", "US", 41.65, -83.54, 0.5),
]
QUERIES = [
    None,
    parse_query("production manager"),
    parse_query('"production manager"'),
    parse_query('title:"production manager" -remote'),
    parse_query("company:manager OR title:werkleiter"),
    parse_query("manager -bakery"),
    parse_query("(production OR plant) manager title:manager"),
    Phrase(("production manager",)),  # hand-built: its word is not one token
    And((Term("manager", "title"), Not(Phrase(("bakery", "line"))))),
]


@pytest.mark.parametrize("place", PLACES)
def test_window_matches_like_the_search_index_on_every_branch(place: PlaceFilter | None) -> None:
    docs = _hand_docs()
    specs = [
        SavedSearchSpec(i, query, Filters(place=place, min_salary_usd=min_salary), subscriber_id=1)
        for i, (query, min_salary) in enumerate(
            ((q, s) for q in QUERIES for s in (None, 100_000.0)), start=1
        )
    ]
    want = SearchIndex.build(specs).match_many(docs)
    assert _window_matches(specs, docs) == want
    assert want  # something matched


def test_a_window_without_postings_matches_nothing() -> None:
    specs = [SavedSearchSpec(1, None, Filters(), subscriber_id=1)]
    assert WindowIndex([]).rank(specs) == {}
