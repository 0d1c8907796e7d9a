"""Derived posting fields: workplace, employment type, seniority, industries and skills.

Rules, decided here and relied on by saved-search filters:

- **workplace**: the source's own field first (hint, then its remote flag), then workplace
  words wrapped around a location ("Hybrid - London", "Remote - US"), then only explicit
  phrases in the first part of the description ("100% on-site", "this is a fully remote role",
  "Remote: No"). A passing "remote" deep in a description never makes a plant job remote.
  An explicit `remote=False` from the source with nothing else said means on-site.
- **seniority** follows DESIGN.md's career path, checked from the top down:
  `executive` (VP, vice president, head of, chief, C-level, managing director, president),
  `director`, `assistant` (assistant/associate/deputy + a manager-type word),
  `supervisor` for German compounds and shift managers (Schichtleiter, Teamleiter, shift
  manager), `senior` (senior/sr./principal + manager, and general manager: a GM runs a whole
  site above the plant manager but below a director), `manager` (manager, superintendent —
  who manages supervisors —, Produktionsleiter, Werkleiter, Leiter …), `supervisor`
  (supervisor, team/shift/line lead, foreman, Meister).
- **industries**: keywords in title, description and the source's own tags, plus a small
  table of well-known manufacturers. `manufacturing` is *not* given to every posting: only
  when the text says so (plant, factory, production line, Fertigung, …) or when a
  goods-producing sector was found (automotive, food_beverage, pharma, …, all of which are
  manufacturing). A "video production manager" at a media company gets no industry.
- **skills**: the vocabulary below, word-bounded; acronyms that are also words are matched
  case-sensitively (SAP, JIT, TPM, Oracle), and "lean" never matches "clean" or "lean on".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from itertools import islice
from typing import Any

from pipeline.leading import aligned_fold, leading_literals, search_from
from pipeline.prefilter import Gated, GatedAlternation, LiteralIndex, fold
from pipeline.re2_set import RegexSet
from pipeline.sanitize import normalize_text

IGNORE = re.IGNORECASE

# --- workplace --------------------------------------------------------------------------------

_HINT_REMOTE = re.compile(r"remote|telecommut|work from home|wfh|virtual|anywhere", IGNORE)
_HINT_HYBRID = re.compile(r"hybrid|flexible", IGNORE)
_HINT_ONSITE = re.compile(
    r"on[\s_-]?site|onsite|in[\s_-]?office|in[\s_-]?person|office|on[\s_-]?premise", IGNORE
)

_LOCATION_HYBRID = re.compile(r"\bhybrid\b", IGNORE)
_LOCATION_REMOTE = re.compile(
    r"\b(?:remote|anywhere|worldwide|work from home|telecommute)\b", IGNORE
)
_LOCATION_ONSITE = re.compile(r"\b(?:on[\s-]?site|in[\s-]office)\b", IGNORE)

# Only unambiguous statements, and only near the top of the description. Each pattern is
# searched only when the words it needs are there (`pipeline.prefilter`): most say none.
DESCRIPTION_WINDOW = 2000
_DESC_PATTERNS: list[tuple[str, Gated]] = [
    ("onsite", Gated(re.compile(r"\bremote\s*:\s*no\b", IGNORE))),
    ("remote", Gated(re.compile(r"\bremote\s*:\s*yes\b", IGNORE))),
    ("hybrid", Gated(re.compile(r"\bhybrid\s*:\s*yes\b", IGNORE))),
    (
        "hybrid",
        Gated(
            re.compile(
                r"\b(?:this\s+is\s+a\s+)?hybrid\s+(?:role|position|work(?:ing)?\s+(?:model|schedule|arrangement)|schedule|job)\b",
                IGNORE,
            )
        ),
    ),
    (
        "onsite",
        Gated(
            re.compile(
                r"\b100\s*%\s*on[\s-]?site\b|\bfully\s+on[\s-]?site\b|"
                r"\b(?:this\s+is\s+an?\s+|an?\s+)on[\s-]?site\s+(?:role|position|job)\b|"
                r"\b(?:role|position|job)\s+is\s+(?:fully\s+|100\s*%\s+)?on[\s-]?site\b|"
                r"\bmust\s+(?:be\s+able\s+to\s+)?work\s+on[\s-]?site\b",
                IGNORE,
            )
        ),
    ),
    (
        "remote",
        Gated(
            re.compile(
                r"\b100\s*%\s*remote\b|\bfully\s+remote\b|"
                r"\bthis\s+is\s+an?\s+(?:fully\s+)?remote\s+(?:role|position|job)\b|"
                r"\b(?:role|position|job)\s+is\s+(?:fully\s+|100\s*%\s+)?remote\b",
                IGNORE,
            )
        ),
    ),
]


# The phrases read alike by RE2 on ASCII text (`pipeline.re2_set`): most descriptions say none
_DESC_SET = RegexSet([gated.regex for _value, gated in _DESC_PATTERNS])


@lru_cache(maxsize=1024)  # remembered: a source sends a few hints
def _hint_workplace(hint: str | None) -> str | None:
    if not hint or not hint.strip():
        return None
    if _HINT_HYBRID.search(hint):
        return "hybrid"
    if _HINT_REMOTE.search(hint):
        return "remote"
    if _HINT_ONSITE.search(hint):
        return "onsite"
    return None  # "unspecified", "", ...


def workplace(
    hint: str | None,
    remote_flag: bool | None,
    location_texts: Iterable[str] | None,
    description_text: str | None,
) -> str | None:
    """onsite | hybrid | remote | None, from the source's fields first, then conservative text."""
    from_hint = _hint_workplace(hint)
    if from_hint:
        return from_hint
    if remote_flag is True:
        return "remote"
    texts = tuple(t for t in (location_texts or []) if isinstance(t, str))
    from_places = _places_workplace(texts) if sum(map(len, texts)) <= 600 else _read_places(texts)
    if from_places:
        return from_places
    if description_text:
        head = description_text[:DESCRIPTION_WINDOW]
        hits = _DESC_SET.matching(head)  # one RE2 pass: which phrases are there at all
        patterns = _DESC_PATTERNS if hits is None else [_DESC_PATTERNS[i] for i in sorted(hits)]
        found = [(m.start(), value) for value, p in patterns if (m := p.search(head))]
        if found:
            return min(found)[1]
    if remote_flag is False:
        return "onsite"
    return None


