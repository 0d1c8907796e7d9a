"""A posting's small text fields: one display line, an http(s) URL, plain text as HTML."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

_TAGS = re.compile(r"<[^>]+>")


def clean_line(value: str | None) -> str:
    """One line of display text: entities decoded, tags and extra whitespace removed."""
    if not value:
        return ""
    text = html.unescape(html.unescape(value)) if "&amp;" in value else html.unescape(value)
    return " ".join(_TAGS.sub(" ", text).split())


def http_url(value: str | None) -> str | None:
    """The URL when it is absolute http(s), else None (no javascript:, data:, relative...)."""
    if not value or not isinstance(value, str):
        return None
    url = value.strip()
    if _plain_http(url):
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    return url


def _plain_http(url: str) -> bool:
    """True for a URL `http_url` keeps as it is, told without `urlsplit` (~3 us a URL): printable
    ASCII (nothing urlsplit strips or refuses in a host), no brackets (an IPv6 host, which
    urlsplit checks), a lower-case http(s) scheme and a host: a character after the "//" that
    does not end it."""
    if url.startswith("https://"):
        host = 8
    elif url.startswith("http://"):
        host = 7
    else:
        return False
    return (
        len(url) > host
        and url[host] not in "/?#"
        and url.isascii()
        and url.isprintable()
        and "[" not in url
        and "]" not in url
    )


def text_to_html(text: str) -> str:
    """Plain text as safe HTML paragraphs, for sources that give no HTML."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in p.strip().split("\n")) + "</p>"
        for p in paragraphs
    )
