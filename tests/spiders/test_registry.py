"""The registry: every kind of DESIGN.md has a spider, fixtures, and honours `base_url`."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest

from spiders.registry import SPIDERS, spider_for
from tests.spiders.mockserver import FIXTURES

DESIGN_KINDS = (
    "workday",
    "smartrecruiters",
    "greenhouse",
    "lever",
    "ashby",
    "himalayas",
    "jsonld",
    "rss",
)

# The minimal sources-file entry of each kind.
ENTRIES = {
    "workday": {"url": "https://hitachi.wd1.myworkdayjobs.com/hitachi"},
    "smartrecruiters": {"company": "BoschGroup"},
    "greenhouse": {"board": "amplitude"},
    "lever": {"site": "idealistconsulting", "company": "Idealist Consulting"},
    "ashby": {"board": "HighlightTA", "company": "HighlightTA"},
    "himalayas": {"search": "production manager"},
    "jsonld": {
        "start_urls": ["https://careers.acmefoods.example/careers"],
        "sitemap": "https://careers.acmefoods.example/sitemap.xml",
    },
    "rss": {"feed": "https://himalayas.app/jobs/rss"},
}
# Fixture folders each kind is tested with (recorded samples keep their source's folder name).
FIXTURE_DIRS = {
    "workday": ["workday"],
    "smartrecruiters": ["smartrecruiters"],
    "greenhouse": ["greenhouse"],
    "lever": ["lever"],
    "ashby": ["ashby"],
    "himalayas": ["himalayas"],
    "jsonld": ["jsonld"],
    "rss": ["rss", "himalayas", "weworkremotely"],
}


def test_every_design_kind_is_registered():
    assert set(DESIGN_KINDS) <= set(SPIDERS)
    for kind, cls in SPIDERS.items():
        assert cls.name == kind == cls.kind
        assert cls.__doc__
        assert cls.__module__ == f"spiders.{kind}"
    with pytest.raises(KeyError, match="known: ashby"):
        spider_for("indeed")


@pytest.mark.parametrize("kind", DESIGN_KINDS)
def test_kind_has_fixtures(kind):
    for folder in FIXTURE_DIRS[kind]:
        assert any((FIXTURES / folder).iterdir()), folder


@pytest.mark.parametrize("kind", DESIGN_KINDS)
def test_kind_honours_base_url(kind, make_spider):
    spider = make_spider(kind=kind, base_url="http://127.0.0.1:8801", **ENTRIES[kind])  # type: ignore[arg-type]  # the parametrized entries are dicts

    async def collect():
        return [r async for r in spider.start()]

    requests = asyncio.run(collect())
    assert requests
    for request in requests:
        parts = urlsplit(request.url)
        assert (parts.scheme, parts.netloc) == ("http", "127.0.0.1:8801")
        public = urlsplit(request.meta["public_url"])
        assert public.scheme == "https"
        assert public.netloc != "127.0.0.1:8801"
        assert (parts.path, parts.query) == (public.path, public.query)
        assert request.errback is not None