def _read_places(texts: tuple[str, ...]) -> str | None:
    """The workplace words wrapped around a location ("Hybrid - London", "Remote - US")."""
    for pattern, value in (
        (_LOCATION_HYBRID, "hybrid"),
        (_LOCATION_ONSITE, "onsite"),
        (_LOCATION_REMOTE, "remote"),
    ):
        if any(pattern.search(t) for t in texts):
            return value
    return None


_places_workplace = lru_cache(maxsize=4096)(_read_places)  # a source repeats its places


# --- employment type --------------------------------------------------------------------------

_EMPLOYMENT: list[tuple[str, re.Pattern[str]]] = [
    (
        "internship",
        re.compile(r"\bintern(?:ship)?s?\b|\bpraktikum\b|\bco[\s-]?op\b|\bstage\b", IGNORE),
    ),
    (
        "temporary",
        re.compile(
            r"\btemp(?:orary)?\b|\bseasonal\b|\bfixed[\s-]term\b|\bbefristet\b|\bcdd\b", IGNORE
        ),
    ),
    (
        "contract",
        re.compile(r"\bcontract(?:or|ing)?\b|\bfreelance\w*\b|\b1099\b|\bper[\s-]diem\b", IGNORE),
    ),
    ("part_time", re.compile(r"\bpart[\s_-]?time\b|\bteilzeit\b|\btemps\s+partiel\b", IGNORE)),
    (
        "full_time",
        re.compile(
            r"\bfull[\s_-]?time\b|\bpermanent\b|\bregular\b|\bvollzeit\b|\bunbefristet\b|"
            r"\btemps\s+plein\b|\bcdi\b|\bfull\b",
            IGNORE,
        ),
    ),
]
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def employment_type(raw: str | list[str] | None) -> str | None:
    """full_time | part_time | contract | temporary | internship | None; lists → first known."""
    if raw is None:
        return None
    values = raw if isinstance(raw, list | tuple) else [raw]
    for value in values:
        if not isinstance(value, str):
            continue
        kind = _employment_of(value) if len(value) <= 200 else _read_employment(value)
        if kind:
            return kind
    return None


def _read_employment(value: str) -> str | None:
    text = _CAMEL.sub(" ", value)  # Ashby "FullTime"
    for kind, pattern in _EMPLOYMENT:
        if pattern.search(text):
            return kind
    return None


