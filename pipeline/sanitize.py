"""Untrusted job-description HTML: sanitize it for display (nh3) and turn it into plain text."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import nh3

ALLOWED_TAGS = frozenset(
    {"p", "br", "ul", "ol", "li", "strong", "b", "em", "i", "h2", "h3", "h4", "a"}
)
# Dropped with their content: what is inside these is code or chrome, never description text.
_DROP_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "noscript", "template", "object", "embed", "svg", "math", "title"}
)

_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(_DROP_WITH_CONTENT),
    attributes={"a": {"href"}},
    url_schemes={"http", "https", "mailto"},
    # A relative link in a scraped page points at the employer's site, not ours: drop it.
    url_relative="deny",
    link_rel="nofollow noopener",
    strip_comments=True,
)

# Greenhouse (and some JSON-LD) ship HTML entity-escaped: "&lt;p&gt;Hello&lt;/p&gt;".
_ESCAPED_TAG = re.compile(r"&lt;/?[a-zA-Z][a-zA-Z0-9]*(?:\s|/?&gt;)")
_REAL_TAG = re.compile(r"<[a-zA-Z/!]")


def unescape_if_escaped(fragment: str) -> str:
    """Unescape once when the markup itself is entity-escaped (escaped tags, no real ones)."""
    if _ESCAPED_TAG.search(fragment) and not _REAL_TAG.search(fragment):
        return html.unescape(fragment)
    return fragment


def clean_html(fragment: str | None) -> str:
    """Sanitize an untrusted HTML fragment down to a small set of formatting tags."""
    if not fragment:
        return ""
    return _CLEANER.clean(unescape_if_escaped(fragment)).strip()


_BLOCK_TAGS = frozenset(
    {
        "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
        "section", "article", "header", "footer", "blockquote", "pre", "hr", "dd", "dt", "dl",
    }
)  # fmt: skip


class _TextExtractor(HTMLParser):
    """Collects text; block elements become line breaks, list items get a bullet.

    A block inside a list item (`<li><p>text</p></li>`, Ashby's shape) adds no line break
    between the bullet and its text, so items read "- text", not "-" on a line of its own.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._bullet_open = False  # a "- " was written and no text has followed yet

    def _break(self) -> None:
        if not self._bullet_open:
            self.parts.append("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_WITH_CONTENT:
            self._skip += 1
        elif tag == "li":
            self.parts.append("\n- ")
            self._bullet_open = True
        elif tag in _BLOCK_TAGS:
            self._break()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_WITH_CONTENT:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS and tag != "li":
            self._break()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)
            if data.strip():
                self._bullet_open = False


def _join_bullets(text: str) -> str:
    """Drop the blank line a closing block leaves between two list items, and empty bullets."""
    if "\n\n- " not in text and not _has_dash_line(text):
        return text  # no "-" line, and no blank line before a "- " line: nothing to drop
    lines = [line for line in text.split("\n") if line != "-"]
    kept = [
        line
        for i, line in enumerate(lines)
        if line
        or not (0 < i < len(lines) - 1)
        or not (lines[i - 1].startswith("- ") and lines[i + 1].startswith("- "))
    ]
    return "\n".join(kept)


def _has_dash_line(text: str) -> bool:
    """Whether a line of `text` is "-" alone."""
    return text == "-" or text.startswith("-\n") or text.endswith("\n-") or "\n-\n" in text


_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b\u202f\u2009]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")
_OTHER_SPACES = re.compile(r"[\t\r\f\v\u00a0\u200b\u202f\u2009]")  # _SPACES's class but " "


# Whitespace but " " and "\n" (and the zero-width space, which _SPACES also replaces): in a
# text without any, normalize_text could only change two spaces, a space next to a line break,
# three line breaks or the ends.
_ODD_SPACE = re.compile(r"[^\S \n]")


# The ASCII characters _ODD_SPACE matches (str.isspace, but " " and "\n")
_ASCII_ODD_SPACES = "\t\x0b\x0c\r\x1c\x1d\x1e\x1f"


def _has_odd_space(text: str) -> bool:
    """`_ODD_SPACE.search(text) is not None`; on ASCII text a few C scans, not a regex pass."""
    if text.isascii():  # spelled out: a generator over the eight costs more than their scans
        return (
            "\t" in text or "\x0b" in text or "\x0c" in text or "\r" in text
            or "\x1c" in text or "\x1d" in text or "\x1e" in text or "\x1f" in text
        )  # fmt: skip
    return _ODD_SPACE.search(text) is not None


def _has_other_space(line: str) -> bool:
    """`_OTHER_SPACES.search(line) is not None`; printable ASCII has none (one C pass)."""
    if line.isascii() and line.isprintable():  # \t\r\f\v are not printable
        return False
    return _OTHER_SPACES.search(line) is not None


