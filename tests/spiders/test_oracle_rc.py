"""The Oracle Recruiting Cloud spider's callbacks on recorded and hand-made responses."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest
from scrapy.utils.test import get_crawler

from spiders.oracle_rc import OracleRecruitingSpider
from spiders.sources import SourcesError, parse_sources
from tests.spiders.conftest import fixture_path
from tests.spiders.test_parse import follow, split, start_requests

BASE = "http://127.0.0.1:8801"
CAREERS = (
    "https://emje.fa.us6.oraclecloud.com/hcmUI/CandidateExperience/en/sites/SouthernCompanyJobs"
)
LIST = "oracle_rc/vjd_southernco_recruitingCEJobRequisitions_list.json"
DETAIL = "oracle_rc/vjd_southernco_recruitingCEJobRequisitionDetails_16280.json"
INTERNAL = "oracle_rc/handmade_detail_16280_with_internal_texts.json"
API = "https://emje.fa.us6.oraclecloud.com/hcmRestApi/resources/latest"


def spider(*, probe: bool = False, **entry) -> OracleRecruitingSpider:
    entry = {"name": "orc-test", "kind": "oracle_rc", "url": CAREERS, **entry}
    if "base_url" in entry:
        entry["allow_private"] = True
    source = parse_sources({"sources": [entry]})[0]
    crawler = get_crawler(OracleRecruitingSpider)
    return OracleRecruitingSpider.from_crawler(crawler, source=source, probe=probe)


def list_body(total: int, ids: list[str]) -> bytes:
    """The recorded list answer with its count and rows replaced (a shorter or later page)."""
    doc = json.loads(fixture_path(LIST).read_bytes())
    block = doc["items"][0]
    row = block["requisitionList"][0]
    block["TotalJobsCount"] = total
    block["requisitionList"] = [{**row, "Id": i, "Title": f"Job {i}"} for i in ids]
    return json.dumps(doc).encode()


# -- the kind's metadata ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "entry"),
    [
        (CAREERS + "/requisitions?keyword=plant", {"url": CAREERS}),
        (CAREERS + "/job/16280/?utm_medium=jobshare", {"url": CAREERS}),
        (
            "https://ejov.fa.ca2.oraclecloud.com/hcmUI/CandidateExperience/en/sites/CX_1001/jobs",
            {
                "url": "https://ejov.fa.ca2.oraclecloud.com/hcmUI/CandidateExperience/en/sites/CX_1001",
                "site_number": "CX_1001",
            },
        ),
        ("https://emje.fa.us6.oraclecloud.com/hcmUI/faces/FuseWelcome", None),
        ("https://hitachi.wd1.myworkdayjobs.com/hitachi", None),
        ("https://careers.qorvo.com/", None),
    ],
)
def test_entry_from_url(url, entry):
    assert OracleRecruitingSpider.entry_from_url(url) == entry


def test_entries_are_checked_at_load():
    with pytest.raises(SourcesError, match="CandidateExperience"):
        parse_sources(
            {"sources": [{"name": "x", "kind": "oracle_rc", "url": "https://example.com/jobs"}]}
        )
    with pytest.raises(SourcesError, match="site_number"):
        parse_sources(
            {"sources": [{"name": "x", "kind": "oracle_rc", "url": CAREERS, "site_number": "a b"}]}
        )


# -- the site number ----------------------------------------------------------------------------


def test_site_number_from_the_careers_page():
    orc = spider(base_url=BASE)
    [page] = start_requests(orc)
    assert page.url == f"{BASE}/hcmUI/CandidateExperience/en/sites/SouthernCompanyJobs"
    [first] = follow(page, "oracle_rc/handmade_careers_page_cx_config.html")
    assert orc.site_number == "CX_1001"
    assert first.url == (
        f"{BASE}/hcmRestApi/resources/latest/recruitingCEJobRequisitions?onlyData=true"
        "&expand=requisitionList.secondaryLocations&finder=findReqs;siteNumber=CX_1001,"
        "limit=100,offset=0,sortBy=POSTING_DATES_DESC"
    )


def test_a_careers_page_without_site_number_is_one_error_asking_for_it():
    orc = spider()
    [page] = start_requests(orc)
    assert follow(page, "oracle_rc/handmade_careers_page_no_site_number.html") == []
    [error] = orc.errors
    assert "add `site_number`" in error and "CX_1001" in error


def test_site_number_from_the_entry_or_a_cx_site_name_needs_no_page():
    [first] = start_requests(spider(site_number="CX_7", search="plant manager, nuclear"))
    assert "finder=findReqs;siteNumber=CX_7,keyword=%22plant%20manager%2C%20nuclear%22," in (
        first.url
    )
    cx = CAREERS.replace("SouthernCompanyJobs", "CX_1")
    [first] = start_requests(spider(url=cx))
    assert "siteNumber=CX_1," in first.url


# -- the list and the detail --------------------------------------------------------------------


def test_list_details_and_paging_by_rows_received():
    orc = spider(site_number="CX_1001")
    [first] = start_requests(orc)
    items, details = split(follow(first, LIST))
    assert not items
    nxt = details.pop()
    assert len(details) == 3
    assert details[0].url == (
        f"{API}/recruitingCEJobRequisitionDetails?onlyData=true&expand=all"
        "&finder=ById;Id=16280,siteNumber=CX_1001"
    )
    # 3 rows came although 100 were asked: the next page starts at 3, not at 100
    assert "offset=3," in nxt.url and orc.total == 105
    _, more = split(follow(nxt, body=list_body(999, ["20001", "20002"])))
    assert "offset=5," in more[-1].url  # the first page's total (105) holds
    assert [r.cb_kwargs["row"]["Id"] for r in more[:-1]] == ["20001", "20002"]


def test_the_walk_ends_at_the_total_and_an_early_end_is_an_error():
    orc = spider(site_number="CX_1001")
    [first] = start_requests(orc)
    _, requests = split(follow(first, body=list_body(4, ["1", "2", "3"])))
    nxt = requests[-1]
    _, last = split(follow(nxt, body=list_body(4, ["4"])))
    assert len(last) == 1 and "recruitingCEJobRequisitionDetails" in last[0].url
    assert not orc.errors

    short = spider(site_number="CX_1001")
    [first] = start_requests(short)
    nxt = split(follow(first, body=list_body(9, ["1", "2"])))[1][-1]
    assert follow(nxt, body=list_body(9, [])) == []
    assert "pagination ended early: an empty page at offset 2 of 9" in short.errors[0]

    repeat = spider(site_number="CX_1001")
    [first] = start_requests(repeat)
    nxt = split(follow(first, body=list_body(9, ["1", "2"])))[1][-1]
    follow(nxt, body=list_body(9, ["1", "2"]))  # a server that ignores `offset`
    assert "postings already seen" in repeat.errors[0]


def test_detail_item_fields():
    orc = spider(site_number="CX_1001")
    [first] = start_requests(orc)
    _, details = split(follow(first, LIST))
    [item] = follow(details[0], DETAIL)
    assert item.external_id == "oracle_rc:emje.fa.us6.oraclecloud.com:16280"
    assert item.title == "Radiation Protection Supervisor - Plant Hatch"
    assert item.company == "Southern Nuclear"  # what the site names (no `company` in the entry)
    assert item.url == CAREERS + "/job/16280"
    assert item.description_html.startswith("<p><strong>Radiation Protection Supervisor")
    assert "Southern Company invests" not in item.description_html  # corporate boilerplate
    assert item.posted == "2026-06-23T15:48:06+00:00"
    assert item.valid_through == "2026-07-08T03:55:00+00:00"
    assert item.locations == ["Baxley, GA, United States"]
    assert item.location_parts == {
        "city": "Baxley",
        "region": "GA",
        "country": "US",
        "latitude": 31.77721,
        "longitude": -82.34433,
    }
    assert item.employment_type == "Full time" and item.req_id == "16280"
    assert item.extra["category"] == "Power Plant Operations & Maintenance"


def test_no_internal_text_reaches_an_item():
    orc = spider(site_number="CX_1001", company="Southern Company")
    [first] = start_requests(orc)
    _, details = split(follow(first, LIST))
    [item] = follow(details[0], INTERNAL)
    assert item.company == "Southern Company"
    assert "Supervise radiation protection technicians" in item.description_html
    assert "INTERNAL ONLY" not in json.dumps(asdict(item), default=str)
    raw = fixture_path(INTERNAL).read_text()
    assert raw.count("INTERNAL ONLY") == 2  # the fixture does carry internal texts


def test_secondary_locations_and_a_failed_detail_keep_the_list_fields():
    orc = spider(site_number="CX")
    [first] = start_requests(orc)
    _, details = split(follow(first, "oracle_rc/careerkit_orc_list_trimmed.json"))
    [item] = follow(details[1], status=500, body=b"<html><title>Oops</title></html>")
    assert item.title == "Technology and Communications Sector Leader"
    assert item.locations == [
        "SAN FRANCISCO, CA, United States",
        "HOUSTON, TX, United States",
        "ATLANTA, GA, United States",
        "MIAMI, FL, United States",
        "IRVINE, CA, United States",
    ]
    assert item.location_parts == {"city": "SAN FRANCISCO", "region": "CA"}
    assert item.posted == "2026-08-07" and not orc.errors


@pytest.mark.parametrize(
    ("status", "body", "needle"),
    [
        (404, b"<html><title>Not Found</title></html>", "not found (404)"),
        (401, b'{"title":"Unauthorized"}', "HTTP 401"),
        (403, b"<html><title>Forbidden</title></html>", "HTTP 403"),
        (200, b"<html><head><title>Oracle</title></head></html>", "expected JSON but got an HTML"),
        (200, fixture_path(LIST).read_bytes()[:3000], "truncated JSON"),
        (200, b'{"items": [], "count": 0}', "requisitionList"),
    ],
)
def test_unusable_list_answers_are_one_error(status, body, needle):
    orc = spider(site_number="CX_1001")
    [first] = start_requests(orc)
    assert follow(first, status=status, body=body) == []
    [error] = orc.errors
    assert needle in error


def test_probe_makes_one_request():
    orc = spider(site_number="CX_1001", probe=True)
    [first] = start_requests(orc)
    items, requests = split(follow(first, LIST))
    assert not requests and len(items) == 3 and orc.probe_total == 105
    assert items[0].title == "Radiation Protection Supervisor - Plant Hatch"
    assert items[0].location_parts == {"city": "Baxley", "region": "GA", "country": "US"}


def test_site_number_from_a_request_the_careers_page_names():
    orc = spider()
    [page] = start_requests(orc)
    body = (
        b'<html><link rel="preload" href="/hcmRestApi/resources/latest/'
        b'recruitingCEJobRequisitions?finder=findReqs;siteNumber=CX_45,limit=25"></html>'
    )
    [first] = follow(page, body=body)
    assert orc.site_number == "CX_45" and "siteNumber=CX_45," in first.url
