"""Saved-search queries compiled for the matcher: postings tokenized once, queries as closures.

`_compile(node)` gives a predicate equal to `evaluate(node, fields)` that reads sets and joined
strings; `_anchors` finds the words one of which every matching posting contains (how the
matcher files a search); `_explain_query` scores and explains the words a posting matched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeGuard

from search.posting import PostingDoc
from search.query import And, Node, Not, Or, Phrase, Term, evaluate, tokenize

FIELD_ORDER = ("title", "company", "description")

# Score weights (see `SearchIndex`): where a query word was found, and what kind of hit it was.
FIELD_WEIGHT = {"title": 3.0, "company": 2.0, "description": 1.0}
WORD_WEIGHT = 1.0
PHRASE_WEIGHT = 2.0

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

_EMPTY: frozenset[str] = frozenset()


def doc_fields(doc: PostingDoc) -> dict[str, list[str]]:
    """The token lists `evaluate` reads: title, company, description."""
    return {
        "title": tokenize(doc.title),
        "company": tokenize(doc.company),
        "description": tokenize(doc.description),
    }


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
            key = field or ""  # never None here: the case above took that
            return lambda d: word in d.sets.get(key, _EMPTY)
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
            plain = frozenset(n.word for n in items if _plain_term(n))
            rest = tuple(_compile(n) for n in sorted(items, key=_check_cost) if not _plain_term(n))
            if not rest:
                return lambda d: plain <= d.every

            def all_of(d: _Doc) -> bool:
                if not plain <= d.every:
                    return False
                # A plain loop: all() over a generator costs a frame per search in the hot path.
                for pred in rest:  # noqa: SIM110
                    if not pred(d):
                        return False
                return True

            return all_of
        case Or(items):
            plain = frozenset(n.word for n in items if _plain_term(n))
            rest = tuple(_compile(n) for n in sorted(items, key=_check_cost) if not _plain_term(n))
            if not rest:
                return lambda d: not plain.isdisjoint(d.every)

            def any_of(d: _Doc) -> bool:
                if not plain.isdisjoint(d.every):
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


def _plain_term(node: Node) -> TypeGuard[Term]:
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


def _explain_query(leaves: list[Term | Phrase], d: _Doc) -> tuple[float, str]:
    """Score and reason for the query words found in a posting already known to match."""
    return explain_leaves(leaves, d.has)


def explain_leaves(
    leaves: list[Term | Phrase], has: Callable[[Term | Phrase, str], bool]
) -> tuple[float, str]:
    """`_explain_query` with `has(leaf, field)` saying where the posting contains a leaf: each
    distinct word or phrase counts once, in its best field (the first of `FIELD_ORDER` found)."""
    score = 0.0
    hits: dict[str, list[str]] = {}
    seen: set[str] = set()
    for leaf in leaves:
        label = _leaf_label(leaf)
        if label in seen:
            continue
        names = (leaf.field,) if leaf.field else FIELD_ORDER
        for name in names:
            if has(leaf, name):
                seen.add(label)
                hits.setdefault(name, []).append(label)
                kind = WORD_WEIGHT if isinstance(leaf, Term) else PHRASE_WEIGHT
                score += FIELD_WEIGHT.get(name, 1.0) * kind
                break
    text = " · ".join(f"{', '.join(hits[name])} in {name}" for name in FIELD_ORDER if name in hits)
    return score, text
