"""Each kind's `liveness_url`: the per-job API endpoint its documented API offers (SOURCES.md),
built from the posting's external id (and, for Workday, its public URL); None elsewhere."""

from __future__ import annotations

import pytest

from spiders.registry import spider_for
from spiders.sources import Source


def url_of(kind: str, external_id: str, url: str | None = None, **options: object) -> str | None:
    source = Source(name="s", kind=kind, options=dict(options))
    return spider_for(kind).liveness_url(source, external_id, url)


def test_greenhouse_asks_the_job_board_api_for_the_one_job() -> None:
    assert (
        url_of("greenhouse", "greenhouse:acmefoods:4012345", "https://acme.example/jobs?gh_jid=1")
        == "https://boards-api.greenhouse.io/v1/boards/acmefoods/jobs/4012345"
    )


def test_lever_asks_the_postings_api_on_the_entry_s_host() -> None:
    ext = "lever:acme:5ac21346-8e0c-4494-8e7a-3eb92ff77902"
    assert url_of("lever", ext) == (
        "https://api.lever.co/v0/postings/acme/5ac21346-8e0c-4494-8e7a-3eb92ff77902"
    )
    assert url_of("lever", ext, eu=True) == (
        "https://api.eu.lever.co/v0/postings/acme/5ac21346-8e0c-4494-8e7a-3eb92ff77902"
    )


def test_smartrecruiters_asks_the_posting_api_for_the_one_posting() -> None:
    assert url_of("smartrecruiters", "smartrecruiters:BoschGroup:744000012345678") == (
        "https://api.smartrecruiters.com/v1/companies/BoschGroup/postings/744000012345678"
    )


@pytest.mark.parametrize(
    "public",
    [
        "https://acme.wd5.myworkdayjobs.com/External/job/Dayton-OH/Plant-Manager_R123",
        "https://acme.wd5.myworkdayjobs.com/en-US/External/job/Dayton-OH/Plant-Manager_R123",
    ],
)
def test_workday_asks_the_cxs_detail_of_the_posting_s_path(public: str) -> None:
    assert url_of("workday", "workday:acme:External:abc123", public) == (
        "https://acme.wd5.myworkdayjobs.com/wday/cxs/acme/External/job/Dayton-OH/Plant-Manager_R123"
    )


def test_workday_on_myworkdaysite_keeps_its_host() -> None:
    public = "https://wd3.myworkdaysite.com/recruiting/acme/Careers/job/Ohio/Supervisor_R9"
    assert url_of("workday", "workday:acme:Careers:R9", public) == (
        "https://wd3.myworkdaysite.com/wday/cxs/acme/Careers/job/Ohio/Supervisor_R9"
    )


@pytest.mark.parametrize(
    ("kind", "external_id", "url"),
    [
        ("greenhouse", "lever:acme:1", None),  # another kind's id
        ("greenhouse", "greenhouse:1", None),  # no board
        ("lever", "lever:acme:", None),  # no posting id
        ("workday", "workday:acme:External:R1", "https://acme.wd5.myworkdayjobs.com/External"),
        ("workday", "workday:acme:External:R1", None),
    ],
)
def test_an_id_or_url_of_another_shape_falls_back_to_the_posting_url(
    kind: str, external_id: str, url: str | None
) -> None:
    assert url_of(kind, external_id, url) is None


def test_kinds_without_a_documented_per_job_endpoint_use_the_posting_url() -> None:
    # Ashby's public API serves whole boards only; Himalayas has no job endpoint.
    assert url_of("ashby", "ashby:Acme:6f1c", "https://jobs.ashbyhq.com/Acme/6f1c") is None
    assert url_of("himalayas", "himalayas:abc", "https://himalayas.app/companies/a/jobs/b") is None


def test_ids_are_quoted_into_one_path_segment() -> None:
    assert url_of("greenhouse", "greenhouse:a/b:1?x") == (
        "https://boards-api.greenhouse.io/v1/boards/a%2Fb/jobs/1%3Fx"
    )
