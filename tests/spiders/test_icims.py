"""The iCIMS spider against recorded Jibe lists, the recorded classic search page and hand-made
pages, without a network."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from scrapy.http import Request
from twisted.python.failure import Failure

from spiders.icims import IcimsSpider, header_date, iso_time, jibe_locations
from spiders.items import JobItem
from tests.spiders.conftest import fixture_path, response_for

BASE = "http://127.0.0.1:8801"
GARMIN = "icims/vjd_garmin_jibe_api_jobs.json"
GARMIN2 = "icims/handmade_garmin_jibe_api_jobs_page2.json"
KEYSIGHT = "icims/jobpoller_keysight_jibe_api_jobs_trimmed.json"
WIPFLI = "icims/careerkit_wipfli_search.html"
WIPFLI2 = "icims/handmade_wipfli_search_page2.html"
WIPFLI_EMPTY = "icims/handmade_wipfli_search_empty.html"
JOB_JSONLD = "icims/handmade_wipfli_job_8214_jsonld.html"
JOB_PLAIN = "icims/handmade_wipfli_job_8212_no_jsonld.html"
JIBE = {"kind": "icims", "url": "https://careers.garmin.com", "company": "Garmin"}
CLASSIC = {"kind": "icims", "url": "https://careers-wipfli.icims.com/jobs/search"}


def first_requests(spider: IcimsSpider) -> list[Request]:
    async def collect() -> list[Any]:
        return [r async for r in spider.start()]

    return asyncio.run(collect())


def follow(
    request: Request, rel: str | None = None, **kw: Any
) -> tuple[list[JobItem], list[Request]]:
    results = list(request.callback(response_for(request, rel, **kw), **request.cb_kwargs) or [])  # type: ignore[misc]  # the request has a callback
    items = [r for r in results if isinstance(r, JobItem)]
    requests = [r for r in results if isinstance(r, Request)]
    assert len(items) + len(requests) == len(results)
    return items, requests


def query(request: Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}


def with_total(rel: str, total: int) -> bytes:
    doc = json.loads(fixture_path(rel).read_bytes())
    return json.dumps({**doc, "totalCount": total}).encode()


# -- the sources entry ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "entry"),
    [
        (
            "https://careers-wipfli.icims.com/jobs/8214/payroll-tax-specialist/job?mode=job&iis=x",
            {"url": "https://careers-wipfli.icims.com/jobs/search"},
        ),
        (
            "https://careers-wipfli.icims.com/jobs/search?ss=1&searchKeyword=tax",
            {"url": "https://careers-wipfli.icims.com/jobs/search"},
        ),
        ("https://careers.amd.com/careers-home/jobs?page=1", {"url": "https://careers.amd.com"}),
        ("https://careers.garmin.com/api/jobs?page=2", {"url": "https://careers.garmin.com"}),
        ("https://careers.garmin.com/jobs?page=1", None),  # any site could look like this
        ("https://www.icims.com/products/", None),
        ("https://jobs.lever.co/acme", None),
    ],
)
def test_entry_from_a_pasted_url(url, entry):
    assert IcimsSpider.entry_from_url(url) == entry


# -- Career Sites ("Jibe") --------------------------------------------------------------------


def test_jibe_first_request_with_base_url_and_search(make_spider):
    spider = make_spider(**JIBE, base_url=BASE, search="supervisor")
    [req] = first_requests(spider)
    assert req.url.startswith(f"{BASE}/api/jobs?")
    assert query(req) == {
        "page": "1",
        "limit": "100",
        "sortBy": "posted_date",
        "descending": "true",
        "internal": "false",
        "keywords": "supervisor",
    }
    assert req.meta["public_url"].startswith("https://careers.garmin.com/api/jobs?")


def test_jibe_recorded_page_gives_full_items_and_pages_to_total(make_spider):
    spider = make_spider(**JIBE)
    [first] = first_requests(spider)
    items, [nxt] = follow(first, body=with_total(GARMIN, 5))
    assert query(nxt)["page"] == "2" and nxt.meta["received"] == 3
    assert len(items) == 3
    item = items[0]
    assert item.external_id == "icims:careers.garmin.com:18921"
    assert item.title == "Aircraft Systems Engineer 2 (Project Lead)"
    assert item.company == "Garmin"
    assert item.url == "https://careers.garmin.com/jobs/18921?lang=en-us"
    assert item.apply_url == "https://careers-garmin.icims.com/jobs/18921/login"
    assert item.posted == "2026-06-24T15:02:00+00:00"
    assert item.req_id == "18921"
    assert item.employment_type == "FULL_TIME"
    assert item.workplace_hint == "On-site"
    assert item.locations == ["New Century, Kansas, United States"]
    assert item.location_parts == {
        "city": "New Century",
        "region": "Kansas",
        "country": "US",
        "postal_code": "66031",
        "latitude": 38.8421694,
        "longitude": -94.89469790000001,
    }
    # description, responsibilities and qualifications, all three
    assert "Overview We are seeking" in item.description_html
    assert "Essential Functions" in item.description_html
    assert "Basic Qualifications" in item.description_html
    assert item.extra["categories"] == ["Engineering"]
    assert item.extra["tags"]["tags2"] == ["Core Business Hours"]
    assert item.extra["updated"] == "2026-06-24T15:37:58+00:00"

    page2, more = follow(nxt, GARMIN2)
    assert more == []  # 5 of 5 received
    assert page2[0].locations == ["Olathe, Kansas, United States", "Salem, Oregon, United States"]
    assert spider.errors == []


def test_jibe_company_from_hiring_organization_without_entry_company(make_spider):
    spider = make_spider(kind="icims", url="https://careers.garmin.com")
    [first] = first_requests(spider)
    items, _ = follow(first, body=with_total(GARMIN, 3))
    assert {i.company for i in items} == {"Garmin International, Inc."}


def test_jibe_multi_site_job_keeps_every_place(make_spider):
    spider = make_spider(kind="icims", url="https://jobs.keysight.com", company="Keysight")
    [first] = first_requests(spider)
    items, requests = follow(first, KEYSIGHT)
    assert requests == []  # totalCount 2, two rows
    multi, single = items
    assert multi.locations == [
        "Santa Rosa, California, United States",
        "Loveland, Colorado, United States",
    ]
    # the primary names its country only; the additional place codes the same country
    assert multi.location_parts == {"city": "Santa Rosa", "region": "California", "country": "US"}
    assert single.locations == ["Atlanta, Georgia, United States"]
    assert single.posted == "2026-10-02T20:39:00+00:00"


def test_jibe_probe_reads_one_page(make_spider):
    spider = make_spider(kind="icims", url="https://careers.garmin.com")
    spider.probe = True
    [first] = first_requests(spider)
    items, requests = follow(first, GARMIN)
    assert requests == [] and len(items) == 3
    assert (spider.probe_total, spider.probe_company) == (303, "Garmin International, Inc.")


def test_jibe_page_cap_before_total_is_an_error(make_spider):
    spider = make_spider(**JIBE)
    [first] = first_requests(spider)
    _, [nxt] = follow(first, GARMIN)  # the recording announces 303
    assert follow(nxt, body=b'{"jobs": [], "totalCount": 303}') == ([], [])
    [error] = spider.errors
    assert "pagination ended early: page 2 is empty after 3 of 303" in error


def test_jibe_repeated_page_is_an_error_not_a_loop(make_spider):
    spider = make_spider(**JIBE)
    [first] = first_requests(spider)
    body = with_total(GARMIN, 9)
    _, [nxt] = follow(first, body=body)
    assert follow(nxt, body=body) == ([], [])
    assert "repeats jobs already read" in spider.errors[0]


@pytest.mark.parametrize(
    ("status", "body", "needle"),
    [
        (401, b'{"error": "unauthorized"}', "HTTP 401: access denied"),
        (404, b"<html><title>404</title></html>", "not found at 'careers.garmin.com' (404)"),
        (200, b"<html><head><title>Just a moment...</title></head></html>", "got an HTML page"),
        (200, b'{"jobs": [{"data": {"slug": "1", "tit', "truncated JSON"),
        (200, b'{"jobs": [], "totalCount": 0}', "returned no jobs"),
        (200, b'{"results": []}', "no `jobs` list"),
    ],
)
def test_jibe_bad_answers_give_one_error_and_no_items(make_spider, status, body, needle):
    spider = make_spider(**JIBE)
    [first] = first_requests(spider)
    headers = {"Content-Type": "text/html"} if body.startswith(b"<") else None
    assert follow(first, body=body, status=status, headers=headers) == ([], [])
    [error] = spider.errors
    assert needle in error and "\n" not in error


# -- classic portal ---------------------------------------------------------------------------


def test_classic_search_pages_then_job_pages(make_spider):
    spider = make_spider(**CLASSIC, company="Wipfli", base_url=BASE, search="payroll")
    [first] = first_requests(spider)
    assert first.url.startswith(f"{BASE}/jobs/search?")
    assert query(first) == {"ss": "1", "in_iframe": "1", "pr": "0", "searchKeyword": "payroll"}
    items, requests = follow(first, WIPFLI)
    assert not items
    *jobs, nxt = requests
    assert [j.url for j in jobs] == [
        f"{BASE}/jobs/8214/payroll-tax-specialist/job?in_iframe=1",
        f"{BASE}/jobs/8212/payroll-support-specialist/job?in_iframe=1",
    ]
    assert query(nxt)["pr"] == "1"

    [item], _ = follow(jobs[0], JOB_JSONLD)
    assert item.external_id == "icims:careers-wipfli.icims.com:8214"
    assert item.title == "Payroll Tax Specialist"
    assert item.company == "Wipfli"
    assert item.url == "https://careers-wipfli.icims.com/jobs/8214/payroll-tax-specialist/job"
    assert item.posted == "2026-10-14T05:00:00.000Z"
    assert item.valid_through == "2026-12-31T05:00:00.000Z"
    assert item.locations == ["Milwaukee, WI, US"]
    assert item.location_parts == {
        "city": "Milwaukee",
        "region": "WI",
        "country": "US",
        "postal_code": "53202",
    }
    assert item.description_html.startswith("<p>Prepare payroll tax filings")
    assert item.req_id == "2026-8214"

    # a job page without JSON-LD: the outer page is tried, then its header fields and text,
    # the card's title and place
    _, [outer] = follow(jobs[1], JOB_PLAIN)
    assert outer.url == f"{BASE}/jobs/8212/payroll-support-specialist/job"
    [plain], _ = follow(outer, JOB_PLAIN)
    assert plain.title == "Payroll Support Specialist"
    assert plain.locations == ["US"]
    assert plain.posted == "2026-10-12"
    assert plain.req_id == "2026-8212"
    assert "data entry" in plain.description_html

    page2, [job3, nxt2] = follow(nxt, WIPFLI2)
    assert not page2 and "/jobs/8199/" in job3.url and query(nxt2)["pr"] == "2"
    assert follow(nxt2, WIPFLI_EMPTY) == ([], [])
    assert spider.errors == []


def test_classic_json_ld_on_the_outer_page_only(make_spider):
    spider = make_spider(**CLASSIC, company="Wipfli")
    [first] = first_requests(spider)
    _, (job, *_) = follow(first, WIPFLI)
    _, [outer] = follow(job, JOB_PLAIN)
    [item], _ = follow(outer, JOB_JSONLD)
    assert item.external_id == "icims:careers-wipfli.icims.com:8214"
    assert item.posted == "2026-10-14T05:00:00.000Z" and item.locations == ["Milwaukee, WI, US"]


def test_classic_company_from_the_job_page(make_spider):
    spider = make_spider(**CLASSIC)
    [first] = first_requests(spider)
    _, (job, *_) = follow(first, WIPFLI)
    [item], _ = follow(job, JOB_JSONLD)
    assert item.company == "Wipfli LLP"


def test_classic_failed_or_vanished_job_page(make_spider):
    spider = make_spider(**CLASSIC, company="Wipfli")
    [first] = first_requests(spider)
    _, (job, *_) = follow(first, WIPFLI)
    assert follow(job, body=b"<html><title>Not Found</title></html>", status=404) == ([], [])
    [kept], _ = follow(job, body=b"<html><title>oops</title></html>", status=503)
    assert kept.title == "Payroll Tax Specialist" and kept.req_id == "2026-8214"
    failure = Failure(TimeoutError("slow"))
    failure.request = job  # type: ignore[attr-defined]
    [again] = list(job.errback(failure))  # type: ignore[misc]  # the request has a callback
    assert again.external_id == kept.external_id
    assert spider.errors == []


def test_classic_probe_and_empty_board(make_spider):
    spider = make_spider(**CLASSIC)
    spider.probe = True
    [first] = first_requests(spider)
    items, requests = follow(first, WIPFLI)
    assert requests == [] and [i.title for i in items] == [
        "Payroll Tax Specialist",
        "Payroll Support Specialist",
    ]
    empty = make_spider(**CLASSIC)
    [first] = first_requests(empty)
    assert follow(first, WIPFLI_EMPTY) == ([], [])
    assert "returned no jobs" in empty.errors[0]


def test_classic_search_page_errors(make_spider):
    spider = make_spider(**CLASSIC)
    [first] = first_requests(spider)
    assert follow(first, body=b"<html><title>Forbidden</title></html>", status=403) == ([], [])
    assert "HTTP 403" in spider.errors[0]


# -- helpers ----------------------------------------------------------------------------------


def test_dates_and_places():
    assert iso_time("2026-06-24T15:02:00+0000") == "2026-06-24T15:02:00+00:00"
    assert iso_time("2026-06-24") == "2026-06-24"
    assert iso_time("last week") == "last week"
    assert header_date("10/12/2026") == "2026-10-12"
    assert header_date("13/40/2026") == "13/40/2026"
    places, parts = jibe_locations({"full_location": "Remote; Austin, Texas"})
    assert places == ["Remote", "Austin, Texas"] and parts is None
