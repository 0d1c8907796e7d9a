"""The filters besides the place, for the matcher: constraint bits, index keys and reasons.

Everything here loops over the filter definitions (`search.definitions`): a filter's `bits`
say how it becomes a constraint bit, its `index_keys`/`doc_keys` how a search is filed under it.
"""

from __future__ import annotations

from search.definitions import MATCHED, Filters
from search.filter_kinds import FilterDef
from search.place import FilterKey
from search.posting import PostingDoc

_WORTH_INDEXING = 0.9  # a filter that passes more postings than this is not worth a key
# The filters besides the place that the matcher decides as constraint bits, and those that
# can index a search (see `FilterDef`).
_BIT_DEFS = tuple(d for d in MATCHED if d.bits is not None)
_KEY_DEFS = tuple(d for d in MATCHED if type(d).index_keys is not FilterDef.index_keys)


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


Active = tuple[tuple[FilterDef, object], ...]


def active_filters(filters: Filters) -> Active:
    """The filters besides the place that these filters set, with their values, in order."""
    return tuple((d, value) for d in _BIT_DEFS if d.active(value := getattr(filters, d.name)))


def explain_filters(active: Active, doc: PostingDoc) -> str:
    """What the filters besides the place saw, in the order of their definitions."""
    return " · ".join(part for d, value in active if (part := d.explain(value, doc)))
