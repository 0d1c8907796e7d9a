"""html_to_text's fast reading of nh3-shaped markup gives what HTMLParser's reading gives."""

from __future__ import annotations

import random

from pipeline import sanitize
from pipeline.sanitize import clean_html, html_to_text

PIECES = [
    "<p>", "</p>", "<br>", "<br/>", "<li>", "</li>", "<ul>", "</ul>", "<div>", "</div>", "<h2>",
    "</h2>", '<a href="x>y">', "</a>", "<script>", "</script>", "<style>x</style>", "<!-- c -->",
    "<b class='x'>", "<P>", "</P>", "&amp;", "&lt;", "&gt;", "&nbsp;", "&#233;", "&", "&am", "<",
    ">", " ", "\n", "  ", "\t", "\u00a0", "-", "text", "é", "word ", "&lt;p&gt;", "</br>",
    '<li class="a">', "<p >", "</p >", "<svg>", "</svg>", "<i>", "</i>", "\r\n", "<x-y>",
]  # fmt: skip


def _general(fragment: str) -> str:
    parser = sanitize._TextExtractor()
    parser.feed(sanitize.unescape_if_escaped(fragment))
    parser.close()
    return sanitize._join_bullets(sanitize.normalize_text("".join(parser.parts)))


def test_html_to_text_matches_htmlparser_on_random_markup_and_its_cleaned_form():
    rng = random.Random(5)
    simple = 0
    for _ in range(20_000):
        raw = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 25)))
        for markup in (raw, clean_html(raw)):
            assert html_to_text(markup) == _general(markup), repr(markup)
            unescaped = sanitize.unescape_if_escaped(markup)
            parts = sanitize._simple_parts(unescaped)
            if parts is not None:  # the parts themselves are the parser's
                parser = sanitize._TextExtractor()
                parser.feed(unescaped)
                parser.close()
                assert parts == parser.parts, repr(markup)
                simple += 1
    assert simple > 15_000  # the cleaned markup takes the fast path


def _plain_join_bullets(text: str) -> str:
    """`_join_bullets` without its shortcut."""
    lines = [line for line in text.split("\n") if line != "-"]
    kept = [
        line
        for i, line in enumerate(lines)
        if line
        or not (0 < i < len(lines) - 1)
        or not (lines[i - 1].startswith("- ") and lines[i + 1].startswith("- "))
    ]
    return "\n".join(kept)


def test_join_bullets_is_the_plain_line_filter():
    rng = random.Random(7)
    pool = ["-", "- ", "\n", "\n\n", "a", " ", "- x", "\n- ", "\n-\n", "x-"]
    texts = ["".join(rng.choice(pool) for _ in range(rng.randint(0, 12))) for _ in range(40_000)]
    for text in [*texts, "-", "-\n", "\n-", ""]:
        assert sanitize._join_bullets(text) == _plain_join_bullets(text), repr(text)
