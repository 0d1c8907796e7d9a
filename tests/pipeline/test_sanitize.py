"""Sanitizing untrusted description HTML and turning it into text."""

from __future__ import annotations

import pytest

from pipeline.sanitize import clean_html, html_to_text, unescape_if_escaped


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("<p>Hello <b>world</b></p>", "<p>Hello <b>world</b></p>"),
        ('<p onclick="steal()">Hi</p>', "<p>Hi</p>"),
        ("<p>a<script>alert(1)</script>b</p>", "<p>ab</p>"),
        ('<style>p{color:red}</style><p style="color:red">x</p>', "<p>x</p>"),
        ('<iframe src="https://evil.example">frame</iframe><p>x</p>', "<p>x</p>"),
        ("<img src=x onerror=alert(1)><p>x</p>", "<p>x</p>"),
        ("<div><span>text</span></div>", "text"),
        (
            '<a href="https://example.com/job" target="_blank">apply</a>',
            '<a href="https://example.com/job" rel="nofollow noopener">apply</a>',
        ),
        ('<a href="javascript:alert(1)">x</a>', '<a rel="nofollow noopener">x</a>'),
        ('<a href="/relative">x</a>', '<a rel="nofollow noopener">x</a>'),
        (
            '<a href="mailto:jobs@example.com">mail</a>',
            '<a href="mailto:jobs@example.com" rel="nofollow noopener">mail</a>',
        ),
        (
            "<h2>Title</h2><h1>Big</h1><ul><li>one</li></ul>",
            "<h2>Title</h2>Big<ul><li>one</li></ul>",
        ),
        ("&lt;p&gt;Escaped &amp;amp; more&lt;/p&gt;", "<p>Escaped &amp; more</p>"),
        ("", ""),
        (None, ""),
    ],
)
def test_clean_html(dirty: str | None, clean: str) -> None:
    assert clean_html(dirty) == clean


def test_unescape_only_once_and_only_escaped_markup() -> None:
    assert unescape_if_escaped("&lt;p&gt;a&lt;/p&gt;") == "<p>a</p>"
    assert unescape_if_escaped("<p>5 &lt; 6</p>") == "<p>5 &lt; 6</p>"
    assert unescape_if_escaped("Tom &amp; Jerry") == "Tom &amp; Jerry"


def test_html_to_text() -> None:
    text = html_to_text(
        "<h2>About</h2><p>Hello&nbsp;<b>world</b> &amp; friends</p>"
        "<ul><li>one</li><li>two</li></ul><script>bad()</script><p>  end  </p>"
    )
    assert text == "About\n\nHello world & friends\n\n- one\n- two\n\nend"


def test_html_to_text_handles_escaped_greenhouse_content() -> None:
    assert html_to_text("&lt;p&gt;Line one&lt;/p&gt;&lt;p&gt;Line two&lt;/p&gt;") == (
        "Line one\n\nLine two"
    )


@pytest.mark.parametrize(
    ("html", "text"),
    [
        # Ashby wraps each list item's text in a paragraph.
        (
            "<p>Intro</p><ul><li><p>Own safety for the line</p></li><li><p>Lead 40 people</p></li></ul>",
            "Intro\n\n- Own safety for the line\n- Lead 40 people",
        ),
        ("<ul><li>Own safety</li><li>Lead</li></ul>", "- Own safety\n- Lead"),
        ("<ol><li><div><p>First</p></div></li></ol><p>After</p>", "- First\n\nAfter"),
        ("<ul><li></li><li>x</li></ul>", "- x"),
    ],
)
def test_list_items_read_as_one_bullet_line_each(html: str, text: str) -> None:
    assert html_to_text(html) == text