_employment_of = lru_cache(maxsize=1024)(_read_employment)  # a source repeats its few values


# --- seniority --------------------------------------------------------------------------------

_MANAGERISH = r"(?:manager|mgr|superintendent|leiter\w*|leitung|head)"
_SENIORITY: list[tuple[str, re.Pattern[str]]] = [
    (
        "executive",
        re.compile(
            r"\b(?:s|e|a)?vp\b|\bvice[\s-]+president\b|\bhead\s+of\b|\bchief\b|"
            r"\bc(?:e|f|o|t|io)o\b|\bmanaging\s+director\b|\bpresident\b|\bgeschäftsführer\w*\b|"
            r"\bwerksdirektor\b",
            IGNORE,
        ),
    ),
    ("director", re.compile(r"\bdirect(?:or|eur|ora?)\b|\bdirektor\w*\b", IGNORE)),
    (
        "assistant",
        re.compile(
            rf"\b(?:assistant|associate|deputy|asst\.?|stellv\.?|stellvertretende?r?|"
            rf"adjoint|sub)\b.*{_MANAGERISH}",
            IGNORE,
        ),
    ),
    (
        "supervisor",
        re.compile(
            r"\bschichtleiter\w*|\bteamleiter\w*|\bgruppenleiter\w*|\bschichtführer\w*|"
            r"\bshift\s+manager\b",
            IGNORE,
        ),
    ),
    (
        "senior",
        re.compile(
            rf"\b(?:senior|sr\.?|principal)\b.*{_MANAGERISH}|\bgeneral\s+manager\b|\bgm\b", IGNORE
        ),
    ),
    (
        "manager",
        re.compile(
            r"\bmanager\b|\bmgr\b|\bsuperintendent\b|leiter(?:in)?\b|\bleitung\b|"
            r"\bresponsable\b|\bjefe\b|\bgerente\b",
            IGNORE,
        ),
    ),
    (
        "supervisor",
        re.compile(
            r"\bsupervis(?:or|ora|eur)\b|\b(?:team|shift|line|production|group|area)\s+lead(?:er)?\b|"
            r"\blead\b|\bforem[ae]n\b|\bforewoman\b|\bmeister\w*\b|\bvorarbeiter\w*\b|"
            r"\bchef\s+d['’]équipe\b",
            IGNORE,
        ),
    ),
]


@lru_cache(maxsize=4096)  # remembered: a source repeats its titles
def seniority(title: str | None) -> str | None:
    """The career-path level of a job title (see the module docstring); None when unclear."""
    if not title:
        return None
    for level, pattern in _SENIORITY:
        if pattern.search(title):
            return level
    return None


# --- industries -------------------------------------------------------------------------------

