"""Spider test fixtures: one loopback mock server per session, and spiders built on a test crawler."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

from spiders.base import JobSpider
from spiders.registry import spider_for
from spiders.sources import parse_sources
from tests.spiders.mockserver import FIXTURES, MockServer


@pytest.fixture(scope="session")
def mockserver() -> Iterator[MockServer]:
    with MockServer() as server:
        yield server


@pytest.fixture
def make_spider() -> Callable[..., JobSpider]:
    """A spider of the entry's kind on a test crawler (stats work), from sources-file keys."""

    def make(**entry: Any) -> JobSpider:
        entry.setdefault("name", f"test-{entry['kind']}")
        entry.setdefault("allow_private", True)  # the tests' base_url is a loopback server
        source = parse_sources({"sources": [entry]})[0]
        cls = spider_for(source.kind)
        crawler = get_crawler(cls)
        return cls.from_crawler(crawler, source=source)

    return make


def response_for(
    request: Request | str,
    rel: str | None = None,
    *,
    status: int = 200,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> TextResponse:
    """A response to `request` with a fixture's bytes (type picked from the file extension)."""
    if isinstance(request, str):
        request = Request(request)
    data = body if body is not None else (FIXTURES / rel).read_bytes()
    cls: type[TextResponse] = TextResponse
    ctype = "application/json"
    if rel and rel.endswith(".html"):
        cls, ctype = HtmlResponse, "text/html; charset=utf-8"
    elif rel and rel.endswith(".xml"):
        cls, ctype = XmlResponse, "application/xml"
    return cls(
        url=request.url,
        status=status,
        body=data,
        encoding="utf-8",
        request=request,
        headers={"Content-Type": ctype, **(headers or {})},
    )


def fixture_path(rel: str) -> Path:
    return FIXTURES / rel
