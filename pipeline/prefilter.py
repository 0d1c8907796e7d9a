"""Cheap checks before regex searches: the literal words a pattern cannot match without.

Most descriptions mention few of the hundreds of terms the enrichment and facts rules look for,
and a substring test costs a fraction of a regex search. `literal_clauses` reads a pattern's
syntax tree (Python's own parser; RE2 patterns parse the same way) and returns what every match
must contain: clauses of literals, at least one literal of each clause. `Gated` wraps a compiled
pattern and runs it only on text that holds them; it answers exactly what the pattern answers.

The check is on folded text (`fold`): case-folded, so one test serves case-sensitive and
case-insensitive patterns alike, including what `re.IGNORECASE` and RE2's `(?i)` also match
(the Kelvin sign and the long s fold to k and s; the Turkish dotted and dotless i are made i).
Only ASCII literals are used (no other character has a case-insensitive twin that casefold
could map elsewhere), and no spaces: a literal holds as well in a text whose runs of spaces
were squeezed as in the original.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Iterator
from typing import Any

import re2

from pipeline.re2_bytes import AsciiRE2

# Python's own regex parser and its opcodes (private modules, stable since 3.11; no stubs)
sre_parse: Any = importlib.import_module("re._parser")
sre: Any = importlib.import_module("re._constants")

Clause = frozenset[str]  # every match contains at least one of these (folded) literals

_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
_DIGITS: Clause = frozenset("0123456789")
MAX_CLAUSES = 3  # the most selective ones; more would cost more than they save
MAX_LITERALS = 6  # in the clauses after the first


def fold(text: str) -> str:
    """The text as `Gated` checks it: case-folded, the Turkish i's made a plain i."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    return folded.replace("ı", "i").replace("i\u0307", "i")


def _literal_run(items: Any) -> str | None:
    """The ASCII string a sequence of plain literals spells, or None when it is anything else."""
    chars = []
    for op, av in items:
        if op is not sre.LITERAL or av >= 128 or chr(av).isspace():
            return None
        chars.append(chr(av).lower())
    return "".join(chars)


def _sequence(items: Any, ascii_digits: bool) -> list[Clause]:
    """The clauses every match of a sequence satisfies (consecutive literals make one string)."""
    clauses: list[Clause] = []
    run: list[str] = []

    def flush() -> None:
        if "".join(run):
            clauses.append(frozenset({"".join(run)}))
        run.clear()

    for op, av in items:
        if op is sre.LITERAL and av < 128 and not chr(av).isspace():
            run.append(chr(av).lower())
        elif op is sre.AT:
            continue  # zero-width (\b, ^, $): the literals around it stay contiguous
        elif op is sre.SUBPATTERN:
            inner = av[-1]
            literal = _literal_run(inner)
            if literal is not None:
                run.append(literal)
            else:
                flush()
                clauses.extend(_sequence(inner, ascii_digits))
        elif op in _REPEATS and av[0] >= 1:
            flush()
            clauses.extend(_sequence(av[2], ascii_digits))
        elif op is sre.BRANCH:
            flush()
            clauses.extend(_branch(av[1], ascii_digits))
        elif ascii_digits and op is sre.IN and list(av) == [(sre.CATEGORY, sre.CATEGORY_DIGIT)]:
            flush()  # RE2's \d is [0-9]; Python's also matches other scripts' digits
            clauses.append(_DIGITS)
        else:
            flush()  # a class, a wildcard, an optional part, a lookaround: nothing required
    flush()
    return clauses


def _branch(alternatives: Any, ascii_digits: bool) -> list[Clause]:
    """Clauses for alternatives: the k-th clause unites each alternative's k-th best clause
    (its last one when it has fewer), so every alternative's match satisfies it."""
    per = [_best(_sequence(alternative, ascii_digits)) for alternative in alternatives]
    if not all(per):
        return []  # an alternative that needs no literal: the branch needs none
    width = min(MAX_CLAUSES, max(len(clauses) for clauses in per))
    return [frozenset().union(*(c[min(k, len(c) - 1)] for c in per)) for k in range(width)]


