"""Plant facts read from a description, each with the words that prove it.

What a production manager asks first, and where it was said:

- **shifts**: `1st` (first/day shift), `2nd` (second/swing/afternoon shift), `3rd`
  (third/night/overnight/graveyard shift), `rotating`, `12_hour`, `weekends`, `on_call`;
- **team_size**: the people the role leads, from a leading verb or a "team of" phrase up to a
  people noun ("lead 85 operators", "manage 240 people in four departments", "3 shift
  supervisors and 24 associates" → 27). A number with no such frame (a plant's headcount, a
  year, pay) is never a team size; a range counts as its top figure;
- **standards**: regulated standards and regimes (GMP/cGMP, FDA, AS9100, IATF 16949, ISO 13485,
  ISO 9001, ISO 14001, SQF, BRCGS, FSSC 22000, HACCP, OSHA PSM), `preferred` when named in a
  "preferred"/"nice to have"/"a plus" sentence or under such a heading;
- **union** (`union` or `non_union`), **relocation** (offered or not), **travel** (share of
  time in percent, the top of a range).

Each fact is `{"value": ..., "quote": "the phrase"}`. Every pattern is RE2 (linear time) and
the text is capped, so a hostile description costs at most a few milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import re2

from pipeline.facts_keys import shift_key as shift_key  # re-exported for searches
from pipeline.facts_keys import standard_key as standard_key
from pipeline.facts_labels import SHIFT_LABELS as SHIFT_LABELS  # re-exported: the vocabulary
from pipeline.facts_labels import SHIFTS, STANDARDS
from pipeline.facts_labels import STANDARD_LABELS as STANDARD_LABELS
from pipeline.facts_labels import fact_columns as fact_columns
from pipeline.facts_labels import fact_labels as fact_labels
from pipeline.prefilter import Gated, LiteralIndex, PatternIndex, fold
from pipeline.re2_bytes import AsciiRE2

MAX_CHARS = 40_000  # longer descriptions are boilerplate beyond this; the cap bounds the work
QUOTE_CHARS = 160


_I = "(?i)"
_SHIFT_NOUN = r"[\s-]+(?:shifts?|crews?)\b"
_SHIFT_RES = {
    "1st": re2.compile(_I + r"\b(?:1st|first|day)" + _SHIFT_NOUN),
    "2nd": re2.compile(_I + r"\b(?:2nd|second|swing|afternoon|evening)" + _SHIFT_NOUN),
    "3rd": re2.compile(
        _I
        + r"\b(?:3rd|third|night|overnight|graveyard|midnight)"
        + _SHIFT_NOUN
        + r"|\bnights?\s*(?:/|and|or)\s*weekends\b|\bdays\s*(?:/|and|or)\s*nights\b"
        + r"|\bnachtschicht\w*"
    ),
    "rotating": re2.compile(
        _I + r"\brotating\s+(?:shifts?|schedules?|days?\s*(?:/|and)\s*nights?)\b"
        r"|\bshift\s+rotations?\b|\brotat(?:e|es|ing)\s+(?:between|across|through)\s+"
        r"(?:all\s+)?(?:shifts|days\s+and\s+nights)\b|\b(?:dupont|panama|pitman)\s+"
        r"(?:shift|schedule|rotation)|\b(?:wechselschicht\w*|[23][\s-]?schicht\w*|"
        r"schichtdienst|schichtarbeit|schichtbetrieb|(?:2|3|iki|üç)\s+vardiyal\w*)"
    ),
    "12_hour": re2.compile(
        _I + r"\b12[\s-]*(?:hour|hr)s?\s+(?:shifts?|days?|nights?|schedules?|rotat)"
    ),
    "weekends": re2.compile(
        _I + r"\b(?:work(?:ing)?|including|available|availability|required|and|or|some|"
        r"occasional|rotating|every\s+other)\s+(?:on\s+)?(?:the\s+)?weekends?\b"
        r"|\bweekend\s+(?:shifts?|work|coverage|hours|rotation|days)\b|,\s*weekends\b"
        r"|\bnights?\s*(?:/|and|or)\s*weekends\b|\bon\s+(?:the\s+)?weekends?\b"
        r"|\b(?:wochenendarbeit|wochenenddienst)\b"
    ),
    # "support on call volume" is phone calls, not a duty: the noun after it tells them apart
    "on_call": re2.compile(
        _I + r"\bon[\s-]call\b(?P<calls>\s+(?:volumes?|centers?|centres?|queues?|handling|"
        r"metrics|stats|times?|lines?)\b)?|\brufbereitschaft\b"
    ),
}

# "hand over to third shift" names the next crew, not the role's own shift
_HANDOVER_RE = re2.compile(_I + r"\bhand(?:s|ing)?[\s-]?(?:over|off)\b|\bpass[\s-]?down\b")

_STANDARD_RES = {
    "gmp": re2.compile(r"\b[cC]?GMPs?\b|(?i:\bgood\s+manufacturing\s+practices?\b)"),
    "fda": re2.compile(r"\bFDA\b|(?i:\bfood\s+and\s+drug\s+administration\b)"),
    "as9100": re2.compile(_I + r"\bAS[\s-]?9100[A-D]?\b"),
    "iatf_16949": re2.compile(_I + r"\b(?:IATF|ISO/TS|TS)[\s-]?16949\b"),
    "iso_13485": re2.compile(_I + r"\bISO[\s-]?13485\b"),
    "iso_9001": re2.compile(_I + r"\bISO[\s-]?9001\b"),
    "iso_14001": re2.compile(_I + r"\bISO[\s-]?14001\b"),
    "sqf": re2.compile(r"\bSQF\b|(?i:\bsafe\s+quality\s+food\b)"),
    "brcgs": re2.compile(r"\bBRC(?:GS)?\b"),
    "fssc_22000": re2.compile(_I + r"\bFSSC[\s-]?22000\b"),
    "haccp": re2.compile(r"\bHACCP\b"),
    "osha_psm": re2.compile(r"\bOSHA\s+PSM\b|\bPSM\b|(?i:\bprocess\s+safety\s+management\b)"),
}
_PREFERRED_RE = re2.compile(
    _I + r"\bpreferred\b|\bnice[\s-]+to[\s-]+have\b|\ba\s+(?:[a-z]+\s+)?plus\b|"
    r"\bis\s+a\s+bonus\b|\bdesir(?:ed|able)\b|\bideally\b|\bbonus\s+points\b|\badvantageous\b|"
    r"\bpreferably\b"
)
# A short line that opens a list: "Preferred Qualifications:", "Requirements", "Nice to have".
_HEADING_RE = re2.compile(
    _I + r"^(?:[^.!?]{1,60}:|(?:[\w'’/&-]+\s+){0,4}(?:qualifications|requirements|"
    r"responsibilities|skills|experience|education|benefits|duties|nice[\s-]+to[\s-]+haves?|"
    r"preferred|bonus(?:\s+points)?|pluses|extras|who\s+you\s+are|you\s+have|overview|"
    r"summary|about\s+(?:you|us|the\s+\w+)|what\s+you(?:'ll|’ll|\s+will)?\s+\w+))$"
)

# Government postings state it as a status: "Bargaining Unit status: Non Bargaining Unit"
_UNION_NO = re2.compile(
    _I + r"\bnon[\s-]?union(?:ized)?\b|\bunion[\s-]free\b|\bnon[\s-]?bargaining[\s-]unit\b|"
    r"\bnot\s+(?:in\s+|part\s+of\s+|covered\s+by\s+)?(?:a|the|any)\s+(?:collective\s+)?bargaining\b|"
    r"\bbargaining[\s-]unit\s+(?:positions?|roles?|status)\s*:\s*no\b"
)
_UNION_YES = re2.compile(
    _I + r"\bunion(?:ized)?\s+(?:environment|facility|plant|workforce|setting|shop|"
    r"employees|represented|site|location|operation)s?\b|\bunionized\b|"
    r"\bcollective\s+bargaining\b|\b(?:represented|bargaining[\s-]unit)\s+(?:workforce|"
    r"employees|associates|environment)\b|\b(?:UAW|IBEW|USW|IAM|Teamsters)\b|\blabor\s+union\b|"
    r"\bbargaining[\s-]unit\s+(?:positions?|roles?|status)\s*:\s*(?:yes|bargaining)\b|"
    r"\b(?:a|is)\s+bargaining[\s-]unit\s+(?:positions?|roles?)\b"
)
_RELO_NO = re2.compile(
    _I + r"\b(?:no|not\s+offering|without)\s+(?:[a-z]+\s+){0,2}?(?:for\s+)?relocation\b|"
    r"\brelocation(?:-related)?\s+(?:[a-z]+\s+)?(?:is\s+|are\s+)?(?:not|unavailable)\b|"
    r"\bnot\s+eligible\s+for\s+relocation\b|\brelocation\s+will\s+not\b"
)
_RELO_YES = re2.compile(
    _I + r"\brelocation\s+(?:assistance|package|support|benefits?|reimbursement|bonus|"
    r"allowance|offered|available|provided|is\s+(?:offered|available|provided)|may\s+be)\b|"
    r"\b(?:offer|offers|offering|provide|provides|including)\s+relocation\b|"
    r"\brelo(?:cation)?\s+(?:assist|help)"
)
_TRAVEL_RE = re2.compile(
    _I + r"(?:\b(?:up\s+to|approximately|approx\.?|about|around|less\s+than|under|"
    r"minimum|max(?:imum)?)\s+)?(?P<lo>\d{1,3})(?:\s*%?\s*(?:-|–|to)\s*(?P<hi>\d{1,3}))?\s*"
    r"(?:%|percent)\s*(?:of\s+(?:the\s+)?time\s+)?(?:\w+\s+){0,2}?travel"
    r"|\btravel(?:ing)?\b[^.%\n]{0,40}?(?P<lo2>\d{1,3})(?:\s*%?\s*(?:-|–|to)\s*"
    r"(?P<hi2>\d{1,3}))?\s*(?:%|percent)"
)
_NO_TRAVEL_RE = re2.compile(_I + r"\b(?:no|zero)\s+travel\b|\btravel\s*:\s*(?:none|no)\b")

_NUM_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "hundred": 100,
}  # fmt: skip
_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d{1,5}|" + "|".join(_NUM_WORDS) + r")"
_COUNT = _NUM + r"(?:\s*(?:-|–|to)\s*" + _NUM + r")?\+?"
_PEOPLE = (
    r"(?:people|persons|employees|associates|operators|team\s+members|staff|workers|"
    r"direct\s+reports|indirect\s+reports|reports|technicians|supervisors|leads|leaders|"
    r"mechanics|managers|colleagues|crew\s+members|FTEs?|individuals|personnel|engineers|"
    r"assemblers|machinists|welders|bakers|packers|inspectors|planners|analysts|specialists|"
    r"coordinators|electricians|foremen|chemists|scientists|hourly\s+(?:employees|associates|"
    r"workers|staff)|union\s+employees)\b"
)
_ADJ = r"(?:[A-Za-z][\w'-]*\s+){0,3}?"
_GROUP = (
    r"(?P<n1>"
    + _COUNT
    + r")\s+"
    + _ADJ
    + _PEOPLE
    + (
        r"(?:\s*(?:,|and|&|plus)\s*(?:over\s+|about\s+|approximately\s+)?(?P<n2>"
        + _COUNT
        + r")\s+"
        + _ADJ
        + _PEOPLE
        + r")?"
    )
)
# A count is a team only inside a frame that says the role leads it: a leading verb earlier in
# the same sentence ("Lead our plant (..., 380 people)"), "team of N", "N direct reports".
_LEAD_VERB = (
    r"\b(?:lead|leads|leading|manage|manages|managing|supervise|supervises|supervising|"
    r"oversee|oversees|overseeing|direct|directs|directing|run|runs|running|own|owns|head|"
    r"heads|heading|responsible\s+for|accountable\s+for|leadership\s+of|management\s+of|"
    r"supervision\s+of)\b"
)
_TEAM_RE = re2.compile(
    _I
    + _LEAD_VERB
    + r"[^.!?\n]{0,120}?\b"
    + _GROUP
    + r"|\b(?P<n3>"
    + _COUNT
    + r")\s+(?:direct\s+)?reports\b"
    + r"|\b(?:team|staff|crew|workforce|shift|department|group)\s+of\s+(?:up\s+to\s+|about\s+|"
    r"approximately\s+|over\s+|more\s+than\s+)?(?P<n4>"
    + _COUNT
    + r")(?P<after>\s*[%$\w]+)?"
    + r"|\b(?P<n5>\d{1,4})[\s-]+(?:person|people|member|employee)\s+(?:team|crew|staff|"
    r"department|workforce)\b"
)
# "a team of 5 years" is no team: words that follow a count that counts something else
_NOT_PEOPLE_AFTER = {
    "%", "years", "year", "months", "hours", "days", "weeks", "lines", "plants", "sites",
    "shifts", "sq", "square", "million", "billion", "k", "tons", "products",
}  # fmt: skip
# Python's `re`, not RE2, for these two: re2's sub/split loop over matches in Python (a space is
# a match: ~30% of the whole pipeline's time). Single character classes cannot backtrack; the
# classes are RE2's `\s` spelled out, so the results are the same.
# "…in Houston.Lead production…": a page whose blocks were joined without a space
_SPLIT_RE = re.compile(r"[\n\r]+|(?:[.!?](?:[\t\n\f\r ]+|\Z))|(?<=[a-z])[.!?](?=[A-Z][a-z])")
_WS_RE = re.compile(r"[\t\n\f\r ]+")

# Each rule runs only on sentences that hold the literal words it needs (`pipeline.prefilter`):
# the same matches for a fraction of the searches, since most sentences state no fact.
_SHIFT_RES = {kind: Gated(rx) for kind, rx in _SHIFT_RES.items()}
_STANDARD_RES = {kind: Gated(rx) for kind, rx in _STANDARD_RES.items()}
_HANDOVER_RE, _PREFERRED_RE, _TEAM_RE = map(Gated, (_HANDOVER_RE, _PREFERRED_RE, _TEAM_RE))
_UNION_NO, _UNION_YES = Gated(_UNION_NO), Gated(_UNION_YES)
_RELO_NO, _RELO_YES = Gated(_RELO_NO), Gated(_RELO_YES)
_TRAVEL_RE, _NO_TRAVEL_RE = Gated(_TRAVEL_RE), Gated(_NO_TRAVEL_RE)
# every short line is tried: RE2 on an ASCII line's bytes, without the wrapper's work per call
_HEADING = AsciiRE2(_HEADING_RE)


def _number(text: str) -> int:
    """'1,200' → 1200; 'four' → 4; '15-20' → 20 (the top of a range); '85+' → 85."""
    parts = [p for p in re2.split(r"\s*(?:-|–|to)\s*", text.rstrip("+").strip()) if p]
    values = [
        _NUM_WORDS[p.lower()] if p.lower() in _NUM_WORDS else int(p.replace(",", "")) for p in parts
    ]
    return max(values)


def _segments(text: str) -> Iterator[tuple[str, bool]]:
    """Sentences (or list lines), each with whether it sits under a 'preferred' heading."""
    under_preferred = False
    for line in text.splitlines():
        stripped = line.strip(" \t-•*·")
        if not stripped:
            continue
        if len(stripped) <= 70 and _HEADING.search(stripped):
            under_preferred = bool(_PREFERRED_RE.search(stripped))
        # every split needs one of ".!?" (a line holds no line break): most list lines have none
        pieces = _SPLIT_RE.split(stripped) if _has_any(stripped, ".!?") else (stripped,)
        for sentence in pieces:
            if sentence.strip():
                yield sentence.strip(), under_preferred


def _has_any(text: str, chars: str) -> bool:  # a few C scans: cheaper than a regex pass
    return any(char in text for char in chars)


def _squeeze(sentence: str) -> str:
    """`_WS_RE.sub(" ", sentence)`, without the pass when it would change nothing."""
    if "  " in sentence or _has_any(sentence, "\t\n\f\r"):
        return _WS_RE.sub(" ", sentence)
    return sentence


def _quote(sentence: str, start: int, end: int) -> str:
    """The sentence around a match, cut to QUOTE_CHARS on word boundaries."""
    if len(sentence) <= QUOTE_CHARS:
        return sentence
    pad = max(0, (QUOTE_CHARS - (end - start)) // 2)
    lo, hi = max(0, start - pad), min(len(sentence), end + pad)
    lo = sentence.rfind(" ", 0, lo) + 1 if lo else 0
    hi_space = sentence.find(" ", hi)
    hi = len(sentence) if hi_space < 0 else hi_space
    return ("…" if lo else "") + sentence[lo:hi].strip() + ("…" if hi < len(sentence) else "")


def _team(sentence: str) -> tuple[int, int, int] | None:
    best: tuple[int, int, int] | None = None
    for m in _TEAM_RE.finditer(sentence):
        if m.group("n1"):
            size = _number(m.group("n1")) + (_number(m.group("n2")) if m.group("n2") else 0)
        elif m.group("n4") and (m.group("after") or "").strip().lower() in _NOT_PEOPLE_AFTER:
            continue
        else:
            size = _number(m.group("n3") or m.group("n4") or m.group("n5"))
        if 2 <= size <= 20_000 and (best is None or size > best[0]):
            best = (size, m.start(), m.end())
    return best


def _travel(sentence: str) -> tuple[int, int, int] | None:
    m = _TRAVEL_RE.search(sentence)
    if m:
        lo, hi = m.group("lo") or m.group("lo2"), m.group("hi") or m.group("hi2")
        share = int(hi or lo)
        if share <= 100:
            return share, m.start(), m.end()
    m = _NO_TRAVEL_RE.search(sentence)
    return (0, m.start(), m.end()) if m else None


def _duty_call(rx: Any, sentence: str) -> Any:
    """The first "on call" that is a duty, not a count of phone calls ("on call volume")."""
    return next((m for m in rx.finditer(sentence) if not m.group("calls")), None)


def _yes_no(sentence: str, no: Any, yes: Any) -> tuple[bool, int, int] | None:
    m = no.search(sentence)
    if m:
        return False, m.start(), m.end()
    m = yes.search(sentence)
    return (True, m.start(), m.end()) if m else None


_FINDERS: tuple[tuple[str, Any, tuple[Gated, ...]], ...] = (
    ("union", lambda s: _yes_no(s, _UNION_NO, _UNION_YES), (_UNION_NO, _UNION_YES)),
    ("relocation", lambda s: _yes_no(s, _RELO_NO, _RELO_YES), (_RELO_NO, _RELO_YES)),
    ("travel", _travel, (_TRAVEL_RE, _NO_TRAVEL_RE)),
)


# the shift and standard rules, whether the team rule, the finders, and whether "hand over"
# and the "preferred" words may match in some sentence of a text
Rules = tuple[list[tuple[str, Gated]], list[tuple[str, Gated]], bool, list[Any], bool, bool]


def _rules_for(text: str) -> Rules:
    """The rules that may match in some sentence of `text`, checked once on the whole text.

    A sentence, cleaned (`_squeeze`), is a piece of the text with its runs of spaces and tabs
    made one space (it holds no line break), and what lies around it in the text (a line break,
    a space, a bullet, a full stop) is no ASCII word character: a match of an RE2 rule in a
    sentence is a match in the text so squeezed (`_spaced`), with the same word boundaries. So
    a rule that matches nowhere in it (one RE2 pass for every rule, `_PATTERNS`) is not
    searched sentence by sentence. When RE2 cannot tell, the rules lacking a literal they need
    anywhere in the text are left out (their literals hold no whitespace).
    """
    found = _PATTERNS.matching(_spaced(text))
    if found is None:
        return _rules_for_literals(text)
    rules = _rules_by_patterns.get(found)
    if rules is None:
        if len(_rules_by_patterns) >= _REMEMBERED_RULES:
            _rules_by_patterns.clear()  # a bound, not an LRU: texts share few combinations
        rules = _rules_by_patterns[found] = _rules_of_patterns(found)
    return rules


def _spaced(text: str) -> str:
    """The text with tabs made spaces and runs of spaces made one (what `_squeeze` does to a
    sentence, which holds no other whitespace it squeezes: `splitlines` breaks at the rest)."""
    if "\t" in text:
        text = text.replace("\t", " ")
    while "  " in text:  # each pass halves every run of spaces
        text = text.replace("  ", " ")
    return text


def _rules_for_literals(text: str) -> Rules:
    """`_rules_for` by the literals alone: the rules none of whose literals `text` lacks."""
    present = _LITERALS.present(fold(text))  # one pass for every rule's literals
    rules = _rules_by_literals.get(present)
    if rules is None:
        if len(_rules_by_literals) >= _REMEMBERED_RULES:
            _rules_by_literals.clear()  # a bound, not an LRU: texts share few combinations
        rules = _rules_by_literals[present] = _rules_of(present)
    return rules


def _rules_of(present: frozenset[str]) -> Rules:
    """`_rules_for_literals` of a text holding these literals (of `_LITERALS`)."""
    shift_res = [(k, rx) for k, rx in _SHIFT_RES.items() if rx.admits_present(present)]
    standard_res = [(k, rx) for k, rx in _STANDARD_RES.items() if rx.admits_present(present)]
    finders = [
        (key, finder)
        for key, finder, gates in _FINDERS
        if any(gate.admits_present(present) for gate in gates)
    ]
    return shift_res, standard_res, _TEAM_RE.admits_present(present), finders, True, True


def _rules_of_patterns(found: frozenset[int]) -> Rules:
    """`_rules_for` of a text in which the patterns of `_PATTERN_GATES` at `found` may match."""
    possible = {id(gate) for i, gate in enumerate(_PATTERN_GATES) if i in found}
    shift_res = [(k, rx) for k, rx in _SHIFT_RES.items() if id(rx) in possible]
    standard_res = [(k, rx) for k, rx in _STANDARD_RES.items() if id(rx) in possible]
    finders = [
        (key, finder)
        for key, finder, gates in _FINDERS
        if any(id(gate) in possible for gate in gates)
    ]
    return (
        shift_res,
        standard_res,
        id(_TEAM_RE) in possible,
        finders,
        id(_HANDOVER_RE) in possible,
        id(_PREFERRED_RE) in possible,
    )


# The rules depend only on which literals (or patterns) a text holds, and texts hold few
# combinations of them: each combination's rules are worked out once (~15 us a text otherwise).
_REMEMBERED_RULES = 4096
_rules_by_literals: dict[frozenset[str], Rules] = {}
_rules_by_patterns: dict[frozenset[int], Rules] = {}


_GATES = (
    *_SHIFT_RES.values(),
    *_STANDARD_RES.values(),
    _TEAM_RE,
    *(gate for _key, _finder, gates in _FINDERS for gate in gates),
)
_LITERALS = LiteralIndex(literal for gate in _GATES for literal in gate.literals)
_PATTERN_GATES = (*_GATES, _HANDOVER_RE, _PREFERRED_RE)
_PATTERNS = PatternIndex(_PATTERN_GATES)


def extract_facts(text: str | None) -> dict[str, Any]:
    """The facts a plain-text description states; {} when it states none (see module doc)."""
    if not text:
        return {}
    text = text[:MAX_CHARS]
    shifts: dict[str, str] = {}
    standards: dict[str, dict[str, Any]] = {}
    out: dict[str, Any] = {}
    team: tuple[int, str] | None = None
    shift_res, standard_res, team_re, finders, handover, preferring = _rules_for(text)
    for sentence, under_preferred in _segments(text):
        clean = _squeeze(sentence)
        for kind, rx in shift_res:
            m = _duty_call(rx, clean) if kind == "on_call" else rx.search(clean)
            if (
                m
                and kind not in shifts
                and not (handover and _HANDOVER_RE.search(clean, 0, m.start()))
            ):
                shifts[kind] = _quote(clean, m.start(), m.end())
        preferred: bool | None = None  # looked for once a standard matches
        for kind, rx in standard_res:
            m = rx.search(clean)
            if m is None:
                continue
            if preferred is None:
                preferred = under_preferred or (
                    preferring and _PREFERRED_RE.search(clean) is not None
                )
            seen = standards.get(kind)
            if seen is None or (seen["preferred"] and not preferred):
                quote = _quote(clean, m.start(), m.end())
                standards[kind] = {"value": kind, "quote": quote, "preferred": preferred}
        found = _team(clean) if team_re else None
        if found and (team is None or found[0] > team[0]):
            team = (found[0], _quote(clean, found[1], found[2]))
        for key, finder in finders:
            hit = finder(clean)
            if hit and key not in out:
                value: Any = hit[0]
                if key == "union":
                    value = "union" if hit[0] else "non_union"
                out[key] = {"value": value, "quote": _quote(clean, hit[1], hit[2])}
    if shifts:
        out["shifts"] = [{"value": k, "quote": shifts[k]} for k in SHIFTS if k in shifts]
    if team:
        out["team_size"] = {"value": team[0], "quote": team[1]}
    if standards:
        out["standards"] = [standards[k] for k in STANDARDS if k in standards]
    return {k: out[k] for k in sorted(out)}
