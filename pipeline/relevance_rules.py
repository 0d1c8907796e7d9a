"""Role-profile patterns compiled for RE2: every rule runs in time linear in the text it reads.

Patterns are written as Python-style regexes in the TOML profile; they are matched with RE2
(google-re2), which has no backtracking, so no pattern and no text can make a rule quadratic.
A group of rules is also compiled into one RE2 set, which finds every rule that matches in one
pass over the text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import re2

# Text is folded before matching (lower case, no accents, and every character beyond ASCII that
# is not a letter or digit made a space), so a word is a run of ASCII letters, digits, "_" and
# non-ASCII characters. Plain ranges, not \pL: RE2 compiles Unicode classes fifty times slower.
WORD_CHAR = r"[0-9a-z_\x{80}-\x{10ffff}]"
LETTERS = r"[0-9a-z\x{80}-\x{10ffff}]*"
SEPARATORS = r"[^0-9a-z\x{80}-\x{10ffff}]*"
_EDGE_BEFORE = r"(?:^|[^0-9a-z_\x{80}-\x{10ffff}])"
_EDGE_AFTER = r"(?:[^0-9a-z_\x{80}-\x{10ffff}]|$)"
_PUNCTUATION = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u02bc": "'", "`": "'", "\u2013": "-", "\u2014": "-"}
)


def options() -> re2.Options:
    """RE2 options for profile patterns: room for big sets of rules over long descriptions."""
    opts = re2.Options()
    # When a set's automaton outgrows its memory RE2 reports "no match"; 64 MB keeps the sets of
    # the default profile far from that on a 30,000-character description.
    opts.max_mem = 64 << 20
    opts.log_errors = False
    return opts


_OPTIONS = options()
_UNANCHORED = re2._Anchor.UNANCHORED  # what google-re2's `search` passes to RE2 itself
_NO_SPAN = (-1, -1)


def unaccent(pattern: str) -> str:
    """Remove accents from a pattern like the text loses them: a profile may spell "producción"."""
    decomposed = unicodedata.normalize("NFKD", pattern.replace("ß", "ss"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_PUNCTUATION)


def lower(pattern: str) -> str:
    """Lower-case a pattern except its escapes (\\W is not \\w): the text is folded to lower case."""
    out: list[str] = []
    escaped = False
    for i, ch in enumerate(pattern):
        # \pL and \PN name a Unicode class by the letter after the p: that letter stays too
        in_class_name = i >= 2 and pattern[i - 2] == "\\" and pattern[i - 1] in "pP"
        out.append(ch if escaped or in_class_name else ch.lower())
        escaped = ch == "\\" and not escaped
    return "".join(out)


@dataclass(frozen=True)
class Rule:
    """One profile pattern as written in the TOML file, and compiled between word edges."""

    text: str
    pattern: str  # the RE2 pattern, edges included; group 1 is the rule's own match
    regex: re2._Regexp = field(repr=False, compare=False)
    # the one string group 1 can match when the rule is a plain word or phrase ("haccp")
    literal: str | None = field(default=None, repr=False, compare=False)

    def search(self, text: str, data: bytes | None = None) -> tuple[int, int] | None:
        """The span of the first match in `text` (whose UTF-8 bytes `data` may be), or None."""
        # ASCII text (most is, once folded): search its bytes, whose offsets are the text's.
        # The str path encodes the whole text again and maps the offsets back, on every call.
        if data is not None and len(data) == len(text):
            # RE2's own search, without the wrapper's generator and Match object per call
            spans = self.regex._regexp.Match(_UNANCHORED, data, 0, len(data))
            return None if spans[0] == _NO_SPAN else spans[1]
        found = self.regex.search(text)
        return (found.start(1), found.end(1)) if found else None


# RE2's metacharacters: a pattern without any matches exactly its own text
_SPECIAL = frozenset("\\.+*?()|[]{}^$")


def compile_rule(text: str, expanded: str, where: str) -> Rule:
    """Compile `expanded` (the pattern with its {macros} replaced) into a Rule named `text`."""
    bare = lower(unaccent(expanded))
    pattern = f"{_EDGE_BEFORE}({bare}){_EDGE_AFTER}"
    literal = bare if bare and _SPECIAL.isdisjoint(bare) else None
    try:
        return Rule(text, pattern, re2.compile(pattern, _OPTIONS), literal)
    except re2.error as exc:
        raise ValueError(f"{where}: bad pattern {text!r} (RE2 syntax): {exc}") from exc


class RuleSet:
    """An ordered group of rules, matched all at once with an RE2 set."""

    def __init__(self, rules: Sequence[Rule], where: str = "role profile") -> None:
        self.rules = tuple(rules)
        self._set: re2.Set | None = None
        if self.rules:
            self._set = re2.Set.SearchSet(_OPTIONS)
            for rule in self.rules:
                self._set.Add(rule.pattern)
            try:
                self._set.Compile()
            except re2.error as exc:
                raise ValueError(f"{where}: the patterns do not compile together: {exc}") from exc

    def __bool__(self) -> bool:
        return bool(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def indices(self, data: bytes) -> list[int]:
        """Indices of the rules that match UTF-8 `data`, in profile order."""
        if self._set is None:
            return []
        return sorted(self._set.Match(data) or ())

    def first(self, text: str, data: bytes | None = None) -> tuple[Rule, tuple[int, int]] | None:
        """The first rule (in profile order) that matches `text`, and the span it matched."""
        data = text.encode() if data is None else data
        for index in self.indices(data):
            span = self.rules[index].search(text, data)
            if span is not None:  # always, unless RE2 set and regex disagree; then try the next
                return self.rules[index], span
        return None

    def found(
        self, text: str, data: bytes | None = None, indices: list[int] | None = None
    ) -> list[str]:
        """The words of `text` that the rules match, one per matching rule, in profile order.

        `indices` are the rules' own `indices(data)` when a caller already has them (`Joined`).
        """
        words: list[str] = []
        data = text.encode() if data is None else data
        for index in self.indices(data) if indices is None else indices:
            rule = self.rules[index]
            if rule.literal is not None:  # what it matched is its own text: no search
                words.append(rule.literal)
                continue
            span = rule.search(text, data)
            if span is not None:
                words.append(text[span[0] : span[1]])
        return words


class Joined:
    """Several rule sets matched in one RE2 pass over a text, answering what each set would.

    Every set's patterns go into one automaton, so a text is read once, not once per set. RE2
    answers "no match" when an automaton outgrows its memory: the empty pattern, which matches
    every text, is added last, and a match without it is done again set by set.
    """

    def __init__(self, sets: Sequence[RuleSet]) -> None:
        self.sets = tuple(sets)
        self._owner: list[tuple[int, int]] = []  # joined index -> (set, rule index in that set)
        self._set = re2.Set.SearchSet(_OPTIONS)
        for number, rules in enumerate(self.sets):
            for index, rule in enumerate(rules.rules):
                self._set.Add(rule.pattern)
                self._owner.append((number, index))
        self._always = self._set.Add("")
        self._set.Compile()

    def indices(self, data: bytes) -> list[list[int]]:
        """For each set, `RuleSet.indices(data)`."""
        hits = self._set.Match(data)
        if not hits or self._always not in hits:
            return [rules.indices(data) for rules in self.sets]
        out: list[list[int]] = [[] for _ in self.sets]
        for hit in sorted(hits):
            if hit != self._always:
                number, index = self._owner[hit]
                out[number].append(index)
        return out


def expand(pattern: str, words: Mapping[str, str]) -> str:
    """Replace `{name}` with the regex of that name from [words], up to five levels deep."""
    expanded = pattern
    for _ in range(5):  # [words] may refer to each other; five levels is plenty and ends cycles
        if "{" not in expanded:
            break
        expanded = _replace_macros(expanded, words)
    return expanded


def _replace_macros(pattern: str, words: Mapping[str, str]) -> str:
    # A scan, not a regex: "{" followed by a word and "}" is a macro; anything else stays.
    out: list[str] = []
    i = 0
    while i < len(pattern):
        end = pattern.find("}", i + 1) if pattern[i] == "{" else -1
        name = pattern[i + 1 : end] if end > 0 else ""
        if name and (name.replace("_", "a").isalnum()) and name in words:
            out.append(words[name])
            i = end + 1
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out)
