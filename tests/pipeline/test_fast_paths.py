"""Fast paths return what the general code returns: checked on random strings of the characters
each one is about (spaces, line breaks, controls, surrogates, non-characters)."""

from __future__ import annotations

import random
import re

import pytest

from pipeline.sanitize import normalize_text
from pipeline.storable import _BIDI, _LINE_BREAKS, _UNSTORABLE, cut, one_line, storable_text

_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b\u202f\u2009]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")

POOL = (
    list("ab \n") * 8
    + [chr(i) for i in range(0x250)]
    + list("\u1680\u2000\u2009\u200b\u2028\u2029\u202e\u205f\u2066\u3000\ufeff")
    + ["\ud800", "\udfff", "\ufdd0", "\ufdef", "\ufffe", "\uffff"]
    + ["\U0001f600", "\U0001fffe", "\U0010ffff"]
)


def _strings(seed: int, count: int = 60_000) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(POOL) for _ in range(rng.randint(0, 10))) for _ in range(count)]


def _normalize_text(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


def _one_line(value: str, limit: int) -> str:
    text = _BIDI.sub("", _LINE_BREAKS.sub(" ", _UNSTORABLE.sub("", value)))
    return cut(" ".join(text.split()), limit)


@pytest.mark.parametrize("seed", [1, 2])
def test_normalize_text(seed: int) -> None:
    for text in _strings(seed):
        assert normalize_text(text) == _normalize_text(text), repr(text)
    assert normalize_text("a b\n\nc") == "a b\n\nc"  # normal already: the fast path
    assert normalize_text("a  b\n\n\n c ") == "a b\n\nc"


@pytest.mark.parametrize("seed", [3, 4])
def test_storable_text_and_one_line(seed: int) -> None:
    for text in _strings(seed):
        assert storable_text(text) == _UNSTORABLE.sub("", text), repr(text)
        for limit in (4, 64):
            assert one_line(text, limit) == _one_line(text, limit), (repr(text), limit)
    assert storable_text("plain\ntext") == "plain\ntext"
    assert storable_text("nul\x00 and \ud800") == "nul and "
