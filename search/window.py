"""Match many saved searches against one window of postings, a column of the window at a time.

A digest run matches page after page of due searches against the same day of new postings. The
window's postings are tokenized once into an inverted index, and everything a search is made of
becomes a boolean column over the window's rows, computed once per window and shared by every
search (and page) that has it: each distinct query (its match and its score), each distinct
place (accepted, and its score), each distinct value of the other filters. A search is then the
AND of its columns, its matches the true rows, ranked by score in one sort: no Python work per
(posting, search) pair. Only the matches a digest delivers get their reason written (`match`).

The semantics are `SearchIndex`'s, which is the reference here (tests compare the two): the query
as `evaluate` reads it, the place by `place_accepts` and scored by `explain_place`, the other
filters by their definitions' `accepts`, the same score and the same order (best first, then
lower posting id). The place's non-radius rules and every radius match are decided by those very
functions; the radius is only narrowed by a vectorised distance first.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from search.compiled import (
    FIELD_ORDER,
    FIELD_WEIGHT,
    PHRASE_WEIGHT,
    WORD_WEIGHT,
    _is_token,
    _leaf_label,
    _needle,
    _positive_leaves,
    doc_fields,
    explain_leaves,
)
from search.constraints import Active, _rest_signature, active_filters, explain_filters
from search.filter_kinds import FilterDef
from search.geo import EARTH_RADIUS_MILES
from search.matcher import SALARY_KNOWN_BONUS, Match, SavedSearchSpec, _sep
from search.place import explain_place, place_accepts
from search.posting import PlaceFilter, PostingDoc, best_annual_usd
from search.query import And, Node, Not, Or, Phrase, Term, evaluate

Bits = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]
Scores = npt.NDArray[np.float32]
Leaf = Term | Phrase
# A radius match is decided by `place_accepts` itself for every row the vectorised distance puts
# within this many miles of the edge or inside: floating-point differences cannot leave one out.
_EDGE_MILES = 1e-6


@dataclass(slots=True)
class _Query:
    matches: Bits
    score: Scores
    leaves: list[Leaf]
    number: int  # in the window, for its reasons' memo


@dataclass(slots=True)
class _Place:
    accepts: Bits
    score: Floats
    number: int


@dataclass(slots=True)
class Ranked:
    """One search's matches in a window, best first: window rows, posting ids and scores."""

    search_id: int
    rows: npt.NDArray[np.intp]
    ids: npt.NDArray[np.int64]
    scores: Floats
    query: _Query | None
    place: PlaceFilter | None
    active: Active
    # (query, place, other filters) numbered in the window: the reasons' memo keys; -1: none
    parts: tuple[int, int, int] = (-1, -1, -1)

    def __len__(self) -> int:
        return len(self.rows)


