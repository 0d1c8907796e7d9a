"""Match postings against every saved search at once: an inverted index of searches (a percolator).

One posting at a time, each against the searches filed under what it contains. Digest runs
match a whole window of postings at once with `search.window`, which is tested against this
(and this against the plain `evaluate` and `Filters.accepts`).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import compress, repeat
from typing import Final, NamedTuple

from search.compiled import (
    FIELD_ORDER,
    Pred,
    _anchors,
    _compile,
    _df_cost,
    _Doc,
    _explain_query,
    _heuristic_share,
    _positive_leaves,
    doc_fields,
)
from search.constraints import (
    Active,
    _Constraints,
    _doc_filter_keys,
    _filter_keys,
    _rest_signature,
    active_filters,
    explain_filters,
)
from search.definitions import Filters
from search.place import FilterKey, explain_place, place_accepts
from search.posting import PlaceFilter, PostingDoc, best_annual_usd
from search.query import Node, Phrase, Term, evaluate

SALARY_KNOWN_BONUS = 1.0  # score for a posting that states a salary (see `SearchIndex`)

# The matcher's parts, importable from here as before (tests and the benchmark use them).
__all__ = [
    "FIELD_ORDER",
    "HIT_POSTING",
    "Hit",
    "Match",
    "SavedSearchSpec",
    "SearchIndex",
    "_Constraints",
    "_Doc",
    "_compile",
    "doc_fields",
    "hit_match",
    "reference_matches",
]

TokenKey = str | None


@dataclass(frozen=True)
class SavedSearchSpec:
    """What the matcher needs of a saved search."""

    id: int
    query: Node | None
    filters: Filters
    subscriber_id: int


class Match(NamedTuple):
    """A posting that a saved search matched, how well, and one line saying why."""

    search_id: int
    posting_id: int
    score: float
    why: str


# A `Match` whose reason is still in two parts that many hits share: (search id, posting id,
# score, " · query words · place", " · other filters"), a part "" when empty: matching many
# postings makes millions of hits, and a caller writes out the reasons of the few it keeps
# (`hit_match`). A plain tuple on purpose: the cyclic collector stops tracking a tuple of ints,
# floats and strings once it has seen it, but walks a tuple subclass (a NamedTuple) at every
# collection for as long as it lives (measured: a quarter of the time of a digest run that
# matched with this index).
Hit = tuple[int, int, float, str, str]
HIT_POSTING: Final = 1  # a hit's posting id


def hit_match(hit: Hit) -> Match:
    """This hit as a `Match`, its reason written out."""
    search_id, posting_id, score, query_place_why, filters_why = hit
    why = (query_place_why + filters_why)[3:] or "every new posting"
    return Match(search_id, posting_id, score, why)


def reference_matches(specs: Iterable[SavedSearchSpec], doc: PostingDoc) -> list[SavedSearchSpec]:
    """The naive reference: every search, checked with the reference semantics."""
    fields = doc_fields(doc)
    return [s for s in specs if evaluate(s.query, fields) and s.filters.accepts(doc)]


class SearchIndex:
    """Saved searches indexed by what a posting must contain, so each posting meets few of them.

    Each search is filed under keys: a token one of which every matching posting contains (its
    anchors) paired with a structured value every accepted posting has (its rarest filter), or
    only one of the two, or neither (then it is checked against every posting). A posting looks
    up its own tokens and values, and only the searches found there are checked, with semantics
    identical to `evaluate(query, fields)` and `filters.accepts(doc)`. Searches share what they
    have in common: per posting, each distinct query is evaluated once, each distinct place
    once, and the other filters become bits (see `_Constraints`), one AND per search.

    Score (higher first): for each query word or phrase found outside a NOT, its field weight
    (title 3, company 2, description 1; its best field counts) times 1 for a word or 2 for a
    phrase; plus for the place filter 1 + (1 - miles/radius) for a radius hit, 1.5 for the same
    city, 1 for the same region and 0.5 otherwise; plus 1 when the posting states a salary.
    """

    def __init__(self, specs: list[SavedSearchSpec], df: Mapping[str, int] | None) -> None:
        cost = _heuristic_share if df is None else _df_cost(df)
        self._specs = specs
        self._index: dict[TokenKey, dict[FilterKey | None, list[int]]] = {}
        # Per search, numbers into tables of what searches share: the query, the place and the
        # other filters (lists: `list.__getitem__` is the fastest thing `map` can call).
        self._ids: list[int] = []
        self._query_ids: list[int] = []
        self._place_ids: list[int] = []
        self._rest_ids: list[int] = []
        self._preds: list[Pred] = []
        self._leaves: list[list[Term | Phrase]] = []
        self._places: list[PlaceFilter] = []
        self._constraints = _Constraints()
        self._rest_needs: list[int] = []
        self._rest_active: list[Active] = []  # per distinct set of other filters: what it sets
        queries: dict[Node | None, int] = {}
        anchors: list[tuple[frozenset[str], float] | None] = []
        places: dict[PlaceFilter, int] = {}
        rests: dict[tuple[object, ...], int] = {}
        for i, spec in enumerate(specs):
            query_id = queries.setdefault(spec.query, len(queries))
            if query_id == len(self._preds):
                self._preds.append(_compile(spec.query))
                self._leaves.append(_positive_leaves(spec.query))
                anchors.append(_anchors(spec.query, cost))
            # `accepts` is "every other filter, and then the place"; both parts are shared by
            # many searches, so each is decided once per posting.
            filters = spec.filters
            place_id = -1
            if filters.place is not None:
                place_id = places.setdefault(filters.place, len(places))
                if place_id == len(self._places):
                    self._places.append(filters.place)
            rest_id = rests.setdefault(_rest_signature(filters), len(rests))
            if rest_id == len(self._rest_needs):
                self._rest_needs.append(self._constraints.need(filters))
                self._rest_active.append(active_filters(filters))
            self._ids.append(spec.id)
            self._query_ids.append(query_id)
            self._place_ids.append(place_id)
            self._rest_ids.append(rest_id)
            anchor = anchors[query_id]
            token_keys: Iterable[TokenKey] = anchor[0] if anchor is not None else (None,)
            choice = _filter_keys(filters)
            filter_keys: Iterable[FilterKey | None] = choice[1] if choice is not None else (None,)
            for token_key in token_keys:
                inner = self._index.setdefault(token_key, {})
                for filter_key in filter_keys:
                    inner.setdefault(filter_key, []).append(i)

    @classmethod
    def build(
        cls, specs: Iterable[SavedSearchSpec], df: Mapping[str, int] | None = None
    ) -> SearchIndex:
        """Index searches; `df` (token -> postings containing it) picks the rarest anchors."""
        return cls(list(specs), df)

    def __len__(self) -> int:
        return len(self._specs)

    def candidates(self, doc: PostingDoc) -> list[SavedSearchSpec]:
        """The searches a posting is checked against (for diagnostics and the benchmark)."""
        return [self._specs[i] for i in sorted(self._candidate_ids(doc, _Doc(doc)))]

    def _candidate_ids(self, doc: PostingDoc, d: _Doc) -> list[int]:
        index = self._index
        token_keys: set[TokenKey] = set(d.every)
        token_keys.update(f"title:{t}" for t in d.sets["title"])
        token_keys.update(f"company:{t}" for t in d.sets["company"])
        token_keys.add(None)
        filter_keys = _doc_filter_keys(doc)
        filter_set = set(filter_keys)
        found: set[int] = set()
        for token_key in token_keys.intersection(index):
            inner = index[token_key]
            if len(inner) <= len(filter_keys):
                for key, ids in inner.items():
                    if key in filter_set:
                        found.update(ids)
            else:
                for key in filter_keys:
                    hits = inner.get(key)
                    if hits is not None:
                        found.update(hits)
        return list(found)

    def match(self, doc: PostingDoc) -> list[Match]:
        """The searches this posting matches, in the order they were given to `build`."""
        return [hit_match(hit) for hit in self.hits(doc)]

    def hits(self, doc: PostingDoc) -> list[Hit]:
        """`match`'s matches with their reasons in shared parts (see `Hit`)."""
        d = _Doc(doc)
        candidates = self._candidate_ids(doc, d)
        if not candidates:
            return []
        best = best_annual_usd(doc.annual_min_usd, doc.annual_max_usd)
        # Each distinct query, set of other filters and place is decided (and explained) once
        # per posting, however many searches share it; the per-search steps are C-level
        # map/compress over the candidates, so a candidate costs a few dict lookups.
        query_ids = list(map(self._query_ids.__getitem__, candidates))
        query_ok = {q: self._preds[q](d) for q in set(query_ids)}
        kept = list(compress(candidates, map(query_ok.__getitem__, query_ids)))

        # Places before the other filters: few distinct places, and they reject the most.
        place_ids = list(map(self._place_ids.__getitem__, kept))
        places = self._places
        place_ok = {p: p < 0 or place_accepts(places[p], doc) for p in set(place_ids)}
        kept = list(compress(kept, map(place_ok.__getitem__, place_ids)))

        rest_ids = list(map(self._rest_ids.__getitem__, kept))
        lacking = ~self._constraints.satisfied(doc, best)
        needs = map(self._rest_needs.__getitem__, rest_ids)
        kept = list(compress(kept, map(operator.not_, map(lacking.__and__, needs))))
        if not kept:
            return []
        kept.sort()  # the order searches were given in, as the naive loop returns them

        query_ids = list(map(self._query_ids.__getitem__, kept))
        place_ids = list(map(self._place_ids.__getitem__, kept))
        rest_ids = list(map(self._rest_ids.__getitem__, kept))
        # Each part of the reason is kept as " · part" (or ""), so a reason is a concatenation
        # and a slice. Query and place are explained, scored and joined once per pair.
        query_why = {q: _explain_query(self._leaves[q], d) for q in set(query_ids)}
        place_why = {
            p: (0.0, "") if p < 0 else explain_place(places[p], doc) for p in set(place_ids)
        }
        bonus = 0.0 if best is None else SALARY_KNOWN_BONUS
        width = len(places) + 1  # place ids run from -1
        pair_keys = [q * width + p + 1 for q, p in zip(query_ids, place_ids, strict=True)]
        pair_score: dict[int, float] = {}
        pair_why: dict[int, str] = {}
        for q, p in set(zip(query_ids, place_ids, strict=True)):
            key = q * width + p + 1
            pair_score[key] = round(query_why[q][0] + place_why[p][0] + bonus, 3)
            pair_why[key] = _sep(query_why[q][1]) + _sep(place_why[p][1])
        rest_why = {r: _sep(explain_filters(self._rest_active[r], doc)) for r in set(rest_ids)}
        # (search, posting, score, query and place why, filters why) per kept search, made by
        # C-level map/zip: no Python frame per hit, and plain tuples (see `Hit`)
        return list(
            zip(
                map(self._ids.__getitem__, kept),
                repeat(doc.id),
                map(pair_score.__getitem__, pair_keys),
                map(pair_why.__getitem__, pair_keys),
                map(rest_why.__getitem__, rest_ids),
            )
        )

    def match_many(self, docs: Iterable[PostingDoc]) -> dict[int, list[Match]]:
        """Matches keyed by search id, each list best first (ties: lower posting id first)."""
        return {
            search_id: [hit_match(hit) for hit in hits]
            for search_id, hits in self.hits_many(docs).items()
        }

    def hits_many(self, docs: Iterable[PostingDoc]) -> dict[int, list[Hit]]:
        """`match_many` as hits (see `Hit`)."""
        by_search: dict[int, list[Hit]] = {}
        for doc in docs:
            for m in self.hits(doc):
                by_search.setdefault(m[0], []).append(m)
        # Best first, ties by lower posting id: two stable C-level sorts (posting id, then score
        # descending; `reverse` keeps equal scores in posting-id order) instead of a key tuple
        # built by a Python lambda for each of millions of matches.
        for matches in by_search.values():
            matches.sort(key=_POSTING_ID)
            matches.sort(key=_SCORE, reverse=True)
        return by_search


_POSTING_ID = operator.itemgetter(1)  # Hit.posting_id
_SCORE = operator.itemgetter(2)  # Hit.score


def _sep(part: str) -> str:
    return f" · {part}" if part else ""
