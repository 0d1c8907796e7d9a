"""Shortcuts of the normalize stage answer what their plain forms answer: URLs kept without
`urlsplit`, workplace phrases looked for after one RE2 pass, ASCII text normalized with its
space checks spelled out."""

from __future__ import annotations

import random
import re
from urllib.parse import urlsplit

import pytest

from pipeline import enrich
from pipeline.posting_text import http_url
from pipeline.sanitize import normalize_text


def _plain_http_url(value: str | None) -> str | None:
    if not value or not isinstance(value, str):
        return None
    url = value.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    return url


URL_PARTS = [
    "http", "https", "HTTP", "Https", "ftp", "javascript", ":", "//", "/", "?", "#", "[", "]",
    "::1", "a", "example.com", "é", "ｅ", "\t", "\n", "\r", " ", "\x00", "\x7f", "%", "@", ":80",
    "user:pw", "\u3000", "\ufeff", "\u2100", "-", ".",
]  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2])
def test_kept_urls_are_the_urls_urlsplit_keeps(seed: int) -> None:
    rng = random.Random(seed)
    values = [
        "https://boards.greenhouse.io/acme/jobs/1?gh_src=x",
        "http://a",
        "https://",
        "http:/a",
    ]
    for _ in range(40_000):
        values.append("".join(rng.choice(URL_PARTS) for _ in range(rng.randint(0, 9))))
        values.append(rng.choice(["http://", "https://"]) + values[-1])
    for value in values:
        assert http_url(value) == _plain_http_url(value), repr(value)


def _plain_workplace_phrases(head: str) -> str | None:
    found = [
        (m.start(), value) for value, p in enrich._DESC_PATTERNS if (m := p.regex.search(head))
    ]
    return min(found)[1] if found else None


@pytest.mark.parametrize("seed", [3, 4])
def test_workplace_phrases_read_as_every_phrase_searched(seed: int) -> None:
    rng = random.Random(seed)
    words = [
        "remote", "Remote: No", "remote : yes", "Hybrid: yes", "this is a hybrid role",
        "hybrid work model", "100% on-site", "fully onsite", "an on site position",
        "role is fully remote", "must be able to work on-site", "This is a fully remote job",
        "job is 100 % remote", "onsite", "the", ".", "\n", "\x0b", "\x1c", "é", "  ",
    ]  # fmt: skip
    for _ in range(5000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 10)))
        assert enrich.workplace(None, None, [], text) == _plain_workplace_phrases(text), text


_SQUEEZE = re.compile(r"[ \t\r\f\v\u00a0\u200b\u202f\u2009]+")


def _plain_normalize_text(text: str) -> str:
    lines = [_SQUEEZE.sub(" ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


@pytest.mark.parametrize("seed", [5, 6])
def test_ascii_text_is_normalized_as_the_regexes_normalize_it(seed: int) -> None:
    rng = random.Random(seed)
    pool = ["a", "b", " ", "  ", "\n", "\n\n\n", " \n", "\n ", "\t", "\x0b", "\x0c", "\r", "\x1c",
            "\x1f", "- ", "\u200b"]  # fmt: skip
    for _ in range(60_000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 12)))
        assert normalize_text(text) == _plain_normalize_text(text), repr(text)


def test_counts_reach_scrapy_stats_as_inc_value_puts_them() -> None:
    from scrapy.statscollectors import MemoryStatsCollector
    from scrapy.utils.test import get_crawler

    from pipeline.counting import incrementer

    direct, plain = MemoryStatsCollector(get_crawler()), MemoryStatsCollector(get_crawler())
    count = incrementer(direct)
    for key in ["a", "b", "a", "andon/x", "a"]:
        count(key)
        plain.inc_value(key)
    assert direct.get_stats() == plain.get_stats() == {"a": 3, "b": 1, "andon/x": 1}

    class Doubling(MemoryStatsCollector):
        def inc_value(
            self, key: str, count: int = 1, start: int = 0, spider: object = None
        ) -> None:
            super().inc_value(key, 2 * count, start)

    doubling = Doubling(get_crawler())
    incrementer(doubling)("a")  # an overriding collector's own method is called
    assert doubling.get_stats() == {"a": 2}
    incrementer(None)("a")  # no stats: nothing to count into


MARKUP = [
    "<p>", "</p>", "<ul>", "</ul>", "<li>", "</li>", "<br>", "<br/>", "<div>", "</div>", "-",
    "- ", " - ", "a", "b c", "  ", " ", "\n", "\n\n\n", "\t", "\u200b", "\u00a0", "\u3000",
    "\x1c", "&amp;", "&lt;p&gt;", "<b>", "</b>", "<script>x</script>", "é",
]  # fmt: skip


@pytest.mark.parametrize("seed", [7, 8])
def test_texts_said_normalized_are_left_as_they_are(seed: int) -> None:
    from pipeline.normalize import _skills_text
    from pipeline.posting_text import clean_line
    from pipeline.sanitize import html_text, html_to_text

    rng = random.Random(seed)
    said = 0
    for _ in range(30_000):
        markup = "".join(rng.choice(MARKUP) for _ in range(rng.randint(0, 14)))
        text, normalized = html_text(markup)
        assert text == html_to_text(markup)
        if normalized:
            said += 1
            assert normalize_text(text) == text, repr(markup)
        title = clean_line("".join(rng.choice(MARKUP) for _ in range(rng.randint(1, 5))))
        joined, plain = _skills_text(title, text, normalized)
        assert joined == f"{title}\n{text}"
        if plain:
            assert normalize_text(joined) == joined, (title, text)
    assert said > 10_000
