"""Probe mode: the first listing request only, list data only, `probe_total`/`probe_company` set."""

from __future__ import annotations

import json

import pytest
from scrapy.http import Request
from scrapy.utils.test import get_crawler

from spiders.base import JobSpider
from spiders.items import JobItem
from spiders.registry import spider_for
from spiders.sources import parse_sources
from tests.spiders.conftest import fixture_path, response_for
from tests.spiders.test_parse import start_requests


def probe_spider(**entry) -> JobSpider:
    entry.setdefault("name", f"probe-{entry['kind']}")
    source = parse_sources({"sources": [entry]})[0]
    cls = spider_for(source.kind)
    return cls.from_crawler(get_crawler(cls), source=source, probe=True)


def answer(request: Request, rel: str | None = None, **kw) -> list:
    return list(request.callback(response_for(request, rel, **kw), **request.cb_kwargs) or [])  # type: ignore[misc]  # the request has a callback


def test_workday_probe_reads_the_list_without_details_or_pages():
    spider = probe_spider(kind="workday", url="https://hitachi.wd1.myworkdayjobs.com/hitachi")
    [req] = start_requests(spider)
    results = answer(req, "workday/isradari_hitachienergy_cxs_jobs_list_with_facets.json")
    assert results and all(isinstance(r, JobItem) for r in results)  # no detail, no next page
    listed = json.loads(
        fixture_path("workday/isradari_hitachienergy_cxs_jobs_list_with_facets.json").read_text()
    )
    assert spider.probe_total == listed["total"]
    assert results[0].title == listed["jobPostings"][0]["title"]


def test_smartrecruiters_probe_names_the_company():
    spider = probe_spider(kind="smartrecruiters", company="Knight")
    [req] = start_requests(spider)
    results = answer(req, "smartrecruiters/careerkit_postings_list.json")
    listed = json.loads(fixture_path("smartrecruiters/careerkit_postings_list.json").read_text())
    assert all(isinstance(r, JobItem) for r in results)
    assert spider.probe_total == listed["totalFound"]
    assert spider.probe_company == listed["content"][0]["company"]["name"]


def test_greenhouse_probe_counts_the_board():
    spider = probe_spider(kind="greenhouse", board="amplitude")
    [req] = start_requests(spider)
    results = answer(req, "greenhouse/careerkit_amplitude_jobs_content_true.json")
    assert spider.probe_total == len(results) > 0
    assert spider.probe_company == results[0].company


def test_jsonld_probe_opens_at_most_three_job_pages():
    spider = probe_spider(kind="jsonld", start_urls=["https://careers.acmefoods.example/careers"])
    [req] = start_requests(spider)
    links = "".join(f'<a href="/jobs/{n}">Job {n}</a>' for n in range(10))
    results = answer(req, body=f"<html><body>{links}</body></html>".encode())
    assert spider.probe_total is None  # the listing gives no count: the pages opened tell
    assert len(results) == 3 and all(isinstance(r, Request) for r in results)


@pytest.mark.parametrize("kind", ["workday", "greenhouse", "rss"])
def test_not_probing_leaves_the_probe_fields_empty(kind, make_spider):
    entries = {
        "workday": {"url": "https://hitachi.wd1.myworkdayjobs.com/hitachi"},
        "greenhouse": {"board": "amplitude"},
        "rss": {"feed": "https://a.example/feed"},
    }
    spider = make_spider(kind=kind, **entries[kind])
    assert spider.probe is False
    assert spider.probe_total is None and spider.probe_company is None
