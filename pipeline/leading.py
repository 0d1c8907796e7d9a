"""Where a regex's matches can start: literals one of which begins every match.

A search for a rare word scans the text position by position up to its first match; a
substring search (`str.find`, in C) finds where the word first occurs far faster. When every
match starts with one of a few literals, no match starts before the first of them, and the
search can begin there (`search_from`): Python's `re` still reads what lies before its start
position for `\\b` and lookbehinds, so the match found is the one a search from 0 finds.
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


def aligned_fold(text: str) -> str | None:
    """The text case-folded (the dotless ı made i) when each character folds to one, so a
    literal found in it is at the same position in the text; None when one folds to more
    ("ß" to "ss"). What re.IGNORECASE matches to an ASCII letter folds to it (but "İ", whose
    fold is two characters)."""
    folded = text.lower() if text.isascii() else text.casefold().replace("ı", "i")
    return folded if len(folded) == len(text) else None


def start_at(folded: str | None, leading: frozenset[str] | None) -> int:
    """Where a search for a pattern whose matches start with one of `leading` may begin in
    a text folded by `aligned_fold`: the first of them, -1 when none occurs (no match), 0
    when that is not known."""
    if leading is None or folded is None:
        return 0
    start = -1
    for literal in leading:
        at = folded.find(literal)
        if at >= 0 and (start < 0 or at < start):
            start = at
    return start


def search_from(
    regex: re.Pattern[str], text: str, folded: str | None, leading: frozenset[str] | None
) -> re.Match[str] | None:
    """`regex.search(text)`, begun where `start_at` says (`leading` are the regex's)."""
    start = start_at(folded, leading)
    return regex.search(text, start) if start >= 0 else None
