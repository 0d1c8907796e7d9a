"""Normalized keys and text similarity for deduplicating postings across sources."""

from __future__ import annotations

import re
from functools import lru_cache

from w3lib.url import canonicalize_url, url_query_cleaner

from pipeline.tokens import tokenize, tokenize_text

# Tracking parameters that make one job look like many (utm_* is handled by prefix).
TRACKING_PARAMS = (
    "gh_src", "gh_jid_src", "lever-source", "lever-origin", "source", "src", "ref", "referrer",
    "trk", "trackingid", "refid", "ccuid", "mode", "iis", "iisn", "fbclid", "gclid", "msclkid",
    "mc_cid", "mc_eid", "_hsenc", "_hsmi", "jobpipeline", "codes",
)  # fmt: skip

_COMPANY_SUFFIXES = {
    "inc", "incorporated", "llc", "ltd", "limited", "corp", "corporation", "co", "company", "gmbh",
    "ag", "se", "sa", "sas", "srl", "spa", "bv", "nv", "plc", "kg", "kgaa", "oy", "ab", "as", "pty",
    "lp", "llp", "group", "holding", "holdings", "the",
}  # fmt: skip

# Gender markers and other noise that job titles carry in DACH/FR/ES postings and on job boards.
_TITLE_NOISE = re.compile(
    r"\((?:[mwfdhx]\s*/\s*)+[mwfdhx]\)|\b(?:[mwfdhx]\s*/\s*)+[mwfdhx]\b|\bh\s*/\s*f\b|\bf\s*/\s*h\b"
    r"|\(all genders?\)|\(gn\)|\*in\b",
    re.IGNORECASE,
)
_TITLE_SYNONYMS = {"sr": "senior", "snr": "senior", "mgr": "manager", "asst": "assistant",
                   "jr": "junior", "dir": "director", "vp": "vice president", "prod": "production",
                   "mfg": "manufacturing", "ops": "operations", "supv": "supervisor",
                   "1st": "first", "2nd": "second", "3rd": "third"}  # fmt: skip


# Keys are remembered by their text: a batch asks for each item's key three times, and a source
# repeats its company, titles and places across postings.
@lru_cache(maxsize=16384)
def company_key(company: str | None) -> str:
    """'Acme Foods, Inc.' and 'ACME Foods' → 'acme foods'."""
    words = [w for w in tokenize(company) if w not in _COMPANY_SUFFIXES]
    return " ".join(words)


@lru_cache(maxsize=16384)
def title_key(title: str | None) -> str:
    """'Sr. Production Mgr (m/w/d)' and 'Senior Production Manager' → the same key."""
    text = _TITLE_NOISE.sub(" ", title or "")
    words: list[str] = []
    for word in tokenize(text):
        words.extend(_TITLE_SYNONYMS.get(word, word).split())
    return " ".join(words)


@lru_cache(maxsize=16384)
def place_key(
    city: str | None, region: str | None, country: str | None, workplace: str | None,
    location_text: str | None,
) -> str:  # fmt: skip
    """Where the job is, coarse enough to match across sources and fine enough to split cities.

    A job placed only by its country is one key whether it says remote or not: an ATS lists it as
    "Remote - US" and a remote-jobs board as "United States" (migration 0005 rewrote older keys).
    """
    if city:
        return f"{' '.join(tokenize(city))}|{region or ''}|{country or ''}"
    if region:
        return f"|{region}|{country or ''}"
    if country or workplace == "remote":
        return f"country|{country or ''}"
    return "text|" + " ".join(tokenize(location_text))


def url_key(url: str | None) -> str | None:
    """A canonical form of a job URL (tracking parameters removed) used only for matching."""
    if not url or not url.startswith(("http://", "https://")):
        return None
    cleaned = url_query_cleaner(url, TRACKING_PARAMS, remove=True)
    cleaned = re.sub(r"([?&])utm_[^=&]*=[^&]*", r"\1", cleaned).replace("?&", "?").rstrip("?&")
    canonical = canonicalize_url(cleaned)
    return canonical.removeprefix("https://").removeprefix("http://").removeprefix("www.")


def shingles(text: str | None, size: int = 3) -> frozenset[int]:
    """Hashed word n-grams of a description; the basis of the near-duplicate check."""
    words = tokenize_text(text)
    if len(words) < size:
        return frozenset({hash(tuple(words))}) if words else frozenset()
    # zip of shifted lists (the shorter ones end it): the same n-gram tuples, built in C
    return frozenset(map(hash, zip(*(words[i:] for i in range(size)), strict=False)))


def similarity(a: frozenset[int], b: frozenset[int]) -> float:
    """Jaccard similarity of two shingle sets (1.0 when both are empty: nothing contradicts)."""
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)  # the union's size, without building it
