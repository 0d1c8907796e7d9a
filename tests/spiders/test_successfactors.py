"""The SuccessFactors spider's callbacks on recorded and hand-made responses, without a network."""

from __future__ import annotations

import json

import pytest
from scrapy.http import Request
from scrapy.utils.test import get_crawler

from spiders.fieldparse import days_first, iso_date, place_parts, split_title
from spiders.sources import SourcesError, parse_sources
from spiders.successfactors import SuccessFactorsSpider
from tests.spiders.test_parse import follow, split, start_requests

BASE = "http://127.0.0.1:8801"
ROOT = "https://careers.brightwaterfoods.example/"
RSS = "successfactors/jobpoller_qorvo_rss_job_feed.xml"
PAGE0 = "successfactors/handmade_csb_jobs_page0.json"
PAGE1 = "successfactors/handmade_csb_jobs_page1_with_repeat.json"
JOB_PAGE = "successfactors/handmade_csb_job_page.html"
LEGACY = "successfactors/handmade_legacy_job_listing.xml"


def spider(*, probe: bool = False, **entry) -> SuccessFactorsSpider:
    entry = {"name": "sf-test", "kind": "successfactors", "url": ROOT, **entry}
    if "base_url" in entry:
        entry["allow_private"] = True
    source = parse_sources({"sources": [entry]})[0]
    crawler = get_crawler(SuccessFactorsSpider)
    return SuccessFactorsSpider.from_crawler(crawler, source=source, probe=probe)


# -- field quirks -------------------------------------------------------------------------------


def test_dates_slash_iso_and_rfc822_with_an_unpadded_hour():
    assert iso_date("11/3/26") == "2026-11-03"
    assert iso_date("2026-11-24") == "2026-11-24"
    assert iso_date("24/09/2026", day_first=True) == "2026-09-24"
    assert iso_date("Fri, 02 Oct 2026 7:00:00 GMT") == "2026-10-02T07:00:00+00:00"
    assert iso_date("13/45/26") is None and iso_date("soon") is None and iso_date(None) is None
    assert days_first(["03/04/2026", "22/07/2026"]) and not days_first(["03/04/2026", None])


def test_places_and_titles():
    assert place_parts("Richardson, TX, US, 75080") == {
        "city": "Richardson",
        "region": "TX",
        "country": "US",
        "postal_code": "75080",
    }
    assert place_parts("Toluca, MEX, MX") == {"city": "Toluca", "region": "MEX", "country": "MX"}
    assert place_parts("") is None
    assert split_title("Principal Scientist -  RF (MMIC) (Richardson, TX, US, 75080)") == (
        "Principal Scientist -  RF (MMIC)",
        "Richardson, TX, US, 75080",
    )
    assert split_title("Engineer (Senior)") == ("Engineer (Senior)", None)


# -- the kind's metadata ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "entry"),
    [
        (
            "https://career5.successfactors.eu/career?company=acmeP&career_ns=job_listing_summary"
            "&navBarLevel=JOB_SEARCH",
            {"url": "https://career5.successfactors.eu/career?company=acmeP"},
        ),
        (
            "https://careers.qorvo.com/job/Richardson-Principal-Research-Scientist-TX-75080/"
            "1397790900/?feedId=null&utm_source=J2WRSS",
            {"url": "https://careers.qorvo.com/"},
        ),
        (
            "https://jobs.sap.com/job/Walldorf-Developer-BW-69190/1099999401-en_US",
            {"url": "https://jobs.sap.com/"},
        ),
        ("https://acme.jobs.hr.cloud.sap/search/?q=", {"url": "https://acme.jobs.hr.cloud.sap/"}),
        ("https://careers.te.com/go/Manufacturing/4416601/", {"url": "https://careers.te.com/"}),
        (
            "https://careers.te.com/search/?createNewAlert=false&q=",
            {"url": "https://careers.te.com/"},
        ),
        ("https://career4.successfactors.com/career", None),
        ("https://boards.greenhouse.io/acme/jobs/123", None),
        ("https://hitachi.wd1.myworkdayjobs.com/hitachi", None),
        ("https://careers.example.com/", None),
    ],
)
def test_entry_from_url(url, entry):
    assert SuccessFactorsSpider.entry_from_url(url) == entry


def test_a_career_host_without_company_id_is_refused_at_load():
    with pytest.raises(SourcesError, match=r"company id in `url`"):
        parse_sources(
            {
                "sources": [
                    {
                        "name": "x",
                        "kind": "successfactors",
                        "url": "https://career4.successfactors.com/career",
                    }
                ]
            }
        )


# -- the Career Site Builder JSON search --------------------------------------------------------


