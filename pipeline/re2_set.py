"""Which of several Python regexes match in a text, from one RE2 pass over its bytes.

On ASCII text Python's `re` and RE2 agree on what most patterns match: the same `\\b`, `\\w`
and `\\d` (ASCII there), the same case folding of ASCII letters, the same `.`. They differ on
`\\s` (Python's also matches \\v and \\x1c-\\x1f, RE2's does not), so a text holding one of
those is not read here; and on constructs RE2 lacks or reads otherwise: lookarounds,
backreferences, `^`/`$` (Python's `$` also matches before a final line break), possessive and
atomic groups. A pattern made only of what both read alike is *exact*: RE2's set says whether
it matches. A pattern whose only other parts are lookarounds is searched by RE2 without them
(a lookaround only narrows where a pattern matches: what matches with it matches without), so
the set tells where it cannot match and Python's `re` decides the rest. Any other pattern is
always left to Python.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator, Sequence
from typing import Any

import re2

sre_parse: Any = importlib.import_module("re._parser")  # Python's own regex parser (no stubs)
sre: Any = importlib.import_module("re._constants")

# Python's \s beyond RE2's [\t\n\f\r ] among ASCII characters
_PY_ONLY_SPACES = "\x0b\x1c\x1d\x1e\x1f"
_PLAIN_OPS = {sre.LITERAL, sre.NOT_LITERAL, sre.IN, sre.ANY, sre.MAX_REPEAT, sre.MIN_REPEAT}
_BOUNDARIES = {sre.AT_BOUNDARY, sre.AT_NON_BOUNDARY}
_LOOKAROUND = re.compile(r"\(\?<?[=!]")


def _foreign(code: int) -> bool:
    """Whether a character is beyond ASCII yet has an ASCII case twin for one of the two
    engines (Python's `re` matches "İ" to "i" and the Kelvin sign to "k"): left to Python."""
    if code < 128:
        return False
    char = chr(code)
    return any(c.isascii() for c in char.lower() + char.upper() + char.casefold())


def _plain_class(items: Any) -> bool:
    """Whether a character class holds only ASCII-safe literals, ASCII ranges and \\d \\w \\s."""
    for op, av in items:
        if op is sre.LITERAL and _foreign(av):
            return False
        if op is sre.RANGE and av[1] >= 128:
            return False
    return True


def exact(items: Any) -> bool:
    """Whether a parsed pattern holds only what RE2 reads as Python does on ASCII text."""
    for op, av in items:
        if op in (sre.LITERAL, sre.NOT_LITERAL):
            if _foreign(av):
                return False
        elif op is sre.IN:
            if not _plain_class(av):
                return False
        elif op is sre.SUBPATTERN:
            _group, add_flags, del_flags, body = av
            if (add_flags | del_flags) & ~re.IGNORECASE or not exact(body):
                return False
        elif op is sre.BRANCH:
            if not all(exact(alternative) for alternative in av[1]):
                return False
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            if not exact(av[2]):
                return False
        elif op is sre.AT:
            if av not in _BOUNDARIES:
                return False
        elif op not in _PLAIN_OPS:
            return False
    return True


def without_lookarounds(pattern: str) -> str | None:
    """`pattern` with its lookaround groups cut out; None when one is not closed."""
    out: list[str] = []
    pos = 0
    while (m := _LOOKAROUND.search(pattern, pos)) is not None:
        if _escaped(pattern, m.start()) or _in_class(pattern, m.start()):
            out.append(pattern[pos : m.end()])
            pos = m.end()
            continue
        end = _group_end(pattern, m.end())
        if end is None:
            return None
        out.append(pattern[pos : m.start()])
        pos = end
    out.append(pattern[pos:])
    return "".join(out)


def _escaped(pattern: str, at: int) -> bool:
    backslashes = len(pattern[:at]) - len(pattern[:at].rstrip("\\"))
    return backslashes % 2 == 1


def _outside_classes(pattern: str, start: int) -> Iterator[tuple[int, str]]:
    """Each character from `start` that is neither escaped nor inside a character class, with
    its position: a class's "[" is, its members and "]" are not, nor an escape's two characters."""
    i, in_class = start, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        else:
            yield i, ch
            if ch == "[":
                in_class = True
                i += 1
                i += pattern.startswith("^", i)
                i += pattern.startswith("]", i)  # a "]" right after "[" or "[^" is a literal
                continue
        i += 1


def _in_class(pattern: str, at: int) -> bool:
    """Whether the unescaped "(" at `at` lies inside a character class."""
    for i, _ch in _outside_classes(pattern, 0):
        if i >= at:
            return i != at
    return True


def _group_end(pattern: str, pos: int) -> int | None:
    """The position after the ")" closing the group whose body starts at `pos`."""
    depth = 1
    for i, ch in _outside_classes(pattern, pos):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def _re2_form(regex: re.Pattern[str]) -> tuple[str, bool] | None:
    """The RE2 pattern standing for `regex` on ASCII text and whether it is exact (else it
    matches wherever `regex` does, and more); None when there is none."""
    if regex.flags & ~(re.IGNORECASE | re.UNICODE):
        return None  # MULTILINE, DOTALL, VERBOSE, ASCII...: not worth translating
    prefix = "(?i)" if regex.flags & re.IGNORECASE else ""
    pattern = regex.pattern
    if "{," in pattern or "[:" in pattern:
        return None  # Python reads "x{,3}" as x{0,3} and "[[:digit:]]" as a plain class
    if exact(sre_parse.parse(pattern, regex.flags)):
        return prefix + pattern, True
    stripped = without_lookarounds(pattern)
    if stripped is None:
        return None
    try:
        if not exact(sre_parse.parse(stripped, regex.flags)):
            return None
    except re.error:
        return None
    return prefix + stripped, False


class RegexSet:
    """Python regexes answered by one RE2 set pass where RE2 reads them alike (module doc).

    `matching(text)` is the indices of the regexes that may match in `text` (every one that
    does); `exact[i]` says that regex `i` matches whenever its index is there. None when the
    text is not one RE2 reads alike (not ASCII, or holding a space only Python's \\s matches),
    or when the set's automaton outgrew its memory (the empty pattern, added last, is missing).
    """

    def __init__(self, regexes: Sequence[re.Pattern[str]]) -> None:
        options = re2.Options()
        options.max_mem = 64 << 20
        options.log_errors = False
        self._set = re2.Set.SearchSet(options)
        exacts: list[bool] = []
        self._ids: list[int] = []  # the set's index -> the regex's
        self._always: list[int] = []  # regexes with no RE2 form: Python always decides
        for i, regex in enumerate(regexes):
            form = _re2_form(regex)
            exacts.append(form is not None and form[1])
            if form is None or not _adds(self._set, form[0]):
                self._always.append(i)
                exacts[i] = False
            else:
                self._ids.append(i)
        self.exact = tuple(exacts)
        self._everything = len(self._ids)
        self._set.Add("")
        self._set.Compile()
        self._match = self._set._set.Match  # RE2's own, without the wrapper's checks

    def matching(self, text: str) -> frozenset[int] | None:
        """The indices of the regexes that may match in `text`; None when not known."""
        if not text.isascii() or _py_only_space(text):
            return None
        hits = self._match(text.encode("ascii"))
        if not hits or self._everything not in hits:
            return None
        ids = self._ids
        return frozenset([ids[h] for h in hits if h != self._everything] + self._always)


def _py_only_space(text: str) -> bool:
    """Whether `text` holds a space only Python's \\s matches (`_PY_ONLY_SPACES`)."""
    # spelled out: a generator over the five costs four times their scans on a description
    return "\x0b" in text or "\x1c" in text or "\x1d" in text or "\x1e" in text or "\x1f" in text


def _adds(regex_set: Any, pattern: str) -> bool:
    """Add `pattern` to the set; False when RE2 refuses it."""
    try:
        regex_set.Add(pattern)
    except re2.error:
        return False
    return True
