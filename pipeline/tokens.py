"""Text tokens shared by dedup keys, the SQL search and the matcher: case- and accent-folded words."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
# ASCII but letters and digits made spaces: on ASCII text, split() then gives _WORD_RE's words
_ASCII_NON_WORD = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum()})


def _words(folded: str) -> list[str]:
    """`_WORD_RE.findall(folded)`; ASCII text is translated and split in C (~2x faster)."""
    if folded.isascii():
        return folded.translate(_ASCII_NON_WORD).split()
    return _WORD_RE.findall(folded)


def tokenize(text: str | None) -> list[str]:
    """Split text into normalized tokens (lowercase, no accents, letters and digits only)."""
    if not text:
        return []
    return _words(fold(text))


def tokenize_text(text: str | None) -> list[str]:
    """`tokenize` for long texts (descriptions): folded without `fold`'s memory, which would
    keep thousands of descriptions that seldom come twice."""
    if not text:
        return []
    return _words(_fold(text))


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    return _fold(text)


def _fold(text: str) -> str:
    if text.isascii():  # most text: NFKD changes nothing and there is no combining mark
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    if decomposed.isascii():
        return decomposed
    return "".join(c for c in decomposed if not unicodedata.combining(c))