def test_first_request_is_the_json_search_post():
    sf = spider(search="production manager", base_url=BASE)
    [req] = start_requests(sf)
    assert (req.method, req.url) == ("POST", f"{BASE}/services/recruiting/v1/jobs")
    body = json.loads(req.body)
    assert body["keywords"] == "production manager"
    assert (body["pageNumber"], body["sortBy"], body["locale"]) == (0, "recent", "en_US")
    assert (
        req.meta["public_url"]
        == "https://careers.brightwaterfoods.example/services/recruiting/v1/jobs"
    )


def test_search_pages_job_pages_and_dedupe():
    sf = spider(company="Brightwater Foods")
    [first] = start_requests(sf)
    items, requests = split(follow(first, PAGE0))
    assert not items
    details = [r for r in requests if r.method == "GET"]
    [nxt] = [r for r in requests if r.method == "POST"]
    assert len(details) == 10
    assert details[0].url == (
        "https://careers.brightwaterfoods.example/job/Production-Supervisor-2nd-Shift/1187654301-en_US"
    )
    assert json.loads(nxt.body)["pageNumber"] == 1
    _, more = split(follow(nxt, PAGE1))
    assert [r.cb_kwargs["listed"]["id"] for r in more] == ["1187654311", "1187654312"]  # no repeat

    [item] = follow(details[0], JOB_PAGE)
    assert item.external_id == "successfactors:careers.brightwaterfoods.example:1187654301"
    assert item.title == "Production Supervisor - 2nd Shift"
    assert item.company == "Brightwater Foods"  # the entry's company wins
    assert item.url == details[0].url
    assert "second shift bakery lines" in item.description_html
    assert "$72,000" in item.description_html and "og:site_name" not in item.description_html
    assert item.locations == ["Dayton, OH, US"]
    assert item.location_parts == {"city": "Dayton", "region": "OH", "country": "US"}
    assert item.posted == "2026-11-24"
    [second] = follow(details[1], JOB_PAGE)
    assert second.posted == "2026-11-23"  # "11/23/26"


def test_company_from_the_job_page_and_a_failed_job_page_keeps_the_list_fields():
    sf = spider()
    [first] = start_requests(sf)
    _, requests = split(follow(first, PAGE0))
    [item] = follow(requests[0], JOB_PAGE)
    assert item.company == "Brightwater Foods, Inc."
    [bare] = follow(requests[5], status=404, body=b"<html><title>Gone</title></html>")
    assert bare.title == "Production Planner" and bare.description_html is None
    assert bare.location_parts == {"city": "Toluca", "region": "MEX", "country": "MX"}
    assert not sf.errors  # a vanished job page is a warning, not a failed source


@pytest.mark.parametrize("status", [401, 404])
def test_401_and_404_fall_back_to_the_rss_feed(status):
    sf = spider(search="research scientist", base_url=BASE)
    [first] = start_requests(sf)
    [rss] = follow(first, status=status, body=b'{"error":"Unauthorized"}')
    assert rss.url == f"{BASE}/services/rss/job/?locale=en_US&keywords=%28research%20scientist%29"
    items, details = split(follow(rss, RSS))
    assert not items and len(details) == 2
    assert details[0].url == (
        f"{BASE}/job/Richardson-Principal-Research-Scientist-TX-75080/1397790900/"
    )
    listed = details[1].cb_kwargs["listed"]
    assert listed["title"] == "Principal Research Scientist -  RF MMIC Design"
    assert listed["url"] == (
        "https://careers.qorvo.com/job/Richardson-Principal-Research-Scientist-RF-MMIC-Design"
        "-TX-75080/1397710500/"
    )
    [item] = follow(details[1], body=b"<html><body><p>no microdata</p></body></html>")
    assert item.company == "Qorvo"  # the channel title names the employer
    assert item.external_id == "successfactors:careers.brightwaterfoods.example:1397710500"
    assert item.locations == ["Richardson, TX, US, 75080"]
    assert item.location_parts == {
        "city": "Richardson",
        "region": "TX",
        "country": "US",
        "postal_code": "75080",
    }
    assert item.posted == "2026-10-02T07:00:00+00:00"
    assert item.description_html is None  # the teaser is "..."
    assert not sf.errors


def test_neither_json_search_nor_feed_is_one_error_naming_url():
    sf = spider()
    [first] = start_requests(sf)
    [rss] = follow(first, status=404, body=b"<html><title>Not Found</title></html>")
    assert follow(rss, status=404, body=b"<html><title>Not Found</title></html>") == []
    [error] = sf.errors
    assert "neither the Career Site Builder JSON search (HTTP 404) nor the RSS feed" in error
    assert "check `url`" in error and ROOT in error


