"""Each spider's callbacks against the recorded (and a few hand-made) responses, without a network."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from scrapy.http import Request

from spiders.items import JobItem
from tests.spiders.conftest import fixture_path, response_for

BASE = "http://127.0.0.1:8801"


def start_requests(spider) -> list[Request]:
    async def collect() -> list[Any]:
        return [r async for r in spider.start()]

    return asyncio.run(collect())


def split(results) -> tuple[list[JobItem], list[Request]]:
    results = list(results or [])
    items = [r for r in results if isinstance(r, JobItem)]
    requests = [r for r in results if isinstance(r, Request)]
    assert len(items) + len(requests) == len(results)
    return items, requests


def follow(request: Request, rel: str | None = None, **kw) -> list[Any]:
    response = response_for(request, rel, **kw)
    return list(request.callback(response, **request.cb_kwargs) or [])  # type: ignore[misc]  # the request has a callback


# -- workday ----------------------------------------------------------------------------------

HITACHI_LIST = "workday/isradari_hitachienergy_cxs_jobs_list_with_facets.json"
HITACHI_DETAIL = "workday/isradari_hitachienergy_cxs_job_detail_production_trades.json"


def test_workday_first_request_is_the_cxs_post(make_spider):
    spider = make_spider(
        kind="workday",
        url="https://hitachi.wd1.myworkdayjobs.com/en-US/hitachi",
        search="production manager",
        base_url=BASE,
    )
    assert (spider.tenant, spider.site) == ("hitachi", "hitachi")
    [req] = start_requests(spider)
    assert req.method == "POST"
    assert req.url == f"{BASE}/wday/cxs/hitachi/hitachi/jobs"
    assert json.loads(req.body) == {
        "appliedFacets": {},
        "limit": 20,
        "offset": 0,
        "searchText": "production manager",
    }
    assert req.headers[b"Content-Type"] == b"application/json"
    assert req.headers[b"Accept-Language"] == b"en-US"
    assert req.meta["public_url"].startswith("https://hitachi.wd1.myworkdayjobs.com/wday/cxs/")


def test_workday_list_details_and_next_page(make_spider):
    spider = make_spider(kind="workday", url="https://hitachi.wd1.myworkdayjobs.com/hitachi")
    [first] = start_requests(spider)
    items, requests = split(follow(first, HITACHI_LIST))
    assert not items
    details = [r for r in requests if r.method == "GET"]
    [nxt] = [r for r in requests if r.method == "POST"]
    assert len(details) == 20
    assert details[0].url == (
        "https://hitachi.wd1.myworkdayjobs.com/wday/cxs/hitachi/hitachi"
        "/job/Kocaeli-Kocaeli-Turkey/Maintenance-Worker_R0119001"
    )
    assert json.loads(nxt.body)["offset"] == 20
    assert nxt.meta["total"] == 62  # the first page's total is kept for later pages

    [item] = follow(details[0], HITACHI_DETAIL)
    assert item.external_id == "workday:hitachi:hitachi:Maintenance-Worker_R0119001"
    assert item.source == "test-workday"
    assert item.kind == "workday"
    assert item.title == "Maintenance Worker"
    assert item.company == "HITACHI ENERGY TURKEY ELEKTRIK SANAYI ANONIM SIRKETI"
    assert item.url == (
        "https://hitachi.wd1.myworkdayjobs.com/hitachi/job/Kocaeli-Kocaeli-Turkey/"
        "Maintenance-Worker_R0119001"
    )
    assert item.posted == "2026-01-30"
    assert item.req_id == "R0119001"
    assert item.locations == ["Kocaeli, Kocaeli, Turkey"]
    assert item.location_parts == {"country": "TR"}
    assert item.employment_type == "Full time"
    assert item.description_html.startswith("<p")
    assert item.extra["posted_on"] == "Posted 30+ Days Ago"
    assert item.crawled_at is not None
    assert item.crawled_at.tzinfo is not None

    # later pages report total 0: the walk goes on with the first total, and stops at the end
    _, requests = split(follow(nxt, "workday/handmade_hitachienergy_cxs_jobs_page2.json"))
    [page3] = [r for r in requests if r.method == "POST"]
    assert json.loads(page3.body)["offset"] == 40


def test_workday_company_option_wins_and_detail_failure_keeps_list_fields(make_spider):
    spider = make_spider(
        kind="workday",
        url="https://nvidia.wd5.myworkdayjobs.com/NVIDIAExternalCareerSite",
        company="NVIDIA",
    )
    [first] = start_requests(spider)
    _, requests = split(follow(first, "workday/eujobfeeds_nvidia_cxs_jobs_list.json"))
    assert len(requests) == 3  # total 3: no next page
    [item] = follow(requests[0], "workday/eujobfeeds_nvidia_cxs_job_detail.json")
    assert item.company == "NVIDIA"
    assert item.extra["legal_entity"] == "IL00 Mellanox Technologies, Ltd."
    assert item.location_parts == {"country": "IL"}
    [fallback] = follow(requests[2], body=b"<html>gone</html>", status=404)
    assert fallback.title.startswith("Senior Data Center Performance Engineer")
    assert fallback.req_id == "JR2008808"
    assert fallback.locations == []  # "2 Locations" is not a place
    # "Posted 2 Days Ago", counted back from the crawl
    assert fallback.posted == (fallback.crawled_at.date() - timedelta(days=2)).isoformat()
    assert not spider.errors  # one vanished job is a warning, not a failed source
    assert spider.crawler.stats.get_value("andon/workday/detail_failed") == 1


def test_workday_capped_total_splits_by_job_family(make_spider):
    spider = make_spider(kind="workday", url="https://hitachi.wd1.myworkdayjobs.com/hitachi")
    [first] = start_requests(spider)
    data = json.loads(fixture_path(HITACHI_LIST).read_bytes())
    data["total"] = 2000
    items, requests = split(follow(first, body=json.dumps(data).encode()))
    assert not items
    bodies = [json.loads(r.body) for r in requests]
    assert len(bodies) == 11  # one walk per jobFamilyGroup value, no detail from the capped page
    assert all(b["offset"] == 0 for b in bodies)
    assert bodies[6]["appliedFacets"] == {"jobFamilyGroup": ["f02270ea97930193f8f83af29e50643d"]}


def test_workday_capped_without_facets_warns_and_walks(make_spider):
    spider = make_spider(
        kind="workday", url="https://nvidia.wd5.myworkdayjobs.com/NVIDIAExternalCareerSite"
    )
    [first] = start_requests(spider)
    [walk] = follow(first, "workday/hunt_nvidia_cxs_jobs_list.json")
    assert walk.meta["total"] == 2000
    assert walk.meta["split"]
    assert spider.crawler.stats.get_value("andon/warnings/total_capped") == 1


def test_workday_errors(make_spider):
    spider = make_spider(kind="workday", url="https://acme.wd1.myworkdayjobs.com/External")
    [first] = start_requests(spider)
    assert follow(first, "workday/handmade_error_access_denied.html") == []
    assert "expected JSON but got an HTML page titled 'Access Denied'" in spider.errors[0]
    assert follow(first, body=b'{"total": 62, "jobPostings": [', status=200) == []
    assert "truncated JSON" in spider.errors[1]
    assert follow(first, body=b"{}", status=404) == []
    assert "not found (404) — check `url`" in spider.errors[2]
    assert spider.crawler.stats.get_value("andon/errors/not_json") == 1
    assert follow(first, "workday/careerkit_salesforce_cxs_jobs_list.json")  # ok again


# -- smartrecruiters ------------------------------------------------------------------------------


def test_smartrecruiters_list_detail(make_spider):
    spider = make_spider(kind="smartrecruiters", company="BoschGroup", search="production manager")
    [first] = start_requests(spider)
    assert first.url == (
        "https://api.smartrecruiters.com/v1/companies/BoschGroup/postings"
        "?limit=100&offset=0&q=production+manager"
    )
    _items, [detail] = split(follow(first, "smartrecruiters/careerkit_postings_list.json"))
    assert detail.url.endswith("/v1/companies/BoschGroup/postings/743999671674844")
    [item] = follow(
        detail, "smartrecruiters/isradari_boschgroup_posting_detail_production_planning.json"
    )
    assert item.external_id == "smartrecruiters:BoschGroup:744000151640889"
    assert item.title == "Logistics Section Manager"
    assert item.company == "Bosch Group"
    assert (
        item.url
        == "https://jobs.smartrecruiters.com/BoschGroup/744000151640889-logistics-section-manager"
    )
    assert item.apply_url.endswith("?oga=true")
    assert "<h3>Job Description</h3>" in item.description_html
    assert item.locations == ["Bursa, Nilüfer, Turkey"]
    assert item.location_parts["country"] == "tr"
    assert item.remote is False
    assert item.workplace_hint is None
    assert item.employment_type == "Full-time"
    assert item.posted == "2026-09-24T14:42:40.916Z"
    assert item.req_id == "REF297012A"
    assert item.extra["industry"] == "Mechanical Or Industrial Engineering"


def test_smartrecruiters_paginates_to_total(make_spider):
    spider = make_spider(kind="smartrecruiters", company="BoschGroup", base_url=BASE)
    [first] = start_requests(spider)
    data = json.loads(fixture_path("smartrecruiters/careerkit_postings_list.json").read_bytes())
    data["totalFound"] = 250
    _, requests = split(follow(first, body=json.dumps(data).encode()))
    assert requests[-1].url == f"{BASE}/v1/companies/BoschGroup/postings?limit=100&offset=100"
    data["content"] = []
    assert follow(requests[-1], body=json.dumps(data).encode()) == []
    assert "pagination ended early: an empty page at offset 100 of 250" in spider.errors[0]


def test_smartrecruiters_total_found_zero_is_a_wrong_company(make_spider):
    spider = make_spider(kind="smartrecruiters", company="Bosch")
    [first] = start_requests(spider)
    assert follow(first, "smartrecruiters/handmade_postings_totalfound_0.json") == []
    assert spider.errors == [
        "test-smartrecruiters (smartrecruiters): company 'Bosch' returned no postings: probably "
        "a wrong company identifier (SmartRecruiters answers 200 with totalFound 0 for unknown "
        "companies) [https://api.smartrecruiters.com/v1/companies/Bosch/postings?limit=100&offset=0]"
    ]


def test_smartrecruiters_empty_search_probes_the_company(make_spider):
    spider = make_spider(kind="smartrecruiters", company="BoschGroup", search="zzz")
    [first] = start_requests(spider)
    [probe] = follow(first, "smartrecruiters/handmade_postings_totalfound_0.json")
    assert probe.url.endswith("/postings?limit=1&offset=0")
    assert follow(probe, "smartrecruiters/careerkit_postings_list.json") == []
    assert not spider.errors  # the company exists; the search matched nothing
    follow(probe, "smartrecruiters/handmade_postings_totalfound_0.json")
    assert "probably a wrong company identifier" in spider.errors[0]


# -- greenhouse, lever, ashby -------------------------------------------------------------------


def test_greenhouse(make_spider):
    spider = make_spider(kind="greenhouse", board="amplitude", base_url=BASE)
    [req] = start_requests(spider)
    assert req.url == f"{BASE}/v1/boards/amplitude/jobs?content=true"
    items, _ = split(follow(req, "greenhouse/careerkit_amplitude_jobs_content_true.json"))
    assert len(items) == 2
    item = items[0]
    assert item.external_id == "greenhouse:amplitude:8636903002"
    assert item.company == "Amplitude"
    assert item.url == "https://job-boards.greenhouse.io/amplitude/jobs/8636903002"
    assert item.description_html.startswith('<div class="content-intro"><p>')
    assert "&lt;" not in item.description_html
    assert item.locations == ["London, UK"]
    assert item.posted == "2026-07-16T11:55:32-04:00"
    assert item.req_id == "R-12263"
    assert item.employment_type == "Regular"
    assert item.extra["departments"] == ["Solutions Consulting"]


def test_greenhouse_404_and_empty(make_spider):
    spider = make_spider(kind="greenhouse", board="nosuch")
    [req] = start_requests(spider)
    assert follow(req, "greenhouse/handmade_error_404.json", status=404) == []
    assert "board 'nosuch' not found (404) — check `board` in the sources file" in spider.errors[0]
    assert follow(req, "greenhouse/handmade_empty_board.json") == []
    assert "returned no jobs (empty board)" in spider.errors[1]


def test_lever(make_spider):
    spider = make_spider(kind="lever", site="idealistconsulting", company="Idealist Consulting")
    [req] = start_requests(spider)
    assert req.url == "https://api.lever.co/v0/postings/idealistconsulting?mode=json"
    items, _ = split(follow(req, "lever/careerkit_idealistconsulting_postings_mode_json.json"))
    item = items[0]
    assert item.external_id == "lever:idealistconsulting:a24ec4e5-5caa-473d-abd4-b71f09a8167b"
    assert item.company == "Idealist Consulting"
    assert item.title.startswith("(1099 Contract)")
    assert item.url.startswith("https://jobs.lever.co/idealistconsulting/")
    assert item.apply_url.endswith("/apply")
    assert item.workplace_hint == "remote"
    assert item.posted == 1764205361939
    assert item.locations == ["Chicago, IL"]
    assert item.location_parts == {"country": "US"}
    assert item.employment_type == "Contract"
    assert "<h3>How You'll Contribute</h3><ul>" in item.description_html


def test_lever_eu_host_salary_and_404(make_spider):
    spider = make_spider(kind="lever", site="acme", eu=True, company="Acme")
    [req] = start_requests(spider)
    assert req.url == "https://api.eu.lever.co/v0/postings/acme?mode=json"
    posting = json.loads(
        fixture_path("lever/careerkit_idealistconsulting_postings_mode_json.json").read_bytes()
    )[0]
    posting["salaryRange"] = {
        "currency": "usd",
        "interval": "per-year-salary",
        "min": 90000.0,
        "max": 1.2e5,
    }
    [item] = follow(req, body=json.dumps([posting]).encode())
    assert item.salary == {"min": 90000.0, "max": 1.2e5, "currency": "USD", "period": "year"}
    assert item.company == "Acme"  # Lever does not name the company: the entry's `company`
    assert follow(req, "lever/handmade_error_404.json", status=404) == []
    assert "site 'acme' not found (404) — check `site`" in spider.errors[0]


def test_ashby(make_spider):
    spider = make_spider(kind="ashby", board="HighlightTA", company="HighlightTA")
    [req] = start_requests(spider)
    assert req.url == (
        "https://api.ashbyhq.com/posting-api/job-board/HighlightTA?includeCompensation=true"
    )
    items, _ = split(follow(req, "ashby/careerkit_highlightta_job_board_compensation.json"))
    assert len(items) == 2
    first, second = items
    assert first.salary is None
    assert second.external_id == "ashby:HighlightTA:fc2f1f85-46a0-4a31-b165-683e39c07c04"
    assert second.salary == {"min": 102800, "max": 137000, "currency": "CAD", "period": "year"}
    assert second.salary_text == "CA$102.8K - CA$137K"
    assert second.workplace_hint == "Hybrid"
    assert second.remote is True
    assert second.location_parts == {"city": "Toronto", "region": "Ontario", "country": "Canada"}
    assert second.employment_type == "FullTime"
    assert second.company == "HighlightTA"


# -- himalayas ------------------------------------------------------------------------------------


def test_himalayas_browse_follows_cursor(make_spider, caplog):
    spider = make_spider(kind="himalayas", base_url=BASE)
    [req] = start_requests(spider)
    assert req.url == f"{BASE}/jobs/api"
    with caplog.at_level("INFO"):
        items, [nxt] = split(follow(req, "himalayas/hunt_jobs_api_cursor_hourly.json"))
    assert "Himalayas API comments: 21/08/2026: Cursor pagination" in caplog.text
    assert nxt.url == f"{BASE}/jobs/api?cursor=MjAyNi0wOS0yNlQwNDozMToyMC42NTI3MzJafDIyODM1MTg"
    item = items[0]
    assert item.external_id == (
        "himalayas:https://himalayas.app/companies/micro1/jobs/gmail-google-calendar-ai-assistant-evaluator"
    )
    assert item.attribution == "Himalayas"
    assert item.company == "micro1"
    assert item.salary == {"min": 15, "max": 30, "currency": "USD", "period": "hour"}
    assert item.posted == 1790401136
    assert item.valid_through == 1795585136
    assert item.locations == ["United States"]
    assert item.remote is True
    last, more = split(follow(nxt, "himalayas/handmade_jobs_api_last_page.json"))
    assert len(last) == 1
    assert not more
    assert last[0].posted == 1790390000000  # ms kept raw


def test_himalayas_watermark_stops_the_walk(make_spider):
    spider = make_spider(kind="himalayas", watermark="2026-09-27T00:00:00Z")
    [req] = start_requests(spider)
    assert follow(req, "himalayas/hunt_jobs_api_cursor_hourly.json") == []


def test_himalayas_search_pages_until_empty(make_spider):
    spider = make_spider(
        kind="himalayas", search="production manager", params={"seniority": "Manager,Director"}
    )
    [req] = start_requests(spider)
    assert req.url == (
        "https://himalayas.app/jobs/api/search?seniority=Manager%2CDirector&q=production+manager&page=1"
    )
    items, [nxt] = split(follow(req, "himalayas/jobmarketpanel_search_endpoint_trimmed.json"))
    assert len(items) == 4
    assert nxt.url.endswith("&page=2")
    assert follow(nxt, "himalayas/handmade_search_empty_page.json") == []
    assert not spider.errors


def test_himalayas_invalid_cursor(make_spider):
    spider = make_spider(kind="himalayas")
    [req] = start_requests(spider)
    follow(req, "himalayas/handmade_error_invalid_cursor.json", status=400)
    assert "HTTP 400: request refused; body:" in spider.errors[0]
    assert "Invalid cursor." in spider.errors[0]


# -- jsonld ---------------------------------------------------------------------------------------

PM_PAGE = "jsonld/handmade_acme_foods_job_production_manager.html"


def test_jsonld_job_page_with_graph(make_spider):
    spider = make_spider(
        kind="jsonld", start_urls=["https://careers.acmefoods.example/jobs/pm-1042-dairy-plant"]
    )
    [req] = start_requests(spider)
    [item] = follow(req, PM_PAGE)
    assert item.external_id == "jsonld:Acme Foods:1042"
    assert item.title == "Production Manager"
    assert item.company == "Acme Foods"
    assert item.url == "https://careers.acmefoods.example/jobs/pm-1042-dairy-plant"
    assert item.description_html.startswith("<p>Lead three shifts")
    assert item.locations == ["Dearborn, MI, US", "Toledo, OH, US"]
    assert item.location_parts == {
        "city": "Dearborn",
        "region": "MI",
        "country": "US",
        "postal_code": "48120",
    }
    assert item.employment_type == ["FULL_TIME"]
    assert item.salary == {"currency": "USD", "min": "95000", "max": 120000, "period": "year"}
    assert item.posted == "2026-11-18"
    assert item.valid_through == "2026-12-31T23:59"


def test_jsonld_google_example(make_spider):
    spider = make_spider(kind="jsonld", start_urls=["https://example.com/job"])
    [req] = start_requests(spider)
    [item] = follow(req, "jsonld/google_search_central_docs_example_jobposting.html")
    assert item.external_id == "jsonld:Google:1234567"
    assert item.salary == {"currency": "USD", "min": 40.0, "max": 40.0, "period": "hour"}
    assert item.employment_type == "CONTRACTOR"


def test_jsonld_listing_follows_matching_links(make_spider):
    spider = make_spider(
        kind="jsonld",
        start_urls=["https://careers.acmefoods.example/careers"],
        link_pattern=r"/jobs/[a-z0-9-]+",
        base_url=BASE,
    )
    [req] = start_requests(spider)
    items, requests = split(follow(req, "jsonld/handmade_acme_foods_careers_listing.html"))
    assert not items
    assert [r.url for r in requests] == [
        f"{BASE}/jobs/pm-1042-dairy-plant",
        f"{BASE}/jobs/ss-2210-packaging?utm_source=list",
    ]
    assert requests[1].meta["public_url"] == (
        "https://careers.acmefoods.example/jobs/ss-2210-packaging?utm_source=list"
    )
    [item] = follow(requests[1], "jsonld/handmade_acme_foods_job_shift_supervisor.html")
    assert (
        item.external_id
        == "jsonld:https://careers.acmefoods.example/jobs/ss-2210-packaging?utm_source=list"
    )
    assert item.workplace_hint == "TELECOMMUTE"
    assert item.salary["min"] == "$31.50"


def test_jsonld_listing_without_pattern_follows_job_looking_links(make_spider):
    spider = make_spider(kind="jsonld", start_urls=["https://careers.acmefoods.example/careers"])
    [req] = start_requests(spider)
    requests = follow(req, "jsonld/handmade_acme_foods_careers_listing.html")
    # same host, a job-looking path; not "/", "/about" or a mailto: link; duplicates once
    assert [r.url for r in requests] == [
        "https://careers.acmefoods.example/jobs/pm-1042-dairy-plant",
        "https://careers.acmefoods.example/jobs/ss-2210-packaging?utm_source=list",
        "https://careers.acmefoods.example/jobs?page=2",
    ]
    [item] = follow(requests[1], "jsonld/handmade_acme_foods_job_shift_supervisor.html")
    assert item.title
    assert follow(requests[2], "jsonld/handmade_acme_foods_careers_listing.html") == []
    assert not spider.errors  # a followed page without a JobPosting is not an error


def test_jsonld_listing_without_job_links_is_an_error(make_spider):
    spider = make_spider(kind="jsonld", start_urls=["https://careers.acmefoods.example/careers"])
    [req] = start_requests(spider)
    page = b"<html><body><a href='/about'>About</a><a href='https://other.example/jobs/1'>x</a>"
    assert follow(req, body=page) == []
    assert "no link on the same host looks like a job page" in spider.errors[0]
    assert "`link_pattern`" in spider.errors[0]


def test_jsonld_follows_at_most_max_pages(make_spider):
    spider = make_spider(
        kind="jsonld", start_urls=["https://careers.acmefoods.example/careers"], max_pages=1
    )
    [req] = start_requests(spider)
    requests = follow(req, "jsonld/handmade_acme_foods_careers_listing.html")
    assert [r.url for r in requests] == [
        "https://careers.acmefoods.example/jobs/pm-1042-dairy-plant"
    ]


def test_jsonld_skips_listings_and_undated(make_spider):
    spider = make_spider(kind="jsonld", start_urls=["https://board.example/search?q=pm"])
    [req] = start_requests(spider)
    follow(req, "jsonld/handmade_search_results_jobs.html")
    stats = spider.crawler.stats
    assert stats.get_value("andon/jsonld/skipped_listing") == 1
    assert stats.get_value("andon/jsonld/skipped_no_date") == 1
    assert stats.get_value("andon/warnings/bad_jsonld") == 1


def test_jsonld_sitemap(make_spider):
    spider = make_spider(
        kind="jsonld",
        sitemap="https://careers.acmefoods.example/sitemap.xml",
        link_pattern="/jobs/",
    )
    [req] = start_requests(spider)
    [child] = follow(req, "jsonld/handmade_sitemap_index.xml")
    assert child.url == "https://careers.acmefoods.example/sitemap-jobs.xml"
    pages = follow(child, "jsonld/handmade_sitemap_jobs.xml")
    assert [p.url for p in pages] == [
        "https://careers.acmefoods.example/jobs/pm-1042-dairy-plant",
        "https://careers.acmefoods.example/jobs/ss-2210-packaging",
    ]


# -- rss ------------------------------------------------------------------------------------------


def test_rss_himalayas_feed_with_undeclared_prefixes(make_spider):
    spider = make_spider(kind="rss", feed="https://himalayas.app/jobs/rss", base_url=BASE)
    [req] = start_requests(spider)
    assert req.url == f"{BASE}/jobs/rss"
    items, _ = split(follow(req, "himalayas/radarvagas_jobs_rss_trimmed_2items.xml"))
    assert len(items) == 2
    item = items[0]
    assert item.external_id == (
        "rss:https://himalayas.app/companies/esource-corp/jobs/instructional-designer-contractor"
    )
    assert item.title == "Instructional designer-contractor"
    assert item.company == "ESource Corp"
    assert (
        item.url
        == "https://himalayas.app/companies/esource-corp/jobs/instructional-designer-contractor"
    )
    assert item.locations == ["United States"]
    assert item.posted == "Mon, 27 Jul 2026 13:17:37 GMT"
    assert item.valid_through == "Fri, 25 Sep 2026 13:17:37 GMT"
    assert item.description_html.startswith("<h3>Position Overview:</h3>")
    assert item.attribution == "Himalayas"
    assert "Instructional-Design" in item.extra["categories"]


def test_rss_wwr_splits_company(make_spider):
    spider = make_spider(kind="rss", feed="https://weworkremotely.com/remote-jobs.rss")
    [req] = start_requests(spider)
    items, _ = split(follow(req, "weworkremotely/ikevinxie_remote_jobs_rss.xml"))
    assert items
    first = items[0]
    assert (first.company, first.title) == ("Mathmo", "Maths Coach")
    assert first.attribution == "We Work Remotely"
    assert first.locations == ["Anywhere in the World"]
    assert first.employment_type == "Contract"
    assert first.description_html.lstrip().startswith("<img")


def test_rss_atom(make_spider):
    spider = make_spider(
        kind="rss", feed="https://careers.acmefoods.example/jobs.atom", attribution="Acme"
    )
    [req] = start_requests(spider)
    items, _ = split(follow(req, "rss/handmade_atom_feed.xml"))
    pm, ss = items
    assert pm.external_id == "rss:urn:acmefoods:job:PM-1042"
    assert pm.title == "Production Manager – Dairy Plant"
    assert pm.url == "https://careers.acmefoods.example/jobs/pm-1042-dairy-plant"
    assert pm.company == "Acme Foods"
    assert pm.posted == "2026-11-18T09:30:00-05:00"
    assert pm.description_html.startswith("<p>Lead three shifts")
    assert pm.extra["categories"] == ["Production", "Food & Beverage"]
    assert pm.attribution == "Acme"
    assert ss.url == "https://careers.acmefoods.example/jobs/ss-2210-packaging"
    assert ss.posted == "2026-11-17T07:00:00Z"


def test_rss_not_a_feed(make_spider):
    spider = make_spider(kind="rss", feed="https://example.com/feed")
    [req] = start_requests(spider)
    assert follow(req, "workday/handmade_error_access_denied.html") == []
    assert "not an RSS or Atom feed" in spider.errors[0]
