"""The saved-search query language: Lucene-like words, phrases, OR, NOT, parentheses, fields.

Grammar (words are ANDed; AND binds tighter than OR; NOT / '-' negate one clause):

    query   := or_expr
    or_expr := and_expr ("OR" and_expr)*
    and_expr:= unary (["AND"] unary)*
    unary   := ("NOT" | "-") unary | primary
    primary := [field ":"] (WORD | "PHRASE" | "(" or_expr ")")
    field   := "title" | "company"

Text is compared as tokens: lowercase, accents removed, split on anything that is not a letter
or digit. That is the same tokenization the full-text indexes use (SQLite FTS5 `unicode61
remove_diacritics 2`, PostgreSQL `simple`), so the listing search and the alert matcher agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.tokens import tokenize

FIELDS = ("title", "company")


@dataclass(frozen=True)
class Term:
    """One token, optionally restricted to a field."""

    word: str
    field: str | None = None


@dataclass(frozen=True)
class Phrase:
    """Consecutive tokens, optionally restricted to a field."""

    words: tuple[str, ...]
    field: str | None = None


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Term | Phrase | And | Or | Not


class QueryError(ValueError):
    """A query that cannot be parsed; the message points at the column of the problem."""

    def __init__(self, query: str, position: int, problem: str) -> None:
        self.query = query
        self.position = position
        self.problem = problem
        super().__init__(
            f"bad query at column {position + 1}: {problem}\n  {query}\n  {' ' * position}^"
        )

    def one_line(self) -> str:
        return f"bad query at column {self.position + 1}: {self.problem} (in {self.query!r})"


@dataclass(frozen=True)
class _Tok:
    kind: str  # WORD, PHRASE, LPAREN, RPAREN, OR, AND, NOT, MINUS, FIELD
    text: str
    pos: int


_LEX_RE = re.compile(
    r"""(?P<ws>\s+)
      | (?P<lparen>\()
      | (?P<rparen>\))
      | (?P<phrase>"[^"]*")
      | (?P<open_quote>")
      | (?P<field>[A-Za-z_]+:)
      | (?P<minus>-(?=[^\s]))
      | (?P<word>[^\s()"]+)
    """,
    re.VERBOSE,
)


def _lex(query: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    while pos < len(query):
        m = _LEX_RE.match(query, pos)
        if m is None:  # pragma: no cover - the word branch matches anything left
            raise QueryError(query, pos, "unexpected character")
        kind = m.lastgroup or ""  # never empty: every branch of _LEX_RE is a named group
        text = m.group()
        if kind == "open_quote":
            raise QueryError(query, pos, "unclosed quote")
        if kind == "field":
            name = text[:-1].lower()
            if name not in FIELDS:
                raise QueryError(
                    query, pos, f"unknown field {name!r} (fields: {', '.join(FIELDS)})"
                )
            toks.append(_Tok("FIELD", name, pos))
        elif kind == "word":
            upper = text
            if upper in ("OR", "AND", "NOT"):
                toks.append(_Tok(upper, text, pos))
            else:
                toks.append(_Tok("WORD", text, pos))
        elif kind == "phrase":
            toks.append(_Tok("PHRASE", text[1:-1], pos))
        elif kind != "ws":
            toks.append(_Tok(kind.upper(), text, pos))
        pos = m.end()
    return toks


# Bounds on what one query may ask (the parser recurses; SQLite refuses huge expression trees).
MAX_TERMS = 64
MAX_DEPTH = 10


def _check_size(query: str, toks: list[_Tok]) -> None:
    """Refuse queries with too many words or parentheses/NOTs nested too deep, pointing there."""
    terms = depth = negations = 0
    for tok in toks:
        if tok.kind in ("WORD", "PHRASE"):
            terms += 1
            if terms > MAX_TERMS:
                raise QueryError(query, tok.pos, f"too many words: at most {MAX_TERMS}")
        negations = negations + 1 if tok.kind in ("NOT", "MINUS") else 0
        depth += {"LPAREN": 1, "RPAREN": -1}.get(tok.kind, 0)
        if depth > MAX_DEPTH or negations > MAX_DEPTH:
            raise QueryError(query, tok.pos, f"nested too deep: at most {MAX_DEPTH} levels")


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.toks = _lex(query)
        _check_size(query, self.toks)
        self.i = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def error(self, problem: str, tok: _Tok | None = None) -> QueryError:
        pos = tok.pos if tok is not None else len(self.query)
        return QueryError(self.query, pos, problem)

    def parse(self) -> Node | None:
        if not self.toks:
            return None
        node = self.or_expr()
        tok = self.peek()
        if tok is not None:
            raise self.error("unmatched ')'" if tok.kind == "RPAREN" else "unexpected input", tok)
        return node

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.take()
            if (after := self.peek()) is None or after.kind in ("RPAREN", "OR", "AND"):
                raise self.error("OR needs something after it", self.peek())
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Node:
        items = [self.unary()]
        while (tok := self.peek()) is not None and tok.kind not in ("OR", "RPAREN"):
            if tok.kind == "AND":
                self.take()
                if (after := self.peek()) is None or after.kind in ("RPAREN", "OR", "AND"):
                    raise self.error("AND needs something after it", self.peek())
            items.append(self.unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self, field: str | None = None) -> Node:
        tok = self.peek()
        if tok is None:
            raise self.error("the query ends too early")
        if tok.kind in ("NOT", "MINUS"):
            self.take()
            if self.peek() is None:
                raise self.error(f"{tok.text} needs something after it")
            return Not(self.unary(field))
        return self.primary(field)

    def primary(self, field: str | None) -> Node:
        tok = self.peek()
        if tok is None:
            raise self.error("the query ends too early")
        if tok.kind == "FIELD":
            if field is not None:
                raise self.error("a field inside a field", tok)
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind in ("RPAREN", "OR", "AND"):
                raise self.error(f"{tok.text}: needs a word, a phrase or parentheses", nxt)
            return self.primary(tok.text)
        self.take()
        if tok.kind == "LPAREN":
            nxt = self.peek()
            if nxt is not None and nxt.kind == "RPAREN":
                raise self.error("empty parentheses", nxt)
            node = self._with_field(self.or_expr(), field)
            close = self.peek()
            if close is None or close.kind != "RPAREN":
                raise self.error("missing ')' for the '(' here", tok)
            self.take()
            return node
        if tok.kind == "RPAREN":
            raise self.error("unmatched ')'", tok)
        if tok.kind in ("OR", "AND"):
            raise self.error(f"{tok.kind} needs something before it", tok)
        words = tuple(tokenize(tok.text))
        if not words:
            raise self.error(
                "empty phrase" if tok.kind == "PHRASE" else "no letters or digits", tok
            )
        if len(words) == 1:
            return Term(words[0], field)
        return Phrase(words, field)

    def _with_field(self, node: Node, field: str | None) -> Node:
        if field is None:
            return node
        match node:
            case Term(word, None):
                return Term(word, field)
            case Phrase(words, None):
                return Phrase(words, field)
            case And(items):
                return And(tuple(self._with_field(n, field) for n in items))
            case Or(items):
                return Or(tuple(self._with_field(n, field) for n in items))
            case Not(item):
                return Not(self._with_field(item, field))
        return node


def parse_query(query: str | None) -> Node | None:
    """Parse a query; None for an empty one; `QueryError` pointing at the problem otherwise."""
    if query is None or not query.strip():
        return None
    node = _Parser(query).parse()
    if _only_negative(node):
        raise QueryError(query, 0, "a query needs at least one word that must match, not only NOT")
    return node


def _only_negative(node: Node | None) -> bool:
    match node:
        case Not():
            return True
        case And(items):
            return all(_only_negative(n) for n in items)
        case Or(items):
            return any(_only_negative(n) for n in items)
    return False


def to_text(node: Node | None) -> str:
    """Render a parsed query back to canonical text (for display and round-trip tests)."""
    match node:
        case None:
            return ""
        case Term(word, field):
            return f"{field}:{word}" if field else word
        case Phrase(words, field):
            text = '"' + " ".join(words) + '"'
            return f"{field}:{text}" if field else text
        case And(items):
            return " ".join(_paren(n, Or) for n in items)
        case Or(items):
            return " OR ".join(_paren(n, None) for n in items)
        case Not(item):
            return "-" + _paren(item, (And, Or))
    raise TypeError(node)


def _paren(node: Node, wrap: type | tuple[type, ...] | None) -> str:
    text = to_text(node)
    return f"({text})" if wrap is not None and isinstance(node, wrap) else text


def evaluate(node: Node | None, fields: dict[str, list[str]]) -> bool:
    """Does a document match? `fields` maps title/company/description to its token list.

    Unfielded words match any field. This is the reference semantics; the matcher and the SQL
    compilers must agree with it.
    """
    match node:
        case None:
            return True
        case Term(word, field):
            names = (field,) if field else tuple(fields)
            return any(word in fields.get(n, ()) for n in names)
        case Phrase(words, field):
            names = (field,) if field else tuple(fields)
            return any(_has_phrase(fields.get(n, []), words) for n in names)
        case And(items):
            return all(evaluate(n, fields) for n in items)
        case Or(items):
            return any(evaluate(n, fields) for n in items)
        case Not(item):
            return not evaluate(item, fields)
    raise TypeError(node)


def _has_phrase(tokens: list[str], words: tuple[str, ...]) -> bool:
    n = len(words)
    first = words[0]
    return any(
        tokens[i] == first and tuple(tokens[i : i + n]) == words for i in range(len(tokens) - n + 1)
    )