def test_403_retries_with_the_home_pages_csrf_token_then_falls_back():
    sf = spider()
    [first] = start_requests(sf)
    [home] = follow(first, status=403, body=b"Forbidden")
    assert home.url == "https://careers.brightwaterfoods.example/" and home.dont_filter
    [retry] = follow(home, "successfactors/handmade_csb_home_csrf.html")
    assert retry.headers[b"X-CSRF-Token"] == b"0f3c9a7e-5b1d-4c7a-9e2f-6d8b1a4c3e21"
    assert retry.method == "POST" and retry.dont_filter
    [rss] = follow(retry, status=403, body=b"Forbidden")
    assert "/services/rss/job/" in rss.url and not sf.errors


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (
            b"<html><head><title>Access Denied</title></head></html>",
            "expected JSON but got an HTML",
        ),
        (b'{"totalJobs": 12, "jobSearchResult": [{"resp', "truncated JSON"),
        (b'{"totalJobs": 3}', "no `jobSearchResult`"),
    ],
)
def test_unusable_json_search_answers_are_one_error(body, needle):
    sf = spider()
    [first] = start_requests(sf)
    assert follow(first, body=body) == []
    [error] = sf.errors
    assert needle in error


def test_an_empty_search_fails_without_a_search_and_not_with_one():
    sf = spider()
    [first] = start_requests(sf)
    assert follow(first, "successfactors/handmade_csb_jobs_empty.json") == []
    assert len(sf.errors) == 1 and "no jobs" in sf.errors[0]
    narrow = spider(search="astronaut")
    [first] = start_requests(narrow)
    assert follow(first, "successfactors/handmade_csb_jobs_empty.json") == []
    assert not narrow.errors


def test_an_empty_page_before_the_total_is_an_error():
    sf = spider()
    [first] = start_requests(sf)
    _, requests = split(follow(first, PAGE0))
    [nxt] = [r for r in requests if r.method == "POST"]
    assert follow(nxt, "successfactors/handmade_csb_jobs_empty.json") == []
    assert "pagination ended early" in sf.errors[0]


def test_probe_makes_one_request_and_builds_items_from_the_list():
    sf = spider(probe=True)
    [first] = start_requests(sf)
    items, requests = split(follow(first, PAGE0))
    assert not requests and len(items) == 10
    assert sf.probe_total == 12
    assert items[1].posted == "2026-11-23" and items[1].company is None
    rss_probe = spider(probe=True)
    [first] = start_requests(rss_probe)
    [rss] = follow(first, status=401, body=b"")
    items, requests = split(follow(rss, RSS))
    assert not requests and items[0].title == "Principal Research Scientist"
    assert (rss_probe.probe_total, rss_probe.probe_company) == (2, "Qorvo")


# -- the legacy XML feed ------------------------------------------------------------------------


def test_legacy_career_host_reads_the_xml_feed():
    sf = spider(url="https://career5.successfactors.eu/career?company=acmeP", base_url=BASE)
    [req] = start_requests(sf)
    assert req.url == (f"{BASE}/career?company=acmeP&career_ns=job_listing_summary&resultType=XML")
    items, requests = split(follow(req, LEGACY))
    assert not requests and len(items) == 2  # the job without ReqId is skipped
    first, second = items
    assert first.external_id == "successfactors:acmeP:40211" and first.req_id == "40211"
    assert first.title == "Production Manager (Extrusion)"
    assert first.url == (
        "https://career5.successfactors.eu/career?company=acmeP&career_job_req_id=40211"
        "&career_ns=job_listing"
    )
    assert first.posted == "2026-11-03"
    assert first.locations == ["Dormagen, North Rhine-Westphalia, Germany"]
    assert first.location_parts == {"city": "Dormagen", "region": "North Rhine-Westphalia"}
    assert "extrusion hall" in first.description_html
    assert first.extra == {"department": "Manufacturing"}
    assert second.title == "Shift Supervisor Packaging"  # the merge token is gone
    assert second.locations == ["Germany"] and second.location_parts is None


def test_legacy_html_answer_is_one_error():
    sf = spider(url="https://career5.successfactors.eu/career?company=acmeP")
    [req] = start_requests(sf)
    assert follow(req, body=b"<html><body>Career site not found</body></html>") == []
    [error] = sf.errors
    assert "not the SuccessFactors job feed (<html>)" in error


def test_requests_carry_the_public_url():
    sf = spider(base_url=BASE)
    [first] = start_requests(sf)
    assert isinstance(first, Request)
    assert first.meta["public_url"].startswith(ROOT.rstrip("/"))


def test_a_location_given_as_one_string_and_a_four_digit_year():
    sf = spider(probe=True)
    [first] = start_requests(sf)
    body = {
        "totalJobs": 1,
        "jobSearchResult": [
            {
                "response": {
                    "id": "77",
                    "unifiedStandardTitle": "Plant Manager",
                    "jobLocationShort": "Monterrey, NL, MX",
                    "unifiedStandardStart": "2/9/2026",
                }
            }
        ],
    }
    [item] = follow(first, body=json.dumps(body).encode())
    assert item.locations == ["Monterrey, NL, MX"]
    assert item.location_parts == {"city": "Monterrey", "region": "NL", "country": "MX"}
    assert item.posted == "2026-02-09"
    assert item.url == "https://careers.brightwaterfoods.example/job/Plant-Manager/77-en_US"