def _best(clauses: list[Clause]) -> list[Clause]:
    # longer literals are rarer; fewer alternatives are cheaper to test
    return sorted(set(clauses), key=lambda c: (-min(map(len, c)), len(c), sorted(c)))


def literal_clauses(pattern: str, flags: int = 0, *, ascii_digits: bool = False) -> list[Clause]:
    """What every match of `pattern` contains, as clauses of folded literals ([] when unknown).

    `ascii_digits` says `\\d` means [0-9] (RE2), not every script's digits (Python's `re`).
    """
    if "[:" in pattern:
        return []  # an RE2 POSIX class ([[:digit:]]) reads as other characters to Python
    try:
        parsed = sre_parse.parse(pattern, flags)
    except (re.error, OverflowError, RecursionError):
        return []  # an RE2-only construct: no gate, the pattern runs on every text
    chosen: list[Clause] = []
    for clause in _best(_sequence(parsed, ascii_digits))[:MAX_CLAUSES]:
        # each literal is a scan of the text: past a few, the checks cost what a search does
        if not chosen or sum(map(len, chosen)) + len(clause) <= MAX_LITERALS:
            chosen.append(clause)
    return chosen


def admits(clauses: list[Clause], folded: str) -> bool:
    """True when folded text holds a literal of every clause (and so may match)."""
    for clause in clauses:  # loops, not all(any(...)): this runs for every sentence and rule
        for literal in clause:
            if literal in folded:
                break
        else:
            return False
    return True


class LiteralIndex:
    """Which of a fixed set of literals a text holds, found in one RE2 pass instead of a
    substring scan per literal (hundreds of scans of every description otherwise).

    `present(text)` is exactly `{lit for lit in literals if lit in text}`. RE2 answers "no
    match" when a set's automaton outgrows its memory: the empty pattern, which matches every
    text, is added last, and a match without it falls back to the scans.
    """

    def __init__(self, literals: Iterable[str]) -> None:
        self.literals = tuple(sorted(set(literals)))
        options = re2.Options()
        options.max_mem = 64 << 20
        options.log_errors = False
        self._set = re2.Set.SearchSet(options)
        for literal in self.literals:
            self._set.Add(re2.escape(literal))
        self._always = self._set.Add("")
        self._set.Compile()

    def present(self, text: str) -> frozenset[str]:
        """The literals that occur in `text`."""
        hits = self._set.Match(text.encode("utf-8", "surrogatepass"))
        if not hits or self._always not in hits:
            return frozenset(literal for literal in self.literals if literal in text)
        literals = self.literals
        return frozenset([literals[i] for i in hits if i != self._always])


def admits_present(clauses: list[Clause], present: frozenset[str]) -> bool:
    """`admits` for a folded text whose literals are `present` (`LiteralIndex.present`)."""
    return all(not present.isdisjoint(clause) for clause in clauses)


class _LastFold:
    """The fold of the last text asked about: gated patterns run one after another on a text."""

    def __init__(self) -> None:
        # one tuple, replaced whole: a thread never sees one text with another's fold
        self.last: tuple[str, str] = ("", "")

    def __call__(self, text: str) -> str:
        last = self.last
        if last[0] is not text:
            last = self.last = (text, fold(text))
        return last[1]


_last_fold = _LastFold()

# A gate naming more literals than this finds them with one RE2 pass over the text, shared by
# every such gate (`_ManyLiterals`), instead of a substring scan per literal: "lead 12 people"
# has ~40 leading verbs and people nouns, scanned on every sentence otherwise.
SCAN_LITERALS = 8


class _ManyLiterals:
    """Which literals of the gates with many of them the last text asked about holds."""

    def __init__(self) -> None:
        self.known: frozenset[str] = frozenset()
        self.index: LiteralIndex | None = None
        self.last: tuple[str, frozenset[str]] = ("", frozenset())

    def add(self, literals: frozenset[str]) -> None:
        """Know these literals too (a gate is made): the index is built anew when next asked."""
        if not literals <= self.known:
            self.known |= literals
            self.index = None
            self.last = ("", frozenset())

    def __call__(self, text: str) -> frozenset[str]:
        """The known literals that the fold of `text` holds (`LiteralIndex.present`)."""
        last = self.last
        if last[0] is not text:
            index = self.index
            if index is None:
                index = self.index = LiteralIndex(self.known)
            last = self.last = (text, index.present(_last_fold(text)))
        return last[1]