def _has_tab_or_feed(text: str) -> bool:
    """Whether `text` holds a tab, CR, FF or VT (spelled out: cheaper than a generator)."""
    return "\t" in text or "\r" in text or "\x0c" in text or "\x0b" in text


def normalize_text(text: str) -> str:
    """Collapse runs of spaces per line and keep at most one blank line between paragraphs."""
    if (
        text == text.strip()
        and "  " not in text
        and " \n" not in text
        and "\n " not in text
        and "\n\n\n" not in text
        and "\u200b" not in text
        and not _has_odd_space(text)
    ):
        return text  # normalized already (the enrichment rules get text that mostly is)
    # a line with no two spaces and no other space character is left as it is by _SPACES (a
    # sub that matches every single space costs ~40 us on a description)
    if text.isascii() and "  " not in text and not _has_tab_or_feed(text):
        lines = [line.strip() for line in text.split("\n")]  # no line has either
    else:
        lines = [
            (_SPACES.sub(" ", line) if "  " in line or _has_other_space(line) else line).strip()
            for line in text.split("\n")
        ]
    joined = "\n".join(lines)
    # `_MANY_NEWLINES.sub("\n\n", joined)` in C: each pass cuts a run of k >= 3 line breaks
    # to k - k // 3, so every run ends at two, in a few passes
    while "\n\n\n" in joined:
        joined = joined.replace("\n\n\n", "\n\n")
    return joined.strip()


def html_to_text(fragment: str | None) -> str:
    """Readable plain text from HTML: blocks on their own lines, entities decoded."""
    return html_text(fragment)[0]


def html_text(fragment: str | None) -> tuple[str, bool]:
    """`html_to_text`, and whether the text is known to be as `normalize_text` leaves it: so
    when no line was "-" (dropping one may leave three line breaks, or one at an end; dropping
    a blank line between bullets leaves the text normalized)."""
    if not fragment:
        return "", True
    fragment = unescape_if_escaped(fragment)
    parts = _simple_parts(fragment)
    if parts is None:
        parser = _TextExtractor()
        parser.feed(fragment)
        parser.close()
        parts = parser.parts
    text = normalize_text("".join(parts))
    return _join_bullets(text), not _has_dash_line(text)


# Markup as nh3 writes it (`clean_html`, what the pipeline turns into text): lower-case tags
# with double-quoted attributes, text without "<". HTMLParser reads it as these tags and the
# text between them.
_SIMPLE_TAG = re.compile(r'<(/?)([a-z][a-z0-9]*)((?: [a-z][a-z-]*="[^"<>]*")*)>')
# no script/style (HTMLParser reads their content as raw text) nor any other odd element
_SIMPLE_TAGS = ALLOWED_TAGS | _BLOCK_TAGS


def _simple_parts(markup: str) -> list[str] | None:
    """The parts `_TextExtractor` collects from markup of that simple shape, its handlers'
    work done inline (no parser, no call per tag); None when the markup is not that shape."""
    parts: list[str] = []
    bullet_open = False  # `_TextExtractor._bullet_open`
    pos, size = 0, len(markup)
    while pos < size:
        if markup.startswith("<", pos):
            m = _SIMPLE_TAG.match(markup, pos)
            if m is None:
                return None  # a "<" that starts no simple tag
            closing, tag, attrs = m.groups()
            if tag not in _SIMPLE_TAGS or (closing and attrs):
                return None
            if tag == "li" and not closing:
                parts.append("\n- ")
                bullet_open = True
            elif tag in _BLOCK_TAGS and tag != "li" and not bullet_open:
                parts.append("\n")  # a block's start or end is a line break
            pos = m.end()
        else:
            end = markup.find("<", pos)
            end = size if end < 0 else end
            data = markup[pos:end]
            if "&" in data:
                data = html.unescape(data)
            parts.append(data)
            if bullet_open and data.strip():
                bullet_open = False
            pos = end
    return parts


# C0 controls (ESC starts every terminal escape sequence), DEL, C1 controls (U+009B is a
# one-character CSI) and the bidirectional embeddings, overrides and isolates (U+202E makes a
# line read backwards): none of them may reach a terminal, a log or a stored name.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROLS_AND_BREAKS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]"
)


def strip_controls(text: str, *, keep_newlines: bool = False) -> str:
    """The text without control and bidi-override characters (tabs become spaces; newlines
    stay only with `keep_newlines`, else they become spaces too)."""
    if keep_newlines:
        return _CONTROLS.sub("", text.replace("\t", " "))
    return _CONTROLS_AND_BREAKS.sub(
        lambda m: " " if m.group() in "\t\n\r\u2028\u2029" else "", text
    )
