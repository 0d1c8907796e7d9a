"""Workday data quality (issue 12): "30+ days" is a bound; a failed detail keeps the posting."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from pipeline.normalize import normalize_item
from spiders.workday import posted_is_bound
from tests.spiders.test_parse import follow, split, start_requests

HITACHI_LIST = "workday/isradari_hitachienergy_cxs_jobs_list_with_facets.json"
NVIDIA_LIST = "workday/eujobfeeds_nvidia_cxs_jobs_list.json"
NVIDIA_DETAIL = "workday/eujobfeeds_nvidia_cxs_job_detail.json"


def test_posted_30_plus_days_ago_is_a_bound_and_exact_ages_are_not():
    assert posted_is_bound("Posted 30+ Days Ago")
    assert posted_is_bound("30 + days ago")
    assert not posted_is_bound("Posted 24 Days Ago")
    assert not posted_is_bound("Posted Today")
    assert not posted_is_bound(None)
    assert not posted_is_bound("Posted 30+ Days Ago" + " " * 100)  # capped input


def test_a_30_plus_days_posting_without_a_start_date_is_kept_as_a_lower_bound(make_spider):
    spider = make_spider(
        kind="workday", url="https://hitachi.wd1.myworkdayjobs.com/hitachi", company="Hitachi"
    )
    [first] = start_requests(spider)
    _, requests = split(follow(first, HITACHI_LIST))
    details = [r for r in requests if r.method == "GET"]
    # the detail fails, so only the list's "Posted 30+ Days Ago" says when
    [bound] = follow(details[0], body=b"{}", status=500)
    assert bound.posted_or_earlier is True
    [exact] = follow(details[1], body=b"{}", status=500)  # "Posted 24 Days Ago"
    assert exact.posted_or_earlier is False
    clean = normalize_item(bound, now=datetime.now(UTC))
    assert clean.posted_or_earlier is True and clean.posted_at is not None
    # a detail with a real startDate is exact, whatever the list said
    [dated] = follow(
        details[0], "workday/isradari_hitachienergy_cxs_job_detail_production_trades.json"
    )
    assert dated.posted == "2026-01-30" and dated.posted_or_earlier is False


def test_a_failed_detail_falls_back_to_the_company_another_detail_named(make_spider, caplog):
    # no `company` in the entry: the employer comes from the details' hiringOrganization
    spider = make_spider(
        kind="workday", url="https://nvidia.wd5.myworkdayjobs.com/NVIDIAExternalCareerSite"
    )
    [first] = start_requests(spider)
    _, requests = split(follow(first, NVIDIA_LIST))
    with caplog.at_level(logging.WARNING):
        held = follow(requests[2], body=b"<html>gone</html>", status=404)
    assert held == []  # no employer known yet: held back, not dropped
    message = " ".join(r.getMessage() for r in caplog.records)
    assert "Senior Data Center Performance Engineer" in message
    assert "not found" not in message and "check `url`" not in message
    items = follow(requests[0], NVIDIA_DETAIL)
    assert [i.company for i in items] == ["IL00 Mellanox Technologies, Ltd."] * 2
    fallback = items[1]
    assert fallback.title.startswith("Senior Data Center Performance Engineer")
    assert fallback.req_id == "JR2008808"
    assert normalize_item(fallback).company == "IL00 Mellanox Technologies, Ltd."
    # once the employer is known, a failed detail yields its posting at once
    [later] = follow(requests[1], body=b"", status=503)
    assert later.company == "IL00 Mellanox Technologies, Ltd."
    assert not spider.errors
    assert spider.crawler.stats.get_value("andon/workday/detail_failed") == 2