class WindowIndex:
    """The postings of one window as columns; `rank` matches searches against them."""

    def __init__(self, docs: Iterable[PostingDoc]) -> None:
        self.docs = sorted(docs, key=lambda d: d.id)  # row order is posting-id order (ties)
        n = self.n = len(self.docs)
        self.ids = np.fromiter((d.id for d in self.docs), np.int64, n)
        self._rows: dict[str, dict[str, list[int]]] = {name: {} for name in FIELD_ORDER}
        self._joined: dict[str, list[str]] = {name: [] for name in FIELD_ORDER}
        for i, doc in enumerate(self.docs):
            for name, tokens in doc_fields(doc).items():
                rows = self._rows[name]
                for token in set(tokens):
                    rows.setdefault(token, []).append(i)
                self._joined[name].append(f" {' '.join(tokens)} ")
        self._none: Bits = np.zeros(n, np.bool_)
        self._all: Bits = np.ones(n, np.bool_)
        self._bonus = np.fromiter(
            (
                0.0 if best_annual_usd(d.annual_min_usd, d.annual_max_usd) is None
                else SALARY_KNOWN_BONUS
                for d in self.docs
            ),
            np.float64,
            n,
        )  # fmt: skip
        self._remote = np.fromiter((d.workplace == "remote" for d in self.docs), np.bool_, n)
        self._coords = np.fromiter(
            (d.latitude is not None and d.longitude is not None for d in self.docs), np.bool_, n
        )
        self._lat = np.radians(np.fromiter((d.latitude or 0.0 for d in self.docs), np.float64, n))
        self._lon = np.fromiter((d.longitude or 0.0 for d in self.docs), np.float64, n)
        # Rows by what every place rule but the radius reads: one reference call per group.
        self._group, self._group_doc = _groups(self.docs)
        self._terms: dict[tuple[str | None, str], Bits] = {}
        self._phrases: dict[tuple[str | None, str], Bits] = {}
        self._queries: dict[Node | None, _Query] = {}
        self._places: dict[PlaceFilter, _Place] = {}
        self._filters: dict[tuple[str, object], Bits] = {}
        self._rests: dict[tuple[object, ...], int] = {}
        self._no_place = _Place(self._all, np.zeros(n, np.float64), -1)
        # The reasons' parts written this page, by (part number, row): the same posting is
        # delivered to many searches that share a query, a place or other filters.
        self._said: tuple[dict[int, str], dict[int, str], dict[int, str]] = ({}, {}, {})

    # --- ranking ------------------------------------------------------------------------------

    def rank(self, specs: Sequence[SavedSearchSpec]) -> dict[int, Ranked]:
        """Each search's matches, best first (ties: lower posting id); no entry without any."""
        out: dict[int, Ranked] = {}
        shared: dict[tuple[Any, ...], Ranked | None] = {}  # searches with the same everything
        for said in self._said:  # a new page: the last one's reasons are written
            said.clear()
        for spec in specs:
            filters = spec.filters
            rest = _rest_signature(filters)
            key = (spec.query, filters.place, rest)
            if key in shared:
                ranked = shared[key]
            else:
                rest_number = self._rests.setdefault(rest, len(self._rests))
                ranked = shared[key] = self._rank(
                    spec.query, filters.place, active_filters(filters), rest_number
                )
            if ranked is not None:
                out[spec.id] = replace(ranked, search_id=spec.id)
        return out

    def _rank(
        self, query: Node | None, place: PlaceFilter | None, active: Active, rest: int
    ) -> Ranked | None:
        q = self.query(query)
        p = self._no_place if place is None else self.place(place)
        accepted = q.matches & p.accepts
        for d, value in active:
            accepted &= self.filter(d, value)
        rows = np.flatnonzero(accepted)
        if not len(rows):
            return None
        # Rounded to 3 places as `SearchIndex` rounds, so equal scores tie the same way (numpy
        # rounds the scaled value: it could differ from round() only within an ulp of a tie).
        scores = np.round(q.score[rows] + p.score[rows] + self._bonus[rows], 3)
        order = np.argsort(-scores, kind="stable")  # rows ascend: ties by posting id
        rows = rows[order]
        parts = (q.number, p.number, rest)
        return Ranked(0, rows, self.ids[rows], scores[order], q, place, active, parts)

    def match(self, ranked: Ranked, k: int) -> Match:
        """The `k`-th match of a search, with its reason written out as `SearchIndex` does."""
        row = int(ranked.rows[k])
        doc = self.docs[row]
        q, place, active = ranked.query, ranked.place, ranked.active

        def query_why() -> str:
            if q is None:
                return ""
            return explain_leaves(q.leaves, lambda leaf, f: bool(self.has(leaf, f)[row]))[1]

        parts = (
            query_why,
            lambda: "" if place is None else explain_place(place, doc)[1],
            lambda: explain_filters(active, doc),
        )
        why = "".join(
            self._part(said, number, row, write)
            for said, number, write in zip(self._said, ranked.parts, parts, strict=True)
        )
        return Match(
            ranked.search_id, doc.id, float(ranked.scores[k]), why[3:] or "every new posting"
        )

    def _part(self, said: dict[int, str], number: int, row: int, write: Any) -> str:
        """One part of a reason as " · part" (or ""), written once a page per (number, row)."""
        if number < 0:
            return _sep(write())
        key = number * self.n + row
        got = said.get(key)
        if got is None:
            got = said[key] = _sep(write())
        return got

    # --- columns ------------------------------------------------------------------------------

    def query(self, node: Node | None) -> _Query:
        """A query's matches and score (`_explain_query`'s), once per window."""
        got = self._queries.get(node)
        if got is None:
            leaves = _positive_leaves(node)
            matches = self._eval(node)
            number = len(self._queries)
            got = self._queries[node] = _Query(matches, self._score(leaves), leaves, number)
        return got

    def _eval(self, node: Node | None) -> Bits:
        """Rows `evaluate(node, fields)` accepts (a shared column: never written to)."""
        match node:
            case None:
                return self._all
            case Term(word, field):
                return self.term(word, field)
            case Phrase(words, field) if words and all(_is_token(w) for w in words):
                return self.phrase(words, field)
            case Phrase():
                return self._scan(lambda i: evaluate(node, doc_fields(self.docs[i])))
            case And(items):
                return np.logical_and.reduce([self._eval(n) for n in items])
            case Or(items):
                return np.logical_or.reduce([self._eval(n) for n in items])
            case Not(item):
                return ~self._eval(item)
        raise TypeError(node)

    def term(self, word: str, field: str | None) -> Bits:
        """Rows whose field (any field: None) holds the token."""
        key = (field, word)
        got = self._terms.get(key)
        if got is None:
            if field is None:
                got = self.term(word, "title") | self.term(word, "company")
                got |= self.term(word, "description")
            else:
                got = self._none.copy()
                rows = self._rows.get(field, {}).get(word)
                if rows:
                    got[rows] = True
            self._terms[key] = got
        return got

    def phrase(self, words: tuple[str, ...], field: str | None) -> Bits:
        """Rows whose field (any field: None) holds the words in a row (`_Doc.has`'s test)."""
        key = (field, _needle(words))
        got = self._phrases.get(key)
        if got is None:
            names = FIELD_ORDER if field is None else (field,)
            got = self._none.copy()
            needle, tokens = key[1], all(_is_token(w) for w in words)
            for name in names:
                joined = self._joined.get(name)
                if joined is None:
                    continue
                if tokens:  # every word present first: a set lookup
                    rows = np.logical_and.reduce([self.term(w, name) for w in words])
                    candidates: Iterable[int] = np.flatnonzero(rows & ~got).tolist()
                else:
                    candidates = range(self.n)
                for i in candidates:
                    if needle in joined[i]:
                        got[i] = True
            self._phrases[key] = got
        return got

    def has(self, leaf: Leaf, field: str) -> Bits:
        """`_Doc.has(leaf, field)` for every row."""
        if isinstance(leaf, Term):
            return self.term(leaf.word, field)
        return self.phrase(leaf.words, field)

    def _score(self, leaves: list[Leaf]) -> Scores:
        """`explain_leaves`'s score for every row (read only where the query matches)."""
        # float32: the weights are small whole numbers (and halves would be exact too)
        score = np.zeros(self.n, np.float32)
        seen: dict[str, Bits] = {}
        for leaf in leaves:
            label = _leaf_label(leaf)
            found = seen.get(label)
            left = self._all.copy() if found is None else ~found
            weight = WORD_WEIGHT if isinstance(leaf, Term) else PHRASE_WEIGHT
            for name in (leaf.field,) if leaf.field else FIELD_ORDER:
                here = self.has(leaf, name) & left
                if here.any():
                    score[here] += FIELD_WEIGHT.get(name, 1.0) * weight
                    left &= ~here
            seen[label] = ~left  # found before, or by this leaf
        return score

    def place(self, place: PlaceFilter) -> _Place:
        """Rows `place_accepts` lets through, and `explain_place`'s score, once per window."""
        got = self._places.get(place)
        if got is not None:
            return got
        n = self.n
        accepts = np.zeros(n, np.bool_)
        score = np.zeros(n, np.float64)
        lat, lon, within = place.latitude, place.longitude, place.within_miles
        radius = lat is not None and lon is not None and within is not None
        by_distance = self._coords & ~self._remote if radius else self._none
        # Every other row is decided by its group's reference call (the rule and its inputs are
        # the same for the whole group).
        decided = [_decide(place, doc) for doc in self._group_doc]
        group_ok = np.array([d is not None for d in decided], np.bool_)
        group_score = np.array([d or 0.0 for d in decided], np.float64)
        rest = ~by_distance
        accepts[rest] = group_ok[self._group[rest]]
        score[rest] = group_score[self._group[rest]]
        if lat is not None and lon is not None and within is not None:
            near = by_distance & (self._miles(lat, lon) <= within + _EDGE_MILES)
            for i in np.flatnonzero(near).tolist():
                got_score = _decide(place, self.docs[i])
                if got_score is not None:
                    accepts[i], score[i] = True, got_score
        got = self._places[place] = _Place(accepts, score, len(self._places))
        return got

    def _miles(self, latitude: float, longitude: float) -> Floats:
        """`haversine_miles` from a point to every row, vectorised."""
        p1 = math.radians(latitude)
        dp = self._lat - p1
        dl = np.radians(self._lon - longitude)
        a = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(self._lat) * np.sin(dl / 2) ** 2
        return 2 * EARTH_RADIUS_MILES * np.arcsin(np.minimum(1.0, np.sqrt(a)))

    def filter(self, d: FilterDef, value: object) -> Bits:
        """Rows one filter's value accepts (its definition's `accepts`), once per window."""
        key = (d.name, value)
        got = self._filters.get(key)
        if got is None:
            got = self._filters[key] = np.fromiter(
                (d.accepts(value, doc) for doc in self.docs), np.bool_, self.n
            )
        return got

    # --- the reference's inputs for the rare cases ---------------------------------------------

    def _scan(self, accepts: Any) -> Bits:
        return np.fromiter((bool(accepts(i)) for i in range(self.n)), np.bool_, self.n)


def _decide(place: PlaceFilter, doc: PostingDoc) -> float | None:
    """`explain_place`'s score where `place_accepts` lets the posting through; else None."""
    return explain_place(place, doc)[0] if place_accepts(place, doc) else None


def _groups(docs: list[PostingDoc]) -> tuple[npt.NDArray[np.intp], list[PostingDoc]]:
    """Each row's group of postings alike to the place rules (`_where`), and each group's first."""
    numbers: dict[tuple[Any, ...], int] = {}
    first: list[PostingDoc] = []
    rows = []
    for doc in docs:
        key = _where(doc)
        number = numbers.get(key)
        if number is None:
            number = numbers[key] = len(first)
            first.append(doc)
        rows.append(number)
    return np.array(rows, np.intp), first


def _where(doc: PostingDoc) -> tuple[Any, ...]:
    """What `place_rule` and the place rules besides the radius read of a posting."""
    has_coords = doc.latitude is not None and doc.longitude is not None
    return (doc.workplace == "remote", has_coords, doc.city, doc.region, doc.country,
            doc.location_text)  # fmt: skip
