"""`Page.match_of`: a delivered hit's reason, written from the page's index and postings, with
its parts remembered for the page's other searches, is what the index itself writes."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from alerts.digests.match import Page
from bench.matching import make_postings, make_searches
from search.matcher import SearchIndex

AT = datetime(2026, 11, 30, 8, tzinfo=UTC)


def test_match_of_writes_what_the_index_writes_for_every_hit() -> None:
    rng = random.Random(7)
    specs, docs = make_searches(rng, 400), make_postings(rng, 200)
    index = SearchIndex.build(specs)
    by_id = {doc.id: doc for doc in docs}
    matches = index.hits_many(docs)
    page = Page(matches, {}, {d.id: AT for d in docs}, set(), {}, None, index, by_id)
    hits = [h for found in matches.values() for h in found]
    assert len(hits) > 1_000
    want = [index.hit_match(h, by_id[h[1]]) for h in hits]
    assert [page.match_of(h) for h in hits] == want
    assert [page.match_of(h) for h in reversed(hits)] == want[::-1]  # from what it remembered
    assert {m.why for m in want} > {"every new posting"}  # reasons of every kind, not one
