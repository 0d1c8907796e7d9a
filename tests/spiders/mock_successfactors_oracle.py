"""Loopback servers answering like SuccessFactors career sites and Oracle Recruiting Cloud sites,
from tests/fixtures/{successfactors,oracle_rc}.

Every SuccessFactors site calls the same paths, and so does every Oracle site, so each scenario
gets its own server (`TenantServer(scenario)`). `round` > 1 changes two sites: the legacy feed
drops one job (it closed), and the "orc-breaks" site fails in the middle of its list.
"""

from __future__ import annotations

import json
from typing import Any

from parsel import Selector

from tests.spiders.mockserver import HTML, JSON, XML, MockServer, Reply, Routes, fixture, ok

SF = "successfactors/"
ORC = "oracle_rc/"
NOT_FOUND = (404, HTML, b"<html><head><title>404 Not Found</title></head></html>")
FORBIDDEN = (403, HTML, b"<html><head><title>403 Forbidden</title></head></html>")
WALL = (200, HTML, b"<html><head><title>Access Denied</title></head><body></body></html>")
ORC_API = "/hcmRestApi/resources/latest/"
ORC_SITES = "/hcmUI/CandidateExperience/en/sites/"
# The main Oracle site: 7 postings, served at most 3 rows per page whatever `limit` asks.
ORC_ROWS = 3
ORC_JOBS = (
    ("16280", None, None),  # the recorded row and detail
    ("17305", None, None),
    ("18868", None, None),
    ("21001", "Production Manager", "Dayton, OH, United States"),  # also on the CSB site
    ("21002", "Maintenance Planner", "Lancaster, PA, United States"),
    ("21003", "Shift Supervisor Packaging", "Toluca, MEX, Mexico"),
    ("21004", "Plant Controller", "Dayton, OH, United States"),
)


def _json(doc: Any) -> Reply:
    return 200, JSON, json.dumps(doc).encode()


