"""Match postings against every saved search at once: an inverted index of searches (a percolator)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import compress
from typing import NamedTuple

from search.definitions import MATCHED, Filters
from search.filter_kinds import FilterDef
from search.place import FilterKey, explain_place, place_accepts
from search.posting import PlaceFilter, PostingDoc, best_annual_usd
from search.query import And, Node, Not, Or, Phrase, Term, evaluate, tokenize

FIELD_ORDER = ("title", "company", "description")

# Score weights (see `SearchIndex`): where a query word was found, and what kind of hit it was.
FIELD_WEIGHT = {"title": 3.0, "company": 2.0, "description": 1.0}
WORD_WEIGHT = 1.0
PHRASE_WEIGHT = 2.0
SALARY_KNOWN_BONUS = 1.0

# Without document frequencies, the share of postings that contain a word is guessed: these
# words are in nearly every production-management posting, so anchoring a search on them would
# make it a candidate for everything. Other words are guessed rarer the longer they are.
COMMON_WORD_SHARE: dict[str, float] = {
    "manager": 0.95,
    "production": 0.9,
    "and": 0.99,
    "the": 0.99,
    "of": 0.99,
    "to": 0.98,
    "in": 0.97,
    "for": 0.95,
    "with": 0.95,
    "a": 0.95,
    "experience": 0.8,
    "manufacturing": 0.75,
    "management": 0.7,
    "team": 0.7,
    "operations": 0.65,
    "quality": 0.65,
    "safety": 0.65,
    "plant": 0.5,
    "shift": 0.5,
    "process": 0.5,
    "supervisor": 0.45,
    "line": 0.4,
    "lead": 0.35,
    "senior": 0.3,
    "director": 0.25,
    "assistant": 0.2,
}

_WORTH_INDEXING = 0.9  # a filter that passes more postings than this is not worth a key
_EMPTY: frozenset[str] = frozenset()
# The filters besides the place that the matcher decides as constraint bits, and those that
# can index a search (see `FilterDef`).
_BIT_DEFS = tuple(d for d in MATCHED if d.bits is not None)
_KEY_DEFS = tuple(d for d in MATCHED if type(d).index_keys is not FilterDef.index_keys)

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


def doc_fields(doc: PostingDoc) -> dict[str, list[str]]:
    """The token lists `evaluate` reads: title, company, description."""
    return {
        "title": tokenize(doc.title),
        "company": tokenize(doc.company),
        "description": tokenize(doc.description),
    }


def reference_matches(specs: Iterable[SavedSearchSpec], doc: PostingDoc) -> list[SavedSearchSpec]:
    """The naive reference: every search, checked with the reference semantics."""
    fields = doc_fields(doc)
    return [s for s in specs if evaluate(s.query, fields) and s.filters.accepts(doc)]


class _Doc:
    """A posting tokenized once, in the shapes the compiled queries read."""

    __slots__ = ("every", "fields", "joined", "joined_all", "sets")

    def __init__(self, doc: PostingDoc) -> None:
        self.fields = doc_fields(doc)
        self.sets = {name: set(tokens) for name, tokens in self.fields.items()}
        self.every = self.sets["title"] | self.sets["company"] | self.sets["description"]
        # Tokens never contain spaces or NULs, so " a b " occurs in " ... " exactly when the
        # tokens a, b are consecutive, and NUL between fields keeps a phrase inside one field.
        self.joined = {name: f" {' '.join(tokens)} " for name, tokens in self.fields.items()}
        self.joined_all = "\0".join(self.joined.values())

    def has(self, leaf: Term | Phrase, field: str) -> bool:
        if isinstance(leaf, Term):
            return leaf.word in self.sets.get(field, _EMPTY)
        return _needle(leaf.words) in self.joined.get(field, "")


Pred = Callable[[_Doc], bool]


def _always(_: _Doc) -> bool:
    return True


def _needle(words: tuple[str, ...]) -> str:
    return f" {' '.join(words)} "


def _is_token(word: str) -> bool:
    return tokenize(word) == [word]


def _compile(node: Node | None) -> Pred:
    """A closure equivalent to `evaluate(node, fields)` that reads sets and joined strings."""
    match node:
        case None:
            return _always
        case Term(word, None):
            return lambda d: word in d.every
        case Term(word, field):
            return lambda d: word in d.sets.get(field, _EMPTY)
        case Phrase(words, field) if words and all(_is_token(w) for w in words):
            needle = _needle(words)
            first = words[0]
            if field is None:
                return lambda d: first in d.every and needle in d.joined_all
            return lambda d: needle in d.joined.get(field, "")
        case Phrase():
            # Hand-built phrases whose words are not single tokens: keep the reference exactly.
            return lambda d: evaluate(node, d.fields)
        case And(items):
            words = frozenset(n.word for n in items if _plain_term(n))
            rest = tuple(_compile(n) for n in sorted(items, key=_check_cost) if not _plain_term(n))
            if not rest:
                return lambda d: words <= d.every

            def all_of(d: _Doc) -> bool:
                if not words <= d.every:
                    return False
                # A plain loop: all() over a generator costs a frame per search in the hot path.
                for pred in rest:  # noqa: SIM110
                    if not pred(d):
                        return False
                return True

            return all_of
        case Or(items):
            words = frozenset(n.word for n in items if _plain_term(n))
            rest = tuple(_compile(n) for n in sorted(items, key=_check_cost) if not _plain_term(n))
            if not rest:
                return lambda d: not words.isdisjoint(d.every)

            def any_of(d: _Doc) -> bool:
                if not words.isdisjoint(d.every):
                    return True
                for pred in rest:  # noqa: SIM110
                    if pred(d):
                        return True
                return False

            return any_of
        case Not(item):
            inner = _compile(item)
            return lambda d: not inner(d)
    raise TypeError(node)


def _plain_term(node: Node) -> bool:
    return isinstance(node, Term) and node.field is None


def _check_cost(node: Node) -> int:
    # Cheap set lookups first, substring searches next, nested expressions last; the order of
    # an And/Or never changes its value.
    if isinstance(node, Term):
        return 0
    if isinstance(node, Phrase):
        return 1
    return 2


def _heuristic_share(word: str) -> float:
    share = COMMON_WORD_SHARE.get(word)
    if share is not None:
        return share
    return min(0.25, 0.5 / max(len(word), 1))


def _df_cost(df: Mapping[str, int]) -> Callable[[str], float]:
    def cost(word: str) -> float:
        return float(df.get(word, 0))

    return cost


def _anchors(
    node: Node | None, cost: Callable[[str], float]
) -> tuple[frozenset[str], float] | None:
    """Token keys one of which every matching posting contains, with their estimated cost.

    None means no such set exists (only negative clauses, or no query): the search needs
    another way in. A fielded word anchors as `field:word`, looked up among that field's tokens.
    """
    match node:
        case Term(word, field):
            return frozenset((_token_key(word, field),)), cost(word) * _field_factor(field)
        case Phrase(words, field) if words:
            word = min(words, key=lambda w: (cost(w), -len(w), w))
            return frozenset((_token_key(word, field),)), cost(word) * _field_factor(field)
        case And(items):
            options = [a for a in (_anchors(n, cost) for n in items) if a is not None]
            if not options:
                return None
            return min(options, key=lambda a: (a[1], sorted(a[0])))
        case Or(items):
            keys: set[str] = set()
            total = 0.0
            for item in items:
                anchor = _anchors(item, cost)
                if anchor is None:
                    return None
                keys |= anchor[0]
                total += anchor[1]
            return frozenset(keys), total
    return None


def _token_key(word: str, field: str | None) -> str:
    # Tokens never contain ':', so "title:manager" cannot collide with a plain token.
    if field in ("title", "company"):
        return f"{field}:{word}"
    return word


def _field_factor(field: str | None) -> float:
    return {"title": 0.3, "company": 0.1}.get(field or "", 1.0)


class _Constraints:
    """The filters besides the place, as bits: one bit per distinct constraint.

    A constraint is one filter's value in some search ("any of these seniorities", "not these
    companies", "at least this salary"), exactly as its definition's `accepts` reads it. A
    posting satisfies a set of bits, found by a few dictionary lookups per posting; a search
    passes when it needs no bit the posting lacks, one integer AND per search.
    """

    def __init__(self) -> None:
        self._bits: dict[tuple[str, object], int] = {}
        self._by_value: dict[tuple[str, object], int] = {}
        self._any_defs: list[FilterDef] = []
        self._none_defs: list[FilterDef] = []
        self._excluded_all = 0
        self._excluded_by: dict[tuple[str, object], int] = {}
        self._each: list[tuple[int, FilterDef, object]] = []

    def need(self, filters: Filters) -> int:
        """The bits a search with these filters needs (0: it needs nothing besides a place)."""
        mask = 0
        for d in _BIT_DEFS:
            value = getattr(filters, d.name)
            if d.active(value):
                mask |= self._bit(d, value)
        return mask

    def _bit(self, d: FilterDef, value: object) -> int:
        bit = self._bits.get((d.name, value))
        if bit is not None:
            return bit
        bit = self._bits[d.name, value] = 1 << len(self._bits)
        if d.bits == "any":
            if d not in self._any_defs:
                self._any_defs.append(d)
            for v in d.bit_values(value):
                self._by_value[d.name, v] = self._by_value.get((d.name, v), 0) | bit
        elif d.bits == "none":
            if d not in self._none_defs:
                self._none_defs.append(d)
            self._excluded_all |= bit
            for v in d.bit_values(value):
                self._excluded_by[d.name, v] = self._excluded_by.get((d.name, v), 0) | bit
        else:
            self._each.append((bit, d, value))
        return bit

    def satisfied(self, doc: PostingDoc, best: float | None = None) -> int:
        """The bits this posting satisfies (`best` is accepted for callers; the filters read `doc`)."""
        get = self._by_value.get
        mask = 0
        for d in self._any_defs:
            name = d.name
            for v in d.doc_values(doc):
                mask |= get((name, v), 0)
        excluded = 0
        for d in self._none_defs:
            name = d.name
            for v in d.doc_values(doc):
                excluded |= self._excluded_by.get((name, v), 0)
        mask |= self._excluded_all & ~excluded
        for bit, d, value in self._each:
            if d.accepts(value, doc):
                mask |= bit
        return mask


def _rest_signature(filters: Filters) -> tuple[object, ...]:
    """Everything `accepts` reads besides the place (and the listing-only filters)."""
    return tuple(getattr(filters, d.name) for d in _BIT_DEFS)


def _filter_keys(filters: Filters) -> tuple[float, list[FilterKey]] | None:
    """The most selective structured filter as keys, one of which every accepted posting has."""
    options: list[tuple[float, list[FilterKey]]] = []
    for d in _KEY_DEFS:
        value = getattr(filters, d.name)
        if d.active(value):
            option = d.index_keys(value)
            if option is not None and option[0] < _WORTH_INDEXING:
                options.append(option)
    if not options:
        return None
    return min(options, key=lambda o: (o[0], len(o[1])))


def _doc_filter_keys(doc: PostingDoc) -> list[FilterKey | None]:
    """Every key a search may be indexed under that this posting satisfies, and None."""
    keys: list[FilterKey | None] = [None]
    for d in _KEY_DEFS:
        keys.extend(d.doc_keys(doc))
    return keys


def _positive_leaves(node: Node | None, negated: bool = False) -> list[Term | Phrase]:
    match node:
        case Term() | Phrase():
            return [] if negated else [node]
        case And(items) | Or(items):
            return [leaf for n in items for leaf in _positive_leaves(n, negated)]
        case Not(item):
            return _positive_leaves(item, not negated)
    return []


def _leaf_label(leaf: Term | Phrase) -> str:
    return leaf.word if isinstance(leaf, Term) else f'"{" ".join(leaf.words)}"'


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
        self._rest_filters: list[Filters] = []
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
                self._rest_filters.append(filters)
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
                    ids = inner.get(key)
                    if ids is not None:
                        found.update(ids)
        return list(found)

    def match(self, doc: PostingDoc) -> list[Match]:
        """The searches this posting matches, in the order they were given to `build`."""
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
        pairs = {
            q * width + p + 1: (
                round(query_why[q][0] + place_why[p][0] + bonus, 3),
                _sep(query_why[q][1]) + _sep(place_why[p][1]),
            )
            for q, p in set(zip(query_ids, place_ids, strict=True))
        }
        rest_text = {
            r: _sep(_explain_filters(self._rest_filters[r], doc, best)) for r in set(rest_ids)
        }
        posting_id = doc.id
        return [
            _new_match(
                Match,
                (
                    search_id,
                    posting_id,
                    pair[0],
                    (pair[1] + rest_text[r])[3:] or "every new posting",
                ),
            )
            for search_id, pair, r in zip(
                map(self._ids.__getitem__, kept),
                map(pairs.__getitem__, pair_keys),
                rest_ids,
                strict=True,
            )
        ]

    def match_many(self, docs: Iterable[PostingDoc]) -> dict[int, list[Match]]:
        """Matches keyed by search id, each list best first (ties: lower posting id first)."""
        by_search: dict[int, list[Match]] = {}
        for doc in docs:
            for m in self.match(doc):
                by_search.setdefault(m.search_id, []).append(m)
        for matches in by_search.values():
            matches.sort(key=lambda m: (-m.score, m.posting_id))
        return by_search


def _sep(part: str) -> str:
    return f" · {part}" if part else ""


# NamedTuple's generated __new__ is a Python function; tuple.__new__ builds the same object
# without that call, once per match (millions per digest run).
_new_match = tuple.__new__


def _explain_query(leaves: list[Term | Phrase], d: _Doc) -> tuple[float, str]:
    """Score and reason for the query words found in a posting already known to match."""
    score = 0.0
    hits: dict[str, list[str]] = {}
    seen: set[str] = set()
    for leaf in leaves:
        label = _leaf_label(leaf)
        if label in seen:
            continue
        names = (leaf.field,) if leaf.field else FIELD_ORDER
        for name in names:
            if d.has(leaf, name):
                seen.add(label)
                hits.setdefault(name, []).append(label)
                kind = WORD_WEIGHT if isinstance(leaf, Term) else PHRASE_WEIGHT
                score += FIELD_WEIGHT.get(name, 1.0) * kind
                break
    text = " · ".join(f"{', '.join(hits[name])} in {name}" for name in FIELD_ORDER if name in hits)
    return score, text


def _explain_filters(filters: Filters, doc: PostingDoc, best: float | None) -> str:
    """What the filters besides the place saw, in the order of their definitions."""
    parts = []
    for d in _BIT_DEFS:
        value = getattr(filters, d.name)
        if d.active(value):
            part = d.explain(value, doc)
            if part:
                parts.append(part)
    return " · ".join(parts)
