"""`normalize_item` and `NormalizePostingPipeline` on items built by hand from recorded responses
(source-specific shapes converted by the spider's own converters, as the spiders emit them)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from pipeline.normalize import (
    NormalizePostingPipeline,
    UnusableItem,
    http_url,
    normalize_item,
)
from pipeline.record import CleanPosting
from pipeline.salary import PERIODS_PER_YEAR
from spiders.ashby import salary_of as ashby_salary
from spiders.ashby import salary_text_of as ashby_text
from spiders.fields import monetary_amount
from spiders.himalayas import salary_of as himalayas_salary
from spiders.items import JobItem
from spiders.lever import salary_range

FIXTURES = Path(__file__).parent.parent / "fixtures"
CRAWLED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def load(source: str, name: str) -> Any:
    return json.loads((FIXTURES / source / name).read_text(encoding="utf-8"))


def himalayas_item() -> JobItem:
    job = load("himalayas", "hunt_jobs_api_cursor_hourly.json")["jobs"][0]
    return JobItem(
        source="himalayas",
        kind="himalayas",
        external_id=f"himalayas:{job['guid']}",
        title=job["title"],
        company=job["companyName"],
        url=job["applicationLink"],
        description_html=job["description"],
        locations=job["locationRestrictions"],
        remote=True,
        employment_type=job["employmentType"],
        salary=himalayas_salary(job),
        posted=job["pubDate"],
        valid_through=job["expiryDate"],
        attribution="Himalayas",
        crawled_at=CRAWLED,
    )


def bosch_item() -> JobItem:
    job = load("smartrecruiters", "isradari_boschgroup_posting_detail_production_planning.json")
    sections = job["jobAd"]["sections"]
    return JobItem(
        source="boschgroup",
        kind="smartrecruiters",
        external_id=f"smartrecruiters:BoschGroup:{job['id']}",
        title=job["name"],
        company=job["company"]["name"],
        url=job["postingUrl"],
        apply_url=job["applyUrl"],
        description_html="".join(
            f"<h3>{s['title']}</h3>{s['text']}" for s in sections.values() if s.get("text")
        ),
        locations=[job["location"]["fullLocation"]],
        location_parts=job["location"],
        remote=job["location"]["remote"],
        employment_type=job["typeOfEmployment"]["label"],
        posted=job["releasedDate"],
        req_id=job["refNumber"],
        crawled_at=CRAWLED,
        extra={"industry": job["industry"]["label"], "function": job["function"]["label"]},
    )


def hitachi_item() -> JobItem:
    data = load("workday", "isradari_hitachienergy_cxs_job_detail_production_trades.json")
    info = data["jobPostingInfo"]
    return JobItem(
        source="hitachi-energy",
        kind="workday",
        external_id=f"workday:hitachi:hitachi:{info['jobPostingId']}",
        title=info["title"],
        company=data["hiringOrganization"]["name"],
        url=info["externalUrl"],
        description_html=info["jobDescription"],
        locations=[info["location"], *info.get("additionalLocations", [])],
        workplace_hint=info.get("remoteType"),
        employment_type=info["timeType"],
        posted=info["startDate"],
        req_id=info["jobReqId"],
        crawled_at=CRAWLED,
        extra={"country_code": info["jobRequisitionLocation"]["country"]["alpha2Code"]},
    )


def greenhouse_item() -> JobItem:
    job = load("greenhouse", "careerkit_amplitude_jobs_content_true.json")["jobs"][0]
    return JobItem(
        source="amplitude",
        kind="greenhouse",
        external_id=f"greenhouse:amplitude:{job['id']}",
        title=job["title"],
        company=job["company_name"],
        url=job["absolute_url"],
        description_html=job["content"],  # still entity-escaped, as the API sends it
        locations=[job["location"]["name"]],
        posted=job["first_published"],
        req_id=job["requisition_id"],
        crawled_at=CRAWLED,
    )


def lever_item(salary: dict[str, Any] | None = None) -> JobItem:
    job = load("lever", "careerkit_idealistconsulting_postings_mode_json.json")[0]
    lists = "".join(f"<h3>{x['text']}</h3><ul>{x['content']}</ul>" for x in job["lists"])
    return JobItem(
        source="idealist",
        kind="lever",
        external_id=f"lever:idealistconsulting:{job['id']}",
        title=job["text"],
        company="Idealist Consulting",
        url=job["hostedUrl"],
        apply_url=job["applyUrl"],
        description_html=job["description"] + lists + job["additional"],
        locations=job["categories"]["allLocations"],
        workplace_hint=job["workplaceType"],
        employment_type=job["categories"]["commitment"],
        salary=salary_range(salary if salary is not None else job.get("salaryRange")),
        posted=job["createdAt"],
        crawled_at=CRAWLED,
        extra={"country": job["country"], "team": job["categories"]["team"]},
    )


def ashby_item() -> JobItem:
    job = load("ashby", "careerkit_highlightta_job_board_compensation.json")["jobs"][1]
    address = job["address"]["postalAddress"]
    return JobItem(
        source="highlightta",
        kind="ashby",
        external_id=f"ashby:HighlightTA:{job['id']}",
        title=job["title"],
        company="HighlightTA",
        url=job["jobUrl"],
        apply_url=job["applyUrl"],
        description_html=job["descriptionHtml"],
        locations=[job["location"], *job["secondaryLocations"]],
        location_parts=address,
        workplace_hint=job["workplaceType"],
        remote=job["isRemote"],
        employment_type=job["employmentType"],
        salary=ashby_salary(job["compensation"]),
        salary_text=ashby_text(job["compensation"]),
        posted=job["publishedAt"],
        crawled_at=CRAWLED,
    )


def jsonld_item() -> JobItem:
    page = (FIXTURES / "jsonld" / "google_search_central_docs_example_jobposting.html").read_text()
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert block is not None
    posting = json.loads(block.group(1))
    return JobItem(
        source="google-example",
        kind="jsonld",
        external_id=f"jsonld:{posting['hiringOrganization']['name']}:{posting['identifier']['value']}",
        title=posting["title"],
        company=posting["hiringOrganization"]["name"],
        url="https://www.example.com/jobs/1234567",
        description_html=posting["description"],
        location_parts=posting["jobLocation"]["address"],
        employment_type=posting["employmentType"],
        salary=monetary_amount(posting["baseSalary"]),
        posted=posting["datePosted"],
        valid_through=posting["validThrough"],
        crawled_at=CRAWLED,
    )


def test_himalayas_hourly_salary_and_remote() -> None:
    p = normalize_item(himalayas_item())
    assert isinstance(p, CleanPosting)
    assert p.title == "Gmail & Google Calendar AI Assistant Evaluator"
    assert (p.salary_min, p.salary_max, p.salary_currency, p.salary_period) == (
        15,
        30,
        "USD",
        "hour",
    )
    assert (p.annual_min_usd, p.annual_max_usd) == (15 * 2080, 30 * 2080)
    assert p.country == "US"
    assert p.workplace == "remote"
    assert p.employment_type == "contract"
    assert p.posted_at == datetime(2026, 9, 26, 5, 38, 56, tzinfo=UTC)
    assert p.valid_through == datetime.fromtimestamp(1795585136, tz=UTC)
    assert p.attribution == "Himalayas"
    assert p.seen_at == CRAWLED
    assert (
        p.url
        == "https://himalayas.app/companies/micro1/jobs/gmail-google-calendar-ai-assistant-evaluator"
    )


def test_smartrecruiters_bosch_structured_location() -> None:
    p = normalize_item(bosch_item())
    assert (p.city, p.region, p.country) == ("Bursa", None, "TR")
    assert p.latitude == pytest.approx(40.19559)
    assert p.location_text == "Bursa, Nilüfer, Turkey"
    assert p.workplace == "onsite"  # the source says remote: false, nothing says hybrid
    assert p.employment_type == "full_time"
    assert p.seniority == "manager"
    assert "automotive" in p.industries
    assert "manufacturing" in p.industries
    assert p.posted_at == datetime(2026, 9, 24, 14, 42, 40, 916000, tzinfo=UTC)
    assert p.req_id == "REF297012A"
    assert "<h3>" in p.description_html
    assert p.description_text.startswith("Company Description")


def test_workday_hitachi_detail() -> None:
    p = normalize_item(hitachi_item())
    assert p.title == "Maintenance Worker"
    assert p.company == "HITACHI ENERGY TURKEY ELEKTRIK SANAYI ANONIM SIRKETI"
    assert (p.city, p.country) == ("Kocaeli", "TR")
    assert p.workplace == "onsite"  # "Remote: No" at the top of the description
    assert p.employment_type == "full_time"
    assert p.posted_at == datetime(2026, 1, 30, tzinfo=UTC)
    assert p.req_id == "R0119001"
    assert p.industries == ["manufacturing", "energy"]
    assert "style=" not in p.description_html
    assert "Production & Skilled Trades" in p.description_text


def test_greenhouse_escaped_content() -> None:
    p = normalize_item(greenhouse_item())
    assert p.company == "Amplitude"
    assert "&lt;" not in p.description_html
    assert "<p>" in p.description_html
    assert "class=" not in p.description_html
    assert '<a href="http://amplitude.com" rel="nofollow noopener">' in p.description_html
    assert "<" not in p.description_text
    assert (p.city, p.region, p.country) == ("London", "GB-ENG", "GB")
    assert p.posted_at == datetime(2026, 7, 16, 15, 55, 32, tzinfo=UTC)


def test_lever_posting() -> None:
    p = normalize_item(lever_item())
    assert (p.city, p.region, p.country) == ("Chicago", "US-IL", "US")
    assert p.workplace == "remote"
    assert p.employment_type == "contract"
    assert p.posted_at == datetime(2025, 11, 27, 1, 2, 41, 939000, tzinfo=UTC)
    assert "pmp" in p.skills
    assert p.salary_min is None


def test_lever_salary_range() -> None:
    # The recorded board has no salaryRange; this is its documented shape (SOURCES.md §3).
    salary = {"currency": "usd", "interval": "per-hour-wage", "min": 45.0, "max": 55.5}
    p = normalize_item(lever_item(salary))
    assert (p.salary_min, p.salary_max, p.salary_currency, p.salary_period) == (
        45.0,
        55.5,
        "USD",
        "hour",
    )
    assert p.annual_max_usd == pytest.approx(55.5 * PERIODS_PER_YEAR["hour"])


def test_ashby_compensation() -> None:
    p = normalize_item(ashby_item())
    assert (p.salary_min, p.salary_max, p.salary_currency, p.salary_period) == (
        102800,
        137000,
        "CAD",
        "year",
    )
    assert p.annual_min_usd is not None
    assert 60000 < p.annual_min_usd < 90000
    assert p.workplace == "hybrid"  # the source's workplaceType wins over isRemote
    assert p.employment_type == "full_time"
    assert (p.city, p.region, p.country) == ("Toronto", "CA-ON", "CA")
    assert p.seniority is None


def test_jsonld_google_example() -> None:
    p = normalize_item(jsonld_item())
    assert (p.salary_min, p.salary_max, p.salary_currency, p.salary_period) == (
        40,
        40,
        "USD",
        "hour",
    )
    assert p.annual_min_usd == 40 * 2080
    assert (p.city, p.region, p.country) == ("Mountain View", "US-CA", "US")
    assert p.employment_type == "contract"
    assert p.posted_at == datetime(2017, 1, 18, tzinfo=UTC)
    assert p.valid_through == datetime(2017, 3, 18, tzinfo=UTC)
    assert p.description_text.startswith("Google aspires")


def _item(**changes: Any) -> JobItem:
    base: dict[str, Any] = {
        "source": "acme",
        "kind": "greenhouse",
        "external_id": "greenhouse:acme:1",
        "title": "Production Manager",
        "company": "Acme Foods",
        "url": "https://example.com/jobs/1",
        "crawled_at": CRAWLED,
    }
    base.update(changes)
    return JobItem(**base)


def test_script_and_event_handlers_are_removed() -> None:
    p = normalize_item(
        _item(
            description_html='<p onclick="steal()">Run the <b>plant</b></p>'
            '<script>alert(1)</script><iframe src="https://x"></iframe>'
            '<a href="javascript:alert(1)">x</a>'
        )
    )
    assert "script" not in p.description_html
    assert "onclick" not in p.description_html
    assert "iframe" not in p.description_html
    assert "javascript" not in p.description_html
    assert p.description_text == "Run the plant\nx"


def test_text_only_description_becomes_escaped_html() -> None:
    p = normalize_item(_item(description_text="Lead the <night> shift.\n\nHACCP & GMP."))
    assert p.description_html == "<p>Lead the &lt;night&gt; shift.</p><p>HACCP &amp; GMP.</p>"
    assert p.skills == ["gmp", "haccp"]


def test_title_company_and_urls_are_cleaned() -> None:
    p = normalize_item(
        _item(
            title="  Production &amp; Plant\n Manager ",
            company="Acme &amp; Sons",
            url="javascript:alert(1)",
            apply_url="https://example.com/apply",
        )
    )
    assert p.title == "Production & Plant Manager"
    assert p.company == "Acme & Sons"
    assert p.url is None
    assert p.apply_url == "https://example.com/apply"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a", "https://example.com/a"),
        ("http://example.com", "http://example.com"),
        ("data:text/html,hi", None),
        ("/jobs/1", None),
        ("ftp://example.com/x", None),
        ("", None),
        (None, None),
    ],
)
def test_http_url(url: str | None, expected: str | None) -> None:
    assert http_url(url) == expected


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"title": None}, "no_title"),
        ({"title": "   "}, "no_title"),
        ({"company": ""}, "no_company"),
        ({"external_id": ""}, "no_external_id"),
    ],
)
def test_unusable_items(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(UnusableItem) as info:
        normalize_item(_item(**changes))
    assert info.value.reason == reason


def test_seen_at_defaults_to_now() -> None:
    now = datetime(2026, 11, 21, tzinfo=UTC)
    assert normalize_item(_item(crawled_at=None), now=now).seen_at == now


@pytest.fixture
def pipeline() -> NormalizePostingPipeline:
    return NormalizePostingPipeline.from_crawler(get_crawler())


def stats(pipeline: NormalizePostingPipeline) -> dict[str, Any]:
    return {k: v for k, v in pipeline.stats.get_stats().items() if k.startswith("andon/")}


def test_pipeline_counts_ok_and_parsed_salaries(pipeline: NormalizePostingPipeline) -> None:
    for item in (himalayas_item(), bosch_item(), hitachi_item(), jsonld_item(), ashby_item()):
        assert isinstance(pipeline.process_item(item), CleanPosting)
    assert stats(pipeline) == {"andon/normalize/ok": 5, "andon/salary/parsed": 3}


def test_pipeline_absurd_salary_is_counted_not_fatal(
    pipeline: NormalizePostingPipeline, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="pipeline.normalize")
    item = _item(salary_text="$1/hour")
    posting = pipeline.process_item(item)
    assert isinstance(posting, CleanPosting)
    assert posting.salary_min is None
    assert stats(pipeline) == {"andon/normalize/ok": 1, "andon/salary/absurd": 1}
    assert "acme greenhouse:acme:1" in caplog.text


def test_pipeline_counts_questionable_values(pipeline: NormalizePostingPipeline) -> None:
    item = _item(
        salary_text="DOE",
        posted="sometime last spring maybe?",
        locations=["Zzyzxqville, Nowhereland"],
    )
    posting = pipeline.process_item(item)
    assert posting.posted_at is None
    assert stats(pipeline) == {
        "andon/normalize/ok": 1,
        "andon/salary/unparsed": 1,
        "andon/date/unparsed": 1,
        "andon/location/unresolved": 1,
    }


def test_pipeline_drops_a_missing_title_with_reason(pipeline: NormalizePostingPipeline) -> None:
    with pytest.raises(DropItem, match="no_title"):
        pipeline.process_item(_item(title=None))
    assert stats(pipeline) == {"andon/drop/no_title": 1}


def test_pipeline_survives_a_failing_parser(
    pipeline: NormalizePostingPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("pipeline.normalize.read_salary", broken)
    monkeypatch.setattr("pipeline.enrich.skills", broken)
    posting = pipeline.process_item(_item(salary_text="$90,000"))
    assert isinstance(posting, CleanPosting)
    assert posting.skills == []
    assert stats(pipeline) == {
        "andon/normalize/ok": 1,
        "andon/salary/error": 1,
        "andon/skills/error": 1,
    }


def test_pipeline_passes_other_items_through(pipeline: NormalizePostingPipeline) -> None:
    other = {"not": "a JobItem"}
    assert pipeline.process_item(other) is other