def _truncated(rel: str) -> Reply:
    data = fixture(rel)
    return 200, JSON, data[: len(data) // 2]


def _orc_row(job_id: str) -> dict[str, Any] | None:
    """The list row of one of the main Oracle site's postings (recorded, or made from one)."""
    doc = json.loads(fixture(ORC + "vjd_southernco_recruitingCEJobRequisitions_list.json"))
    recorded = {r["Id"]: r for r in doc["items"][0]["requisitionList"]}
    for known_id, title, place in ORC_JOBS:
        if known_id != job_id:
            continue
        if title is None:
            return recorded[job_id]
        row = dict(recorded["16280"])
        row.update(Id=job_id, Title=title, PrimaryLocation=place, PostedDate="2026-11-20")
        row["PrimaryLocationCountry"] = "MX" if "Mexico" in place else "US"
        return row
    return None


def _csb_description() -> str:
    page = Selector(text=fixture(SF + "handmade_csb_job_page.html").decode())
    return "".join(page.xpath('//*[@itemprop="description"]/node()').getall())


def _finder(q: dict[str, str]) -> dict[str, str]:
    """`findReqs;siteNumber=CX_1001,limit=100,offset=0` → {"siteNumber": "CX_1001", ...}."""
    _, _, params = q.get("finder", "").partition(";")
    return dict(p.split("=", 1) for p in params.split(",") if "=" in p)


class TenantRoutes(Routes):
    """What one SuccessFactors or Oracle site answers, by `scenario`."""

    def __init__(self, scenario: str) -> None:
        super().__init__()
        self.scenario = scenario
        self.round = 1

    def __call__(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> Reply:
        q = {k: v[0] for k, v in query.items()}
        if path == "/robots.txt":
            return super().__call__(method, path, query, body)
        if self.scenario.startswith("orc"):
            return self.oracle(path, q)
        if path == "/services/recruiting/v1/jobs" and method == "POST":
            return self.csb_search(json.loads(body or b"{}"))
        if path == "/services/rss/job/":
            return (
                ok(SF + "jobpoller_qorvo_rss_job_feed.xml", XML)
                if self.scenario == "sf-rss"
                else NOT_FOUND
            )
        if path.startswith("/job/"):
            return self.job_page(path)
        if path == "/career" and self.scenario == "sf-legacy" and q.get("company") == "acmeP":
            feed = fixture(SF + "handmade_legacy_job_listing.xml")
            if self.round > 1:  # the packaging job closed
                at = feed.index(b"40212")
                start, end = feed.rindex(b"<Job>", 0, at), feed.index(b"</Job>", at)
                feed = feed[:start] + feed[end + len(b"</Job>") :]
            return 200, XML, feed
        if path == "/":
            return FORBIDDEN
        return NOT_FOUND

    # -- SuccessFactors -------------------------------------------------------------------------

    def csb_search(self, body: dict[str, Any]) -> Reply:
        scenario, page = self.scenario, body.get("pageNumber")
        if scenario == "sf-rss":
            return 401, JSON, b'{"status":401,"message":"Unauthorized"}'
        if scenario == "sf-forbidden":
            return FORBIDDEN
        if scenario == "sf-html":
            return WALL
        if scenario == "sf-truncated":
            return _truncated(SF + "handmade_csb_jobs_page0.json")
        if scenario != "sf-csb":
            return NOT_FOUND
        if page == 0:
            return ok(SF + "handmade_csb_jobs_page0.json")
        if page == 1:
            return ok(SF + "handmade_csb_jobs_page1_with_repeat.json")
        return ok(SF + "handmade_csb_jobs_empty.json")

    def job_page(self, path: str) -> Reply:
        """The hand-made job page, its title swapped for the one in the path; the RSS site's
        pages carry only a description (its employer comes from the feed's channel)."""
        if self.scenario == "sf-rss":
            page = b'<html><body><span itemprop="description"><p>Design RF front-ends.</p></span></body></html>'
            return 200, HTML, page
        slug = path.split("/")[2]
        title = slug.replace("-", " ").encode()
        page = fixture(SF + "handmade_csb_job_page.html").replace(
            b"Production Supervisor - 2nd Shift", title
        )
        return 200, HTML, page

    # -- Oracle ---------------------------------------------------------------------------------

    def oracle(self, path: str, q: dict[str, str]) -> Reply:
        if path.startswith(ORC_SITES) and "/" not in path[len(ORC_SITES) :]:
            if self.scenario == "orc-nosite":
                return 200, HTML, fixture(ORC + "handmade_careers_page_no_site_number.html")
            return 200, HTML, fixture(ORC + "handmade_careers_page_cx_config.html")
        if path == ORC_API + "recruitingCEJobRequisitions":
            return self.oracle_list(q)
        if path == ORC_API + "recruitingCEJobRequisitionDetails":
            return self.oracle_detail(_finder(q).get("Id", ""))
        return NOT_FOUND

    def oracle_list(self, q: dict[str, str]) -> Reply:
        finder = _finder(q)
        scenario = self.scenario
        if scenario == "orc-401":
            return 401, JSON, b'{"title":"Unauthorized","status":"401"}'
        if scenario == "orc-404" or finder.get("siteNumber") != "CX_1001":
            return NOT_FOUND
        if scenario == "orc-html":
            return WALL
        if scenario == "orc-truncated":
            return _truncated(ORC + "vjd_southernco_recruitingCEJobRequisitions_list.json")
        if not (q.get("expand") and q["finder"].startswith("findReqs;")):
            return 400, JSON, b'{"title":"Bad Request"}'
        offset = int(finder.get("offset", "0"))
        if scenario == "orc-breaks" and self.round > 1 and offset > 0:  # broken mid-walk
            return WALL
        doc = json.loads(fixture(ORC + "vjd_southernco_recruitingCEJobRequisitions_list.json"))
        block = doc["items"][0]
        rows = [_orc_row(job[0]) for job in ORC_JOBS[offset : offset + ORC_ROWS]]
        block.update(TotalJobsCount=len(ORC_JOBS), Offset=offset, requisitionList=rows)
        doc["hasMore"] = False  # of the outer collection (one search block), not of the jobs
        return _json(doc)

    def oracle_detail(self, job_id: str) -> Reply:
        doc = json.loads(fixture(ORC + "handmade_detail_16280_with_internal_texts.json"))
        item = doc["items"][0]
        row = _orc_row(job_id)
        if row is None:
            return 200, JSON, b'{"items":[],"count":0,"hasMore":false}'
        if job_id != "16280":  # the recorded detail, made into this posting's
            item.update({k: row[k] for k in ("Id", "Title", "PrimaryLocation")})
            item["PrimaryLocationCountry"] = row["PrimaryLocationCountry"]
            item["ExternalPostedStartDate"] = f"{row['PostedDate']}T09:00:00+00:00"
            item["primaryLocationCoordinates"] = []
            item["ExternalDescriptionStr"] = f"<p>{row['Title']}: lead the plant team.</p>"
            if job_id == "21001":  # listed on the CSB site too, with the same text
                item["ExternalDescriptionStr"] = _csb_description()
        return _json(doc)


class TenantServer(MockServer):
    """A `MockServer` answering as one SuccessFactors or Oracle site (`scenario`)."""

    def __init__(self, scenario: str) -> None:
        super().__init__()
        self.routes = TenantRoutes(scenario)
        self.httpd.RequestHandlerClass.routes = self.routes  # type: ignore[attr-defined]