_many_literals = _ManyLiterals()


WIDE_REPEAT = 20  # a counted repeat up to this many is cheap for RE2's DFA; wider ones are not


def widened(pattern: str) -> str | None:
    """`pattern` with its wide counted repeats ({0,120}) made open ({0,}), or None if it has none.

    Every text the pattern matches, the widened one matches too, and RE2 runs it without the
    state blow-up of a long counted window: a cheap test that rules most texts out.
    """
    if "[:" in pattern:
        return None  # POSIX classes nest brackets; not worth scanning
    out: list[str] = []
    changed = in_class = False
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        step = 1
        if ch == "\\":
            step = 2
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            # a "]" right after "[" or "[^" is a literal, not the end of the class
            step += pattern.startswith("^", i + step)
            step += pattern.startswith("]", i + step)
        elif (m := _COUNT.match(pattern, i)) and int(m.group(2)) > WIDE_REPEAT:
            out.append("{" + m.group(1) + ",}")
            i, changed = m.end(), True
            continue
        out.append(pattern[i : i + step])
        i += step
    return "".join(out) if changed else None


_COUNT = re.compile(r"\{(\d+),(\d+)\}")


class Gated:
    """A compiled regex (re or re2) that is only run on text holding its required literals.

    An RE2 pattern reads ASCII text's bytes with RE2 itself (`AsciiRE2`): the same matches.
    """

    def __init__(self, regex: Any) -> None:
        self.regex = regex
        self.pattern: str = regex.pattern
        self.wide: Any = None  # RE2 only: the pattern with open repeats, tried first
        self.searcher: Any = regex  # what searches: the regex, or RE2 on ASCII bytes
        if isinstance(regex, re.Pattern):
            self.clauses = literal_clauses(regex.pattern, regex.flags)
        else:  # RE2: its flags are in the pattern, its \d is [0-9]
            self.clauses = literal_clauses(regex.pattern, ascii_digits=True)
            self.searcher = AsciiRE2(regex)
            wide = widened(regex.pattern)
            if wide is not None:
                self.wide = AsciiRE2(re2.compile(wide, regex.options))
        # many literals: looked up in the one pass of `_many_literals`; few: scanned for
        self._indexed = len(self.literals) > SCAN_LITERALS
        if self._indexed:
            _many_literals.add(self.literals)

    def _holds_literals(self, text: str) -> bool:
        """`admits(self.clauses, fold(text))`, by the cheaper of the two ways to know it."""
        if self._indexed:
            return admits_present(self.clauses, _many_literals(text))
        last = _last_fold.last
        folded = last[1] if last[0] is text else _last_fold(text)
        for clause in self.clauses:  # `admits`, inlined: this runs for every rule and sentence
            for literal in clause:
                if literal in folded:
                    break
            else:
                return False
        return True

    def admits(self, text: str) -> bool:
        """False only when the pattern cannot match `text` (it lacks a required literal)."""
        if not self._holds_literals(text):
            return False
        return self.wide is None or self.wide.search(text) is not None

    def admits_folded(self, folded: str) -> bool:
        """`admits` for a text already folded with `fold`."""
        return not self.clauses or admits(self.clauses, folded)

    def admits_present(self, present: frozenset[str]) -> bool:
        """`admits_folded` for a folded text whose literals (`self.literals`) are `present`."""
        return admits_present(self.clauses, present)

    @property
    def literals(self) -> frozenset[str]:
        """Every literal the clauses name: what a `LiteralIndex` must know for `admits_present`."""
        return frozenset().union(*self.clauses)

    def search(self, text: str, *args: Any) -> Any:
        return self.searcher.search(text, *args) if self.admits(text) else None

    def finditer(self, text: str, *args: Any) -> Iterator[Any]:
        return self.searcher.finditer(text, *args) if self.admits(text) else iter(())

    def findall(self, text: str, *args: Any) -> list[Any]:
        return self.regex.findall(text, *args) if self.admits(text) else []