# Industry id → keywords (regex, case-insensitive) in title, description or source tags.
INDUSTRY_KEYWORDS: dict[str, list[str]] = {
    "manufacturing": [
        r"manufactur\w*", r"factory", r"factories", r"production\s+(?:line|floor|plant)",
        r"plant\s+(?:manager|floor|operations)", r"assembly\s+line", r"fabrication",
        r"fertigung\w*", r"produktion\w*", r"werk(?:s|leiter)\w*", r"industrial\s+engineering",
        r"mechanical\s+or\s+industrial\s+engineering", r"shop\s+floor",
        r"production\s*(?:&|and)\s*skilled\s+trades",
    ],
    "food_beverage": [
        r"food(?:s)?", r"beverages?", r"bakery", r"dairy", r"meat", r"poultry", r"brew(?:ery|ing)",
        r"snacks?", r"confectioner\w*", r"HACCP", r"SQF", r"BRCGS?", r"food\s+safety",
        r"lebensmittel\w*", r"getränke\w*",
    ],
    "automotive": [
        r"automotive", r"IATF\s?16949", r"automobil\w*", r"vehicle\s+(?:manufactur\w*|assembly)",
        r"car\s+manufactur\w*", r"tier[\s-]?1\s+(?:automotive\s+)?supplier", r"powertrain",
    ],
    "aerospace": [
        r"aerospace", r"aircraft", r"aviation", r"AS\s?9100\w?", r"defen[cs]e\s+(?:industry|contractor)",
        r"avionics", r"luft-?\s?und\s+raumfahrt",
    ],
    "pharma": [
        r"pharma\w*", r"biotech\w*", r"biopharma\w*", r"c?GMP", r"drug\s+(?:product|substance|manufactur\w*)",
        r"api\s+manufactur\w*", r"sterile\s+(?:manufactur\w*|fill\w*|injectables?|products?)",
        r"vaccines?", r"biologics?", r"monoclonal", r"antibod(?:y|ies)", r"(?:cell|gene)(?:\s+and\s+gene)?\s+therap(?:y|ies)",
        r"injectables?", r"aseptic", r"fill[\s/-]+finish", r"bio-?manufactur\w*", r"bioprocess\w*",
        r"biosimilars?", r"lyophili[sz]\w*", r"oral\s+solid\s+dose", r"Arzneimittel\w*",
    ],
    "medical_devices": [r"medical\s+devices?", r"medtech", r"ISO\s?13485"],
    "chemicals": [
        r"chemicals?", r"petrochemical\w*", r"specialty\s+chemicals?", r"coatings", r"chemie\w*",
    ],
    "electronics": [
        r"electronics?", r"semiconductors?", r"PCBA?", r"printed\s+circuit", r"SMT", r"elektronik(?:fertigung|industrie|hersteller)\w*",
    ],
    "energy": [
        r"energy", r"power\s+generation", r"oil\s+and\s+gas", r"renewables?", r"solar", r"wind\s+turbines?",
        r"transformers?", r"switchgear", r"energie\w*",
    ],
    "metals": [
        r"steel", r"alumin(?:i)?um", r"foundry", r"forging", r"die[\s-]casting", r"metal\s+(?:fabrication|casting|stamping)",
        r"stamping", r"machining", r"stahl\w*",
    ],
    "plastics": [
        r"plastics?", r"injection\s+mou?lding", r"extrusion", r"polymers?", r"thermoforming", r"kunststoff\w*",
    ],
    "packaging": [r"packaging", r"corrugated", r"verpackung\w*"],
    "machinery": [
        r"machinery", r"industrial\s+equipment", r"heavy\s+equipment", r"hydraulics?", r"maschinenbau",
        r"drive\s+and\s+control\s+technology",
    ],
}  # fmt: skip

# Well-known manufacturers (company-name regex) → industries.
COMPANY_INDUSTRIES: list[tuple[str, tuple[str, ...]]] = [
    (r"boeing|airbus|lockheed|northrop|raytheon|\brtx\b|spirit\s+aero|ge\s+aerospace|safran|"
     r"rolls[\s-]royce|embraer|bombardier|textron|pratt\s*&?\s*whitney|collins\s+aerospace|"
     r"spacex|blue\s+origin|anduril", ("aerospace",)),
    (r"tyson|conagra|smithfield|campbell|smucker|unilever|nestl[eé]|kraft|heinz|pepsico|"
     r"coca[\s-]cola|mondel[eē]z|general\s+mills|kellogg|kellanova|cargill|diageo|ab\s*inbev|"
     r"anheuser|hormel|mars\b|danone|hershey|jbs\b|pilgrim|perdue|impossible\s+foods",
     ("food_beverage",)),
    (r"pfizer|eli\s+lilly|\blilly\b|moderna|novartis|astrazeneca|\bgsk\b|glaxo|sanofi|merck|"
     r"abbvie|roche|novo\s+nordisk|takeda|teva|bristol[\s-]myers|amgen|regeneron|"
     r"boehringer|thermo\s*fisher|lonza|catalent", ("pharma",)),
    (r"medtronic|stryker|baxter|boston\s+scientific|\bgehc\b|ge\s+healthcare|becton|"
     r"zimmer|smith\s*&\s*nephew|philips", ("medical_devices",)),
    (r"\bgm\b|general\s+motors|\bford\b|toyota|honda|nissan|stellantis|tesla|volkswagen|\bbmw\b|"
     r"mercedes|daimler|hyundai|\bkia\b|rivian|magna|borgwarner|aptiv|continental\b|\bzf\b|"
     r"denso|\blear\b|faurecia|forvia|valeo|oshkosh|polaris|cummins|paccar|navistar",
     ("automotive",)),
    (r"\bbosch\b", ("automotive", "manufacturing")),
    (r"caterpillar|john\s+deere|\bdeere\b|\bcnh\b|komatsu|kubota|\bagco\b", ("machinery",)),
    (r"\bdow\b|\bbasf\b|\bppg\b|dupont|sherwin|eastman\s+chemical|lyondell|huntsman|"
     r"albemarle|evonik|covestro|\b3m\b", ("chemicals",)),
    (r"jabil|flex\s*ltd|foxconn|sanmina|celestica|texas\s+instruments|intel\b|micron|"
     r"rockwell\s+automation", ("electronics",)),
    # Makers of power equipment (transformers, switchgear, turbines), not utilities.
    (r"hitachi\s+energy|siemens\s+energy|\bge\s+vernova|schneider\s+electric|\babb\b|vestas",
     ("energy", "manufacturing")),
    (r"nucor|u\.?s\.?\s+steel|alcoa|arconic|thyssenkrupp|arcelormittal|novelis",
     ("metals",)),
    (r"berry\s+global|amcor|sealed\s+air|smurfit|westrock|international\s+paper|"
     r"packaging\s+corporation", ("packaging",)),
]  # fmt: skip

