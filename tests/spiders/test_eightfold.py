"""The Eightfold spider against the recorded apply/v2 list and hand-made pages, without a network."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from scrapy.crawler import Crawler
from scrapy.http import Request
from scrapy.settings import Settings
from twisted.python.failure import Failure

from spiders.eightfold import EightfoldSpider, epoch_iso, standardized_parts
from spiders.items import JobItem
from spiders.sources import SourcesError, parse_sources
from tests.spiders.conftest import response_for

BASE = "http://127.0.0.1:8801"
LIST = "eightfold/careerkit_albemarle_apply_v2_jobs.json"
PAGE2 = "eightfold/handmade_albemarle_apply_v2_jobs_page2.json"
END = "eightfold/handmade_albemarle_apply_v2_jobs_end.json"
DETAIL = "eightfold/handmade_albemarle_apply_v2_job_detail.json"
PCSX1 = "eightfold/handmade_pcsx_search_page1.json"
PCSX2 = "eightfold/handmade_pcsx_search_page2.json"
PCSX_DETAIL = "eightfold/handmade_pcsx_position_details.json"
ALBEMARLE = {
    "kind": "eightfold",
    "url": "https://albemarle.eightfold.ai/careers",
    "domain": "albemarle.com",
    "company": "Albemarle",
}


def first_requests(spider: EightfoldSpider) -> list[Request]:
    async def collect() -> list[Any]:
        return [r async for r in spider.start()]

    return asyncio.run(collect())


def follow(
    request: Request, rel: str | None = None, **kw: Any
) -> tuple[list[JobItem], list[Request]]:
    result = request.callback(response_for(request, rel, **kw), **request.cb_kwargs)  # type: ignore[misc]  # the request has a callback
    results = [result] if isinstance(result, JobItem) else list(result or [])
    items = [r for r in results if isinstance(r, JobItem)]
    requests = [r for r in results if isinstance(r, Request)]
    assert len(items) + len(requests) == len(results)
    return items, requests


def query(request: Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}


# -- the sources entry ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "entry"),
    [
        (
            "https://albemarle.eightfold.ai/careers?domain=albemarle.com&query=supervisor&pid=1",
            {"url": "https://albemarle.eightfold.ai/careers", "domain": "albemarle.com"},
        ),
        (
            "https://albemarle.eightfold.ai/careers/job/1099555326551",
            {"url": "https://albemarle.eightfold.ai/careers", "domain": "albemarle.com"},
        ),
        (
            "https://careers.qualcomm.com/careers?domain=qualcomm.com&pid=44",
            {"url": "https://careers.qualcomm.com/careers", "domain": "qualcomm.com"},
        ),
        ("https://careers.qualcomm.com/careers/job/44", None),
        ("https://boards.greenhouse.io/acme", None),
        ("https://eightfold.ai/careers", None),
    ],
)
def test_entry_from_a_pasted_url(url, entry):
    assert EightfoldSpider.entry_from_url(url) == entry


def test_an_entry_without_domain_is_refused_with_one_line():
    entry = {"name": "ef", "kind": "eightfold", "url": "https://albemarle.eightfold.ai/careers"}
    with pytest.raises(SourcesError) as err:
        parse_sources({"sources": [entry]})
    message = str(err.value)
    assert "\n" not in message and "`domain`" in message and "albemarle.com" in message
    with pytest.raises(SourcesError, match="not an e-mail domain"):
        parse_sources({"sources": [{**entry, "domain": "https://albemarle.com"}]})


def test_domain_may_come_from_the_url_query(make_spider):
    spider = make_spider(
        kind="eightfold", url="https://albemarle.eightfold.ai/careers?domain=Albemarle.com"
    )
    assert spider.domain == "albemarle.com"


def test_politeness_is_20_requests_a_minute_and_an_explicit_override_wins():
    polite = Crawler(EightfoldSpider, Settings({"DOWNLOAD_DELAY": 0.5})).settings
    assert polite.getfloat("DOWNLOAD_DELAY") >= 3.0
    assert polite.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 1
    assert polite.getbool("RANDOMIZE_DOWNLOAD_DELAY") is False
    settings = Settings({"DOWNLOAD_DELAY": 0.5})
    settings.setdict({"DOWNLOAD_DELAY": 0}, priority="cmdline")  # as spiders.runner does
    assert Crawler(EightfoldSpider, settings).settings.getfloat("DOWNLOAD_DELAY") == 0


# -- apply/v2 ---------------------------------------------------------------------------------


def test_first_request_is_apply_v2_with_base_url_and_search(make_spider):
    spider = make_spider(**ALBEMARLE, base_url=BASE, search="production supervisor")
    [req] = first_requests(spider)
    assert req.url.startswith(f"{BASE}/api/apply/v2/jobs?")
    assert query(req) == {
        "domain": "albemarle.com",
        "start": "0",
        "num": "10",
        "sort_by": "new",
        "query": "production supervisor",
    }
    assert req.meta["public_url"].startswith("https://albemarle.eightfold.ai/api/apply/v2/jobs?")


def test_recorded_list_without_descriptions_asks_one_detail_each(make_spider):
    spider = make_spider(**ALBEMARLE)
    [first] = first_requests(spider)
    items, requests = follow(first, LIST)
    assert not items
    *details, nxt = requests
    assert [urlsplit(r.url).path for r in details] == [
        "/api/apply/v2/jobs/1099555326551",
        "/api/apply/v2/jobs/1099555208188",
    ]
    assert query(details[0]) == {"domain": "albemarle.com"}
    assert details[0].meta["andon_detail"] is True
    assert query(nxt)["start"] == "2"  # by the rows received; the recording has no `count`

    [item], _ = follow(details[0], DETAIL)
    assert item.external_id == "eightfold:albemarle.eightfold.ai:1099555326551"
    assert item.title == "Supply Planner, Bromine S&OP"
    assert item.company == "Albemarle"
    assert item.url == "https://albemarle.eightfold.ai/careers/job/1099555326551"
    assert item.posted == "2026-08-04T00:00:00+00:00"
    assert item.locations == [
        "Charlotte, North Carolina, United States of America",
        "Magnolia, Arkansas, United States of America",
    ]
    assert "S&amp;OP cycle" in item.description_html
    assert item.req_id == "R12345"
    assert item.workplace_hint == "onsite"
    assert item.extra["department"] == "Supply Chain"
    assert item.extra["updated"] == "2026-08-05T00:00:00+00:00"


def test_a_listed_description_needs_no_detail_and_an_empty_page_ends_the_pass(make_spider):
    spider = make_spider(**ALBEMARLE)
    [first] = first_requests(spider)
    _, requests = follow(first, LIST)
    items, requests = follow(requests[-1], PAGE2)
    [item] = items
    assert item.title == "Production Supervisor - Bromine Operations"
    assert item.posted == "2026-07-17T00:00:00+00:00"
    assert item.description_html.startswith("<p>Lead a shift")
    detail, nxt = requests
    assert urlsplit(detail.url).path == "/api/apply/v2/jobs/1099555172310"
    assert query(nxt)["start"] == "4"
    assert follow(nxt, END) == ([], [])
    assert spider.errors == []


def test_a_failed_detail_keeps_the_list_fields(make_spider):
    spider = make_spider(**ALBEMARLE)
    [first] = first_requests(spider)
    _, (detail, *_) = follow(first, LIST)
    [item], _ = follow(detail, body=b"<html><title>502</title></html>", status=502)
    assert item.title == "Supply Planner, Bromine S&OP"
    assert item.posted == "2026-08-04T00:00:00+00:00"
    assert item.description_html is None
    failure = Failure(ConnectionRefusedError("refused"))
    failure.request = detail  # type: ignore[attr-defined]
    [again] = list(detail.errback(failure))  # type: ignore[misc]  # the request has a callback
    assert again.external_id == item.external_id
    assert spider.errors == []  # one job's detail does not fail the board


def test_company_defaults_to_the_domain_name(make_spider):
    entry = {k: v for k, v in ALBEMARLE.items() if k != "company"}
    spider = make_spider(**entry)
    [first] = first_requests(spider)
    _, requests = follow(first, LIST)
    items, _ = follow(requests[-1], PAGE2)
    assert items[0].company == "Albemarle"


def test_probe_reads_the_first_page_only(make_spider):
    spider = make_spider(**ALBEMARLE)
    spider.probe = True
    [first] = first_requests(spider)
    items, requests = follow(first, LIST)
    assert requests == []
    assert [i.title for i in items] == [
        "Supply Planner, Bromine S&OP",
        "Director, Media Relations and U.S. Public Affairs",
    ]
    assert spider.probe_total == 2


# -- 403 → PCSX ------------------------------------------------------------------------------


def test_403_switches_to_pcsx_which_pages_by_rows_received(make_spider):
    spider = make_spider(
        kind="eightfold", url="https://careers.packco.example/careers", domain="packco.com"
    )
    [first] = first_requests(spider)
    _, [pcsx] = follow(first, body=b"<html><title>403 Forbidden</title></html>", status=403)
    assert urlsplit(pcsx.url).path == "/api/pcsx/search"
    assert query(pcsx)["domain"] == "packco.com" and query(pcsx)["start"] == "0"
    items, requests = follow(pcsx, PCSX1)
    assert not items
    *details, nxt = requests
    assert [query(d)["position_id"] for d in details] == ["563602813000101", "563602813000102"]
    assert urlsplit(details[0].url).path == "/api/pcsx/position_details"
    assert query(nxt)["start"] == "2"  # two rows came back although 10 may be asked for
    _, last = follow(nxt, PCSX2)
    assert len(last) == 1  # one detail, and no further page: 3 of 3 received

    [item], _ = follow(details[0], PCSX_DETAIL)
    assert item.external_id == "eightfold:careers.packco.example:563602813000101"
    assert item.title == "Production Manager - Packaging"
    assert item.company == "Packco"
    assert item.url == "https://careers.packco.example/careers/job/563602813000101"
    assert item.posted == "2026-07-31T00:00:00+00:00"
    assert item.req_id == "JR-2210"
    assert item.location_parts == {"city": "Toledo", "region": "OH", "country": "US"}
    assert item.description_html.startswith("<p>Run the packaging lines")
    assert spider.errors == []


def test_404_from_both_apis_is_one_not_found_error(make_spider):
    spider = make_spider(**ALBEMARLE)
    [first] = first_requests(spider)
    _, [pcsx] = follow(first, body=b"<html><title>404</title></html>", status=404)
    assert urlsplit(pcsx.url).path == "/api/pcsx/search"
    assert follow(pcsx, body=b"<html><title>404</title></html>", status=404) == ([], [])
    [error] = spider.errors
    assert "not found (404) — check `url` and `domain`" in error


def test_403_from_both_apis_is_one_error(make_spider):
    spider = make_spider(
        kind="eightfold", url="https://careers.packco.example/careers", domain="packco.com"
    )
    [first] = first_requests(spider)
    _, [pcsx] = follow(first, body=b"Forbidden", status=403)
    assert follow(pcsx, body=b"Forbidden", status=403) == ([], [])
    [error] = spider.errors
    assert "HTTP 403" in error


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "needle"),
    [
        (401, b'{"message": "Unauthorized"}', "HTTP 401: access denied"),
        (200, b"<html><head><title>Just a moment...</title></head></html>", "got an HTML page"),
        (200, b'{"domain": "albemarle.com", "positions": [{"id": 1, "na', "truncated JSON"),
        (200, b'{"domain": "albemarle.com", "jobs": []}', "no `positions` list"),
        (200, b'{"domain": "albemarle.com", "positions": []}', "returned no jobs"),
    ],
)
def test_bad_answers_give_one_error_and_no_items(make_spider, status, body, needle):
    spider = make_spider(**ALBEMARLE)
    [first] = first_requests(spider)
    headers = {"Content-Type": "text/html"} if body.startswith(b"<") else None
    assert follow(first, body=body, status=status, headers=headers) == ([], [])
    [error] = spider.errors
    assert needle in error and "\n" not in error


def test_an_empty_page_before_count_is_an_incomplete_pass(make_spider):
    spider = make_spider(**ALBEMARLE)
    [first] = first_requests(spider)
    body = response_for(first, LIST).body.replace(b'"positions"', b'"count": 6, "positions"', 1)
    _, requests = follow(first, body=body)
    assert query(requests[-1])["start"] == "2"
    follow(requests[-1], END)
    [error] = spider.errors
    assert "pagination ended early" in error and "start=2 of 6" in error


# -- helpers ----------------------------------------------------------------------------------


def test_epoch_and_standardized_locations():
    assert epoch_iso(1785801600) == "2026-08-04T00:00:00+00:00"
    assert epoch_iso("1785801600") == "2026-08-04T00:00:00+00:00"
    assert epoch_iso(1785801600000) == "2026-08-04T00:00:00+00:00"
    assert epoch_iso(None) is None and epoch_iso(0) is None and epoch_iso("soon") is None
    assert standardized_parts("Querétaro, QRO, MX") == {
        "city": "Querétaro",
        "region": "QRO",
        "country": "MX",
    }
    assert standardized_parts("Bengaluru, IN") == {"city": "Bengaluru", "country": "IN"}
    assert standardized_parts("Remote") is None
    assert standardized_parts("Toledo, Ohio, United States") is None