class PatternIndex:
    """Which of a fixed list of gated RE2 patterns may match somewhere in a text, found in one
    RE2 pass (a set of the patterns, each widened where `widened` opens it) instead of a
    search per pattern.

    `matching(text)` holds the index of every pattern that matches in `text` (and may hold a
    widened one's that does not); None when RE2 cannot tell: text that is not valid UTF-8, or
    a set whose automaton outgrew its memory (the empty pattern, added last, is then missing).
    """

    def __init__(self, gates: Iterable[Gated]) -> None:
        options = re2.Options()
        options.max_mem = 64 << 20
        options.log_errors = False
        self._set = re2.Set.SearchSet(options)
        for gate in gates:
            if isinstance(gate.regex, re.Pattern):
                raise TypeError(f"not an RE2 pattern: {gate.pattern!r}")
            self._set.Add(gate.pattern if gate.wide is None else gate.wide.regex.pattern)
        self._always = self._set.Add("")
        self._set.Compile()

    def matching(self, text: str) -> frozenset[int] | None:
        """The indices of the patterns that may match in `text`; None when not known."""
        try:
            data = text.encode()
        except UnicodeEncodeError:  # a lone surrogate: what google-re2 itself refuses
            return None
        hits = self._set.Match(data)
        if not hits or self._always not in hits:
            return None
        return frozenset(hits).difference((self._always,))


class GatedAlternation:
    """`template` around an alternation of `words` ("\\b(?:{})\\b"), searched with only the
    words whose literals the text holds: a word that cannot match anywhere in a text changes
    no match there, and a short alternation scans much faster than a long one."""

    def __init__(self, words: list[str], template: str, flags: int = 0) -> None:
        self.words = tuple(words)
        self.template = template
        self.flags = flags
        self._narrowed: dict[tuple[int, ...], re.Pattern[str]] = {}
        self.regex = self._compile(tuple(range(len(words))))  # all the words
        # each word's most selective clause, flat: (literal, word) pairs, checked in one loop
        self._always: list[int] = []
        self._literals: list[tuple[str, int]] = []
        for i, word in enumerate(words):
            clauses = literal_clauses(word, flags)
            if clauses:
                self._literals.extend((literal, i) for literal in sorted(clauses[0]))
            else:
                self._always.append(i)
        self._words_of: dict[str, list[int]] = {}  # literal -> the words it admits
        for literal, i in self._literals:
            self._words_of.setdefault(literal, []).append(i)

    def for_text(self, folded: str) -> re.Pattern[str] | None:
        """The pattern narrowed to the words a text (folded with `fold`) may hold; None if none."""
        kept = set(self._always)
        for literal, i in self._literals:
            if i not in kept and literal in folded:
                kept.add(i)
        return self._compile(tuple(sorted(kept))) if kept else None

    def for_present(self, present: frozenset[str]) -> re.Pattern[str] | None:
        """`for_text` for a folded text whose literals (`self.literals`) are `present`."""
        kept = set(self._always)
        words = self._words_of
        for literal in present:  # a text holds few of the literals: walk those
            if (found := words.get(literal)) is not None:
                kept.update(found)
        return self._compile(tuple(sorted(kept))) if kept else None

    @property
    def literals(self) -> frozenset[str]:
        """Every literal `for_present` asks about."""
        return frozenset(self._words_of)

    def _compile(self, kept: tuple[int, ...]) -> re.Pattern[str]:
        pattern = self._narrowed.get(kept)
        if pattern is None:
            if len(self._narrowed) >= 256:
                self._narrowed.clear()  # a bound, not an LRU: most texts need a few words
            # the words keep their order: at a position the first that matches still wins
            joined = "|".join(self.words[i] for i in kept)
            pattern = self._narrowed[kept] = re.compile(self.template.format(joined), self.flags)
        return pattern
