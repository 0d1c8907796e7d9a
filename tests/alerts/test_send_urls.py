"""`safe_url`'s fast path for plain http(s) URLs against urlsplit, the general path."""

from __future__ import annotations

import itertools
from urllib.parse import urlsplit

from alerts.formatting import safe_url

SCHEMES = ["https://", "http://", "HTTPS://", "Http://", "https:", "https:/", "ftp://", "//", ""]
HOSTS = ["jobs.example", "", "[::1]", "[::1", "::1]", "u:p@h.example:8080", "@", "xn--bcher-kva.example", "bücher.example", "h.example:notaport"]  # fmt: skip
TAILS = ["", "/", "/a/b?x=1&y=2#f", "?q", "#frag", "/a b", "/ä", "/%20", "\\evil", "/[x]"]


def _general(value: str | None) -> str:
    """safe_url as it was: urlsplit decides."""
    if not value or not isinstance(value, str):
        return "#"
    value = value.strip()
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in value):
        return "#"
    try:
        parts = urlsplit(value)
    except ValueError:
        return "#"
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return "#"
    return value


def test_safe_url_answers_as_urlsplit_does() -> None:
    cases = ["".join(p) for p in itertools.product(SCHEMES, HOSTS, TAILS)]
    cases += ["  https://jobs.example/1  ", "https://jobs.example/\t", "javascript:alert(1)", ""]
    fast = [safe_url(c) for c in cases]
    assert fast == [_general(c) for c in cases]
    assert fast.count("#") not in (0, len(cases))  # both answers occur
