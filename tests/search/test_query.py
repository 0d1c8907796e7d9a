"""The query language: parse table, errors that point at the column, canonical round trip."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from search.query import (
    And,
    Node,
    Not,
    Or,
    Phrase,
    QueryError,
    Term,
    evaluate,
    parse_query,
    to_text,
    tokenize,
)

a, b, c = Term("a"), Term("b"), Term("c")

PARSES: list[tuple[str, Node | None]] = [
    ("", None),
    ("   ", None),
    ("manager", Term("manager")),
    ("Plant Manager", And((Term("plant"), Term("manager")))),
    ('"plant manager"', Phrase(("plant", "manager"))),
    ('"Plant  Manager"', Phrase(("plant", "manager"))),
    ("a AND b", And((a, b))),
    ("a OR b", Or((a, b))),
    # AND binds tighter than OR, on either side.
    ("a OR b c", Or((a, And((b, c))))),
    ("a b OR c", Or((And((a, b)), c))),
    ("(a OR b) c", And((Or((a, b)), c))),
    ("a (b OR c)", And((a, Or((b, c))))),
    # Keywords are upper case only; lower-case "or" is a word.
    ("a or b", And((a, Term("or"), b))),
    ("a -video", And((a, Not(Term("video"))))),
    ("a NOT video", And((a, Not(Term("video"))))),
    ("a -(b OR c)", And((a, Not(Or((b, c)))))),
    ("title:director", Term("director", "title")),
    ("TITLE:Director", Term("director", "title")),
    ('title:"plant manager"', Phrase(("plant", "manager"), "title")),
    ("title:(a OR b)", Or((Term("a", "title"), Term("b", "title")))),
    ("company:Nestlé", Term("nestle", "company")),
    ("a -company:staffing", And((a, Not(Term("staffing", "company"))))),
    ("Produktionsleiter", Term("produktionsleiter")),
    ("jefe de producción", And((Term("jefe"), Term("de"), Term("produccion")))),
    ('"Jefe de Producción"', Phrase(("jefe", "de", "produccion"))),
    ("Straße", Term("strasse")),
    # A word with inner punctuation is a phrase of its tokens.
    ("co-op", Phrase(("co", "op"))),
    ("2nd-shift", Phrase(("2nd", "shift"))),
]


@pytest.mark.parametrize(("query", "expected"), PARSES)
def test_parse(query: str, expected: Node | None) -> None:
    assert parse_query(query) == expected


ERRORS = [
    ('manager "plant', 9, "unclosed quote"),
    ("(plant manager", 1, "missing ')'"),
    ("plant (a OR b", 7, "missing ')'"),
    ("plant manager)", 14, "unmatched ')'"),
    ("location:Detroit", 1, "unknown field 'location'"),
    ("plant salary:100", 7, "unknown field 'salary'"),
    ("plant OR", 9, "OR needs something after it"),
    ("plant OR )", 10, "OR needs something after it"),
    ("OR plant", 1, "OR needs something before it"),
    ("plant AND", 10, "AND needs something after it"),
    ("-video", 1, "at least one word that must match"),
    ("NOT video -sales", 1, "at least one word that must match"),
    ('plant ""', 7, "empty phrase"),
    ("plant ()", 8, "empty parentheses"),
    ("title:", 7, "needs a word"),
]


@pytest.mark.parametrize(("query", "column", "problem"), ERRORS)
def test_bad_query_points_at_column(query: str, column: int, problem: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(query)
    err = info.value
    assert err.position + 1 == column
    assert problem in err.problem
    assert f"column {column}:" in str(err)
    # The caret under the query sits at the column.
    query_line, caret_line = str(err).splitlines()[1:]
    assert query_line == f"  {query}"
    assert caret_line.index("^") - 2 == column - 1
    assert query in err.one_line()


VOCAB = ["plant", "manager", "lean", "haccp", "or", "and", "not", "title", "produccion", "2nd"]


def _leaf(field: str | None) -> st.SearchStrategy[Node]:
    word = st.sampled_from(VOCAB)
    return st.one_of(
        st.builds(Term, word, st.just(field)),
        st.builds(Phrase, st.lists(word, min_size=2, max_size=3).map(tuple), st.just(field)),
    )


def _tree(field: str | None) -> st.SearchStrategy[Node]:
    return st.recursive(
        _leaf(field),
        lambda kids: st.one_of(
            st.lists(kids, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
            st.lists(kids, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
            kids.map(Not),
        ),
        max_leaves=6,
    )


queries = st.sampled_from([None, "title", "company"]).flatmap(_tree)


def _parse_or_skip(text: str) -> Node | None:
    try:
        return parse_query(text)
    except QueryError as err:
        # Only an all-negative query may be refused; anything else is a to_text bug.
        assume("at least one word that must match" not in err.problem)
        raise


@given(queries)
@settings(max_examples=300)
def test_round_trip_is_canonical(node: Node) -> None:
    parsed = _parse_or_skip(to_text(node))
    assert parse_query(to_text(parsed)) == parsed


@given(queries, st.lists(st.sampled_from(VOCAB), max_size=8), st.lists(st.sampled_from(VOCAB)))
@settings(max_examples=300)
def test_round_trip_keeps_meaning(node: Node, title: list[str], description: list[str]) -> None:
    parsed = _parse_or_skip(to_text(node))
    fields = {"title": title, "company": [], "description": description}
    assert evaluate(parsed, fields) == evaluate(node, fields)


def test_tokenize_folds_case_and_accents() -> None:
    assert tokenize("Jefe de Producción – 2º turno") == ["jefe", "de", "produccion", "2o", "turno"]
    assert tokenize(None) == []
