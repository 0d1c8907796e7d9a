"""RE2 on the bytes of ASCII text: what google-re2's `search` and `finditer` answer, cheaper.

google-re2 encodes a str on every call, maps each offset back to characters and goes through
a generator and a match object per call: for the short searches of the facts rules that is
most of their cost. ASCII text (most descriptions) needs none of it: its bytes are its
characters, so RE2's own matcher runs on them and its spans are the text's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import re2

_UNANCHORED = re2._Anchor.UNANCHORED  # what google-re2's `search` passes to RE2 itself
_NO_SPAN = (-1, -1)


class AsciiMatch:
    """A match found in the bytes of an ASCII text, answering what google-re2's match object
    answers for `group`, `[]`, `start`, `end` and `span`."""

    __slots__ = ("_names", "_spans", "_text")

    def __init__(self, text: str, spans: tuple[tuple[int, int], ...], names: dict[str, int]):
        self._text = text
        self._spans = spans
        self._names = names

    def __getitem__(self, group: int | str) -> str | None:
        index = group if isinstance(group, int) else self._names.get(group, -1)
        if not 0 <= index < len(self._spans):
            raise IndexError("bad group name" if isinstance(group, str) else "bad group index")
        start, end = self._spans[index]
        return None if start == -1 and end == -1 else self._text[start:end]

    def group(self, *groups: int | str) -> Any:
        if len(groups) <= 1:
            return self[groups[0] if groups else 0]
        return tuple(self[group] for group in groups)

    def span(self, group: int = 0) -> tuple[int, int]:
        if not 0 <= group < len(self._spans):
            raise IndexError("bad group index")
        return self._spans[group]

    def start(self, group: int = 0) -> int:
        return self.span(group)[0]

    def end(self, group: int = 0) -> int:
        return self.span(group)[1]


class AsciiRE2:
    """A google-re2 pattern whose `search` and `finditer` read an ASCII text's bytes with RE2
    itself (the wrapper's loop, the same spans); other text goes the wrapper's way."""

    def __init__(self, regex: Any) -> None:
        self.regex = regex
        self._match = regex._regexp.Match
        self._names = dict(regex.groupindex)

    def _bounds(self, size: int, pos: int | None, end: int | None) -> tuple[int, int]:
        # clamped as the wrapper clamps them
        pos = 0 if pos is None else max(0, min(pos, size))
        return pos, size if end is None else max(0, min(end, size))

    def search(self, text: str, pos: int | None = None, end: int | None = None) -> Any:
        data = last_bytes(text)
        if data is None:
            return self.regex.search(text, pos, end)
        pos, end = self._bounds(len(data), pos, end)
        if pos > end:
            return None
        spans = self._match(_UNANCHORED, data, pos, end)
        return None if spans[0] == _NO_SPAN else AsciiMatch(text, spans, self._names)

    def finditer(self, text: str, pos: int | None = None, end: int | None = None) -> Iterator[Any]:
        data = last_bytes(text)
        if data is None:
            return self.regex.finditer(text, pos, end)
        return self._finditer(text, data, *self._bounds(len(data), pos, end))

    def _finditer(self, text: str, data: bytes, pos: int, end: int) -> Iterator[AsciiMatch]:
        match = self._match
        while pos <= end:
            spans = match(_UNANCHORED, data, pos, end)
            if spans[0] == _NO_SPAN:
                return
            yield AsciiMatch(text, spans, self._names)
            if pos == end:
                return
            # an empty match at `pos` would be found again: step past it, as the wrapper does
            pos = pos + 1 if pos == spans[0][1] else spans[0][1]


class _LastBytes:
    """The bytes of the last text asked about when it is ASCII, else None: the patterns of a
    gated rule set run one after another on one sentence."""

    def __init__(self) -> None:
        # one tuple, replaced whole: a thread never sees one text with another's bytes
        self.last: tuple[str, bytes | None] = ("", b"")

    def __call__(self, text: str) -> bytes | None:
        last = self.last
        if last[0] is not text:
            last = self.last = (text, text.encode("ascii") if text.isascii() else None)
        return last[1]


last_bytes = _LastBytes()