# Sectors that are themselves manufacturing: finding one implies `manufacturing`.
GOODS_PRODUCING = frozenset(INDUSTRY_KEYWORDS) - {"manufacturing", "energy"}

# Searched only in texts holding a word they need (`pipeline.prefilter`): a description
# names few of these sectors, and a substring test costs far less than a search.
_INDUSTRY_PATTERNS: dict[str, GatedAlternation] = {
    industry: GatedAlternation(words, r"\b(?:{})\b", IGNORE)
    for industry, words in INDUSTRY_KEYWORDS.items()
}
_COMPANY_PATTERNS = [(Gated(re.compile(p, IGNORE)), inds) for p, inds in COMPANY_INDUSTRIES]
# "food" alone is too common in benefits paragraphs ("free food"): description needs two hits.
_DESCRIPTION_MIN_HITS = 2


_INDUSTRY_LITERALS = LiteralIndex(
    literal for alternation in _INDUSTRY_PATTERNS.values() for literal in alternation.literals
)


@lru_cache(maxsize=4096)
def company_industries(company: str) -> frozenset[str]:
    """The industries of a well-known manufacturer's name (remembered: names repeat)."""
    found: set[str] = set()
    for gated, industries_of in _COMPANY_PATTERNS:
        if gated.search(company):
            found.update(industries_of)
    return frozenset(found)


