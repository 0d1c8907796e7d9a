"""Facts rules gated once on the whole text find what every rule on every sentence finds."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from pipeline import facts
from pipeline.relevance_text import html_to_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _all_rules(_text: str) -> facts.Rules:
    return (
        list(facts._SHIFT_RES.items()),
        list(facts._STANDARD_RES.items()),
        True,
        [(key, finder) for key, finder, _gates in facts._FINDERS],
        True,
        True,
    )


def _texts(seed: int) -> list[str]:
    pages = [
        html_to_text(p.read_text(errors="replace").replace("\\n", "\n"))
        for p in sorted((FIXTURES / "facts").rglob("*"))
        if p.is_file() and p.suffix in {".json", ".html", ".txt", ".md"}
    ]
    sentences = [s for t in pages for s in re.split(r"(?<=[.!?\n])", t) if s.strip()]
    rng = random.Random(seed)
    spaces = [" ", "  ", "\t", "\n", "\n\n", "\r\n", " \n "]
    mixed = []
    for _ in range(1500):
        parts = rng.sample(sentences, min(len(sentences), rng.randint(1, 10)))
        text = "".join(p + rng.choice(spaces) for p in parts)
        mixed.append(text.upper() if rng.random() < 0.2 else text)
    return pages + mixed


def test_gating_on_the_whole_text_changes_no_fact(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _texts(11)
    gated = [facts.extract_facts(t) for t in texts]
    monkeypatch.setattr(facts, "_rules_for", _all_rules)
    every = [facts.extract_facts(t) for t in texts]
    assert gated == every
    assert sum(bool(f) for f in every) > 100  # the texts do state facts
