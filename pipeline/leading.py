"""Where a regex's matches can start: literals one of which begins every match.

A search for a rare word scans the text position by position up to its first match; a
substring search (`str.find`, in C) finds where the word first occurs far faster. When every
match starts with one of a few literals, no match starts anywhere but where one of them
occurs, and the search tries those places only (`search_from`): Python's `re` still reads what
lies before a position for `\\b` and lookbehinds, so the match found is the one a search from 0
finds.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

sre_parse: Any = importlib.import_module("re._parser")  # Python's own regex parser (no stubs)
sre: Any = importlib.import_module("re._constants")

_ZERO_WIDTH = (sre.AT, sre.ASSERT, sre.ASSERT_NOT)  # \b, ^, lookaheads and lookbehinds


def leading_literals(pattern: str, flags: int = 0) -> frozenset[str] | None:
    """Lower-case ASCII literals one of which every match of `pattern` starts with (on ASCII
    text, case aside), or None when the pattern's start is not that simple."""
    try:
        return _leading(sre_parse.parse(pattern, flags))
    except (re.error, OverflowError, RecursionError):
        return None


def _leading(items: Any) -> frozenset[str] | None:
    items = list(items)
    for at, (op, av) in enumerate(items):
        if op in _ZERO_WIDTH:
            continue  # matches nothing: the match starts with what follows
        if op is sre.LITERAL:
            run = []
            for op2, av2 in items[at:]:
                if op2 is not sre.LITERAL or av2 >= 128:
                    break
                run.append(chr(av2).lower())
            return frozenset({"".join(run)}) if run else None
        if op is sre.SUBPATTERN:
            return _leading(av[-1])  # a group matches its content once
        if op in _REPEATS:
            return _repeat_leading(av, items[at + 1 :])
        if op is sre.BRANCH:
            union: set[str] = set()
            for alternative in av[1]:
                found = _leading(alternative)
                if found is None:
                    return None
                union |= found
            return frozenset(union)
        if op is sre.IN and all(o is sre.LITERAL and a < 128 for o, a in av):
            return frozenset(chr(a).lower() for _o, a in av)
        return None  # a repeat, a wildcard, a class of ranges: anything may come first
    return None  # only zero-width items: the empty match starts anywhere


def _repeat_leading(repeat: Any, rest: list[Any]) -> frozenset[str] | None:
    """What a repeat followed by `rest` starts with: its body's literals, and when it may be
    skipped, `rest`'s (an optional literal run joins them: `c?gmp` starts with cgmp or gmp)."""
    low, high, body = repeat
    first = _leading(body)
    if first is None or high == 0:
        return None
    if low >= 1:
        return first
    after = _leading(rest)
    if after is None:
        return None
    whole = _whole(body)
    if high == 1 and whole is not None:
        return frozenset(head + literal for head in whole for literal in after) | after
    return first | after


def _whole(items: Any) -> frozenset[str] | None:
    """The few lower-case ASCII strings a sequence of literals and classes of literals
    matches in full (`[cC]`, `x`), else None."""
    strings = {""}
    for op, av in items:
        if op is sre.LITERAL and av < 128:
            chars = {chr(av).lower()}
        elif op is sre.IN and all(o is sre.LITERAL and a < 128 for o, a in av):
            chars = {chr(a).lower() for _o, a in av}
        else:
            return None
        strings = {head + char for head in strings for char in chars}
        if len(strings) > 8:
            return None
    return frozenset(strings) if "" not in strings else None


_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)


def aligned_fold(text: str) -> str | None:
    """The text case-folded (the dotless ı made i) when each character folds to one, so a
    literal found in it is at the same position in the text; None when one folds to more
    ("ß" to "ss"). What re.IGNORECASE matches to an ASCII letter folds to it (but "İ", whose
    fold is two characters)."""
    folded = text.lower() if text.isascii() else text.casefold().replace("ı", "i")
    return folded if len(folded) == len(text) else None


def search_from(
    regex: re.Pattern[str],
    text: str,
    folded: str | None,
    leading: frozenset[str] | None,
    pos: int = 0,
) -> re.Match[str] | None:
    """`regex.search(text, pos)`, tried only where one of its `leading` literals occurs in the
    text folded by `aligned_fold`: every match starts at one, so the first position where the
    regex matches (`match`, which reads before its position for `\\b` and lookbehinds as
    `search` does) is where `search` finds its match. Past a few misses the rest is one search.
    """
    if leading is None or folded is None:
        return regex.search(text, pos)
    if len(leading) == 1:  # most patterns: one word
        (literal,) = leading
        for _ in range(_TRIES):
            if (start := folded.find(literal, pos)) < 0:
                return None
            if (match := regex.match(text, start)) is not None:
                return match
            pos = start + 1
        return regex.search(text, pos)
    found = [at for literal in leading if (at := folded.find(literal, pos)) >= 0]
    if not found:
        return None
    start = min(found)
    for _ in range(_TRIES):
        if (match := regex.match(text, start)) is not None:
            return match
        found = [at for literal in leading if (at := folded.find(literal, start + 1)) >= 0]
        if not found:
            return None
        start = min(found)
    return regex.search(text, start)


# candidates tried one by one: a literal that occurs often and rarely starts a match (a digit,
# "lean" in "lean on") is left to the regex's own scan
_TRIES = 4