def _flatten(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _flatten(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _flatten(v)


def industries(
    title: str | None,
    company: str | None,
    description: str | None,
    extra: dict[str, Any] | None = None,
) -> list[str]:
    """Industry ids, in vocabulary order (see the module docstring for the `manufacturing` rule)."""
    found: set[str] = set()
    if description:
        # the words each alternation may hold, from one pass over the text (`LiteralIndex`)
        folded = fold(description)
        aligned = folded if description.isascii() else aligned_fold(description)
        for industry, narrowed, leading in _narrowed(_INDUSTRY_LITERALS.present(folded)):
            if _hits(narrowed, description, aligned, leading) >= _DESCRIPTION_MIN_HITS:
                found.add(industry)
    strong = " \n ".join([title or "", *_flatten(extra or {})])
    found.update(
        _strong_industries(strong) if len(strong) <= _REMEMBER_STRONG else _in_strong(strong)
    )
    if company:
        found.update(company_industries(company))
    if found & GOODS_PRODUCING:
        found.add("manufacturing")
    return [industry for industry in INDUSTRY_KEYWORDS if industry in found]


def _hits(
    regex: re.Pattern[str], text: str, folded: str | None, leading: frozenset[str] | None
) -> int:
    """How many of `regex.finditer(text)`'s matches there are, up to _DESCRIPTION_MIN_HITS:
    each searched only where one of its words occurs (`pipeline.leading`)."""
    count = pos = 0
    while count < _DESCRIPTION_MIN_HITS:
        match = search_from(regex, text, folded, leading, pos)
        if match is None:
            break
        count += 1
        if match.end() == match.start():  # finditer steps past an empty match: count its way
            return len(list(islice(regex.finditer(text), _DESCRIPTION_MIN_HITS)))
        pos = match.end()
    return count


def _in_strong(strong: str) -> frozenset[str]:
    """The industries the title and the source's tags name (one hit is enough there)."""
    present = _INDUSTRY_LITERALS.present(fold(strong))
    return frozenset(industry for industry, rx, _lead in _narrowed(present) if rx.search(strong))


# a source repeats its titles and tags: their industries are remembered (short texts only)
_REMEMBER_STRONG = 1_000
_strong_industries = lru_cache(maxsize=4096)(_in_strong)


Narrowed = tuple[tuple[str, re.Pattern[str], frozenset[str] | None], ...]


def _narrowed(present: frozenset[str]) -> Narrowed:
    """Each industry's alternation narrowed to the words a text holding `present` may hold,
    and the literals its matches start with, for the industries that may match at all;
    remembered by `present` (texts share few)."""
    narrowed = _narrowed_by_literals.get(present)
    if narrowed is None:
        if len(_narrowed_by_literals) >= 4096:
            _narrowed_by_literals.clear()  # a bound, not an LRU
        narrowed = _narrowed_by_literals[present] = tuple(
            (industry, rx, leading_literals(rx.pattern, rx.flags))
            for industry, alternation in _INDUSTRY_PATTERNS.items()
            if (rx := alternation.for_present(present)) is not None
        )
    return narrowed


_narrowed_by_literals: dict[frozenset[str], Narrowed] = {}


# --- skills -----------------------------------------------------------------------------------

# Skill id → (regex, flags). Case-sensitive where the acronym is also an ordinary word.
SKILL_PATTERNS: dict[str, tuple[str, int]] = {
    "lean": (r"\blean\b(?!\s+(?:on|in|into|towards?|back|against)\b)", IGNORE),
    "six_sigma": (r"\bsix[\s-]?sigma\b|\b6[\s-]?sigma\b|\b6σ|\b(?:green|black)\s+belt\b", IGNORE),
    "kaizen": (r"\bkaizen\b", IGNORE),
    "5s": (r"(?<![\w.,$€£-])[56]S\b", 0),
    "value_stream_mapping": (r"\bvalue[\s-]stream[\s-]mapping\b|\bVSM\b", IGNORE),
    "erp": (r"\bERP\b", IGNORE),
    "sap": (r"\bSAP\b", 0),
    "oracle": (r"\bOracle\b|\bORACLE\b|\bJD\s?Edwards\b|\bJDE\b", 0),
    "dynamics": (r"\b(?:microsoft|ms)\s+dynamics\b|\bdynamics\s+(?:365|ax|nav|gp)\b|\bD365\b", IGNORE),
    "mrp": (r"\bMRP(?:\s?II)?\b|\bmaterials?\s+requirements?\s+planning\b", IGNORE),
    "iso_9001": (r"\bISO[\s-]?9001\b", IGNORE),
    "tqm": (r"\bTQM\b|\btotal\s+quality\s+management\b", IGNORE),
    "jit": (
        r"\bJIT\b|\b[Jj]ust-in-[Tt]ime\b|"
        r"(?i:\bjust\s+in\s+time\s+(?:manufacturing|production|inventory|delivery|principles))",
        0,
    ),
    "gmp": (r"\b[cC]?GMPs?\b|(?i:\bgood\s+manufacturing\s+practices?\b)", 0),
    "haccp": (r"\bHACCP\b", IGNORE),
    "iatf_16949": (r"\bIATF[\s-]?16949\b|\bTS[\s-]?16949\b", IGNORE),
    "as9100": (r"\bAS[\s-]?9100[A-D]?\b", IGNORE),
    "osha": (r"\bOSHA\b", IGNORE),
    "cmms": (r"\bCMMS\b", IGNORE),
    "oee": (r"\bOEE\b", IGNORE),
    "tpm": (r"\bTPM\b|\btotal\s+productive\s+maintenance\b", 0),
    "power_bi": (r"\bpower\s?bi\b", IGNORE),
    "tableau": (r"\btableau\b(?!\s+de\b)", IGNORE),
    "cpim": (r"\bCPIM\b", IGNORE),
    "cscp": (r"\bCSCP\b", IGNORE),
    "pmp": (r"\bPMP\b", 0),
}  # fmt: skip
_SKILLS = {skill: re.compile(pattern, flags) for skill, (pattern, flags) in SKILL_PATTERNS.items()}

# Literals one of which every match of the skill's pattern contains (case-folded): a skill none
# of whose literals is in the folded text cannot match, so its regex is not run. Most
# descriptions name a few skills; this skips most of the 26 searches.
_SKILL_LITERALS: dict[str, tuple[str, ...]] = {
    "lean": ("lean",), "six_sigma": ("sigma", "belt", "6σ"), "kaizen": ("kaizen",),
    "5s": ("5s", "6s"), "value_stream_mapping": ("stream", "vsm"), "erp": ("erp",),
    "sap": ("sap",), "oracle": ("oracle", "jd"), "dynamics": ("dynamics", "d365"),
    "mrp": ("mrp", "requirement"), "iso_9001": ("9001",), "tqm": ("tqm", "total"),
    "jit": ("jit", "just"), "gmp": ("gmp", "good"), "haccp": ("haccp",),
    "iatf_16949": ("16949",), "as9100": ("9100",), "osha": ("osha",), "cmms": ("cmms",),
    "oee": ("oee",), "tpm": ("tpm", "productive"), "power_bi": ("power",),
    "tableau": ("tableau",), "cpim": ("cpim",), "cscp": ("cscp",), "pmp": ("pmp",),
}  # fmt: skip


def skills(text: str | None, normalized: bool = False) -> list[str]:
    """Skill ids mentioned in the text, in vocabulary order; `normalized` says the text is as
    `normalize_text` leaves it (the caller knows: it is not normalized again)."""
    if not text:
        return []
    if not normalized:
        text = normalize_text(text)
    hits = _SKILL_SET.matching(text)
    if hits is not None:
        # one RE2 pass says which skills match; the three with a lookaround are searched
        # where it says they may (`pipeline.re2_set`)
        lowered = text.lower()  # ASCII (`matching` reads no other text): aligned
        return [
            skill
            for skill, pattern, starts in _skills_matching(hits)
            if starts is _EXACT or search_from(pattern, text, lowered, starts)
        ]
    # casefold, not lower: it folds what re.IGNORECASE also matches (ſ → s, K → k, and
    # re's dotless ı → i)
    folded = text.casefold().replace("ı", "i")
    aligned = folded if len(folded) == len(text) else None  # as `aligned_fold` folds
    return [
        skill
        for skill, pattern, starts in _skills_holding(_SKILL_INDEX.present(folded))
        # searched only where the skill's first words occur (`pipeline.leading`)
        if search_from(pattern, text, aligned, starts)
    ]


Candidates = tuple[tuple[str, re.Pattern[str], frozenset[str] | None], ...]


def _skills_holding(present: frozenset[str]) -> Candidates:
    """The skills (in vocabulary order, with their patterns and leading literals) one of whose
    literals is in `present`; remembered by `present` (texts share few)."""
    candidates = _candidates_by_literals.get(present)
    if candidates is None:
        if len(_candidates_by_literals) >= 4096:
            _candidates_by_literals.clear()  # a bound, not an LRU
        candidates = _candidates_by_literals[present] = tuple(
            (skill, pattern, _SKILL_STARTS[skill])
            for skill, pattern in _SKILLS.items()
            if not present.isdisjoint(_SKILL_LITERALS[skill])
        )
    return candidates


_candidates_by_literals: dict[frozenset[str], Candidates] = {}
_SKILL_STARTS = {skill: leading_literals(*both) for skill, both in SKILL_PATTERNS.items()}
_SKILL_INDEX = LiteralIndex(literal for both in _SKILL_LITERALS.values() for literal in both)


# Every skill pattern in one RE2 set: the exact ones (no lookaround) match where it says so
_SKILL_SET = RegexSet(list(_SKILLS.values()))
_EXACT: frozenset[str] = frozenset({"exact"})  # stands for the leading literals of an exact one


def _skills_matching(hits: frozenset[int]) -> Candidates:
    """The skills (in vocabulary order) at `hits` of `_SKILL_SET`, each with its pattern and
    leading literals, or `_EXACT` when the set's answer is final; remembered by `hits`."""
    candidates = _candidates_by_hits.get(hits)
    if candidates is None:
        if len(_candidates_by_hits) >= 4096:
            _candidates_by_hits.clear()  # a bound, not an LRU
        candidates = _candidates_by_hits[hits] = tuple(
            (skill, pattern, _EXACT if _SKILL_SET.exact[i] else _SKILL_STARTS[skill])
            for i, (skill, pattern) in enumerate(_SKILLS.items())
            if i in hits
        )
    return candidates


_candidates_by_hits: dict[frozenset[int], Candidates] = {}
