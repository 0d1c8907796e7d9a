"""Loopback servers answering like Eightfold and iCIMS boards, from tests/fixtures/{eightfold,icims}.

Eightfold boards share one server and are told apart by the `domain` parameter; iCIMS Career
Sites boards all call `/api/jobs`, so each of their scenarios gets its own server (`AtsServer`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.spiders.mockserver import HTML, JSON, MockServer, Reply, Routes, fixture, ok

EF = "eightfold/"
IC = "icims/"
FORBIDDEN = (
    403,
    HTML,
    b"<html><head><title>403 Forbidden</title></head><body>Forbidden</body></html>",
)
NOT_FOUND = (404, HTML, b"<html><head><title>404 Not Found</title></head></html>")
CHALLENGE = (200, HTML, b"<html><head><title>Just a moment...</title></head><body></body></html>")


def _json(doc: Any) -> Reply:
    return 200, JSON, json.dumps(doc).encode()


def _truncated(rel: str) -> Reply:
    data = fixture(rel)
    return 200, JSON, data[: len(data) // 2]


class AtsRoutes(Routes):
    """Eightfold (`/api/apply/v2/…`, `/api/pcsx/…`) and iCIMS (`/api/jobs`, `/jobs/…`) routes.

    `scenario` picks what `/api/jobs` answers; `round` > 1 drops one job from the Albemarle
    board and one from Garmin's, as a board does when a job closes.
    """

    def __init__(self, scenario: str = "garmin") -> None:
        super().__init__()
        self.scenario = scenario
        self.round = 1

    def __call__(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> Reply:
        q = {k: v[0] for k, v in query.items()}
        if path.startswith("/api/apply/v2/jobs"):
            return self.apply_v2(path, q)
        if path.startswith("/api/pcsx/"):
            return self.pcsx(path, q)
        if path == "/api/jobs":
            return self.jibe(q)
        if path == "/jobs/search":
            return self.classic_search(q)
        if m := re.fullmatch(r"/jobs/(\d+)/([^/]+)/job", path):
            return self.classic_job(m.group(1), m.group(2))
        return super().__call__(method, path, query, body)

    # -- Eightfold ------------------------------------------------------------------------------

    def albemarle_pages(self) -> dict[int, dict[str, Any]]:
        first = json.loads(fixture(EF + "careerkit_albemarle_apply_v2_jobs.json"))
        second = json.loads(fixture(EF + "handmade_albemarle_apply_v2_jobs_page2.json"))
        if self.round > 1:  # the plant manager job closed
            second["positions"] = second["positions"][:1]
        return {0: first, 2: second}

    def apply_v2(self, path: str, q: dict[str, str]) -> Reply:
        domain, start = q.get("domain"), int(q.get("start", "0"))
        if domain in ("packco.com", "bothdenied.com"):
            return FORBIDDEN
        if domain == "denied.com":
            return 401, JSON, b'{"message": "Unauthorized"}'
        if domain == "htmlwall.com":
            return CHALLENGE
        if domain == "truncated.com":
            return _truncated(EF + "careerkit_albemarle_apply_v2_jobs.json")
        if domain == "short.com":  # announces 6, serves 2 (jobs of its own), then an empty page
            doc = json.loads(fixture(EF + "careerkit_albemarle_apply_v2_jobs.json"))
            for p in doc["positions"]:
                p["id"] += 7
                p["canonicalPositionUrl"] = f"https://short.eightfold.ai/careers/job/{p['id']}"
            if start:
                doc["positions"] = []
            return _json({**doc, "count": 6})
        if domain != "albemarle.com":
            return NOT_FOUND
        pages = self.albemarle_pages()
        if path == "/api/apply/v2/jobs":
            return _json(pages.get(start, {"domain": domain, "positions": []}))
        return self.v2_detail(path.rsplit("/", 1)[-1], pages)

    def v2_detail(self, pid: str, pages: dict[int, dict[str, Any]]) -> Reply:
        """The recorded list's first job has a hand-made detail; others reuse it with their own
        id, title and places."""
        listed = {str(p["id"]): p for page in pages.values() for p in page["positions"]}
        if pid not in listed:
            return NOT_FOUND
        doc = json.loads(fixture(EF + "handmade_albemarle_apply_v2_job_detail.json"))
        if str(doc["id"]) != pid:
            doc = {**doc, **{k: listed[pid][k] for k in ("id", "name", "location", "locations")}}
            doc["canonicalPositionUrl"] = listed[pid]["canonicalPositionUrl"]
            doc["display_job_id"] = doc["ats_job_id"] = f"R{pid[-5:]}"
        return _json(doc)

    def pcsx(self, path: str, q: dict[str, str]) -> Reply:
        if q.get("domain") != "packco.com":
            return FORBIDDEN if q.get("domain") == "bothdenied.com" else NOT_FOUND
        pages = {
            0: json.loads(fixture(EF + "handmade_pcsx_search_page1.json")),
            2: json.loads(fixture(EF + "handmade_pcsx_search_page2.json")),
        }
        if path == "/api/pcsx/search":
            empty = {"status": 200, "error": {}, "data": {"count": 3, "positions": []}}
            return _json(pages.get(int(q.get("start", "0")), empty))
        if path != "/api/pcsx/position_details":
            return NOT_FOUND
        listed = {str(p["id"]): p for page in pages.values() for p in page["data"]["positions"]}
        pid = q.get("position_id", "")
        if pid not in listed:
            return NOT_FOUND
        doc = json.loads(fixture(EF + "handmade_pcsx_position_details.json"))
        doc["data"] = {**doc["data"], **listed[pid]}
        doc["data"]["publicUrl"] = f"https://careers.packco.example/careers/job/{pid}"
        return _json(doc)

    # -- iCIMS Career Sites ("Jibe") ----------------------------------------------------------

    def jibe(self, q: dict[str, str]) -> Reply:
        page = int(q.get("page", "1"))
        garmin = IC + "vjd_garmin_jibe_api_jobs.json"
        if self.scenario == "denied":
            return 401, JSON, b'{"error": "unauthorized"}'
        if self.scenario == "gone":
            return NOT_FOUND
        if self.scenario == "html":
            return CHALLENGE
        if self.scenario == "truncated":
            return _truncated(garmin)
        if self.scenario == "keysight":
            return ok(IC + "jobpoller_keysight_jibe_api_jobs_trimmed.json")
        if self.scenario == "capped":  # the recording as is: 3 rows of 303, then nothing
            return ok(garmin) if page == 1 else _json({"jobs": [], "totalCount": 303, "count": 0})
        # "garmin": the recording was trimmed to 3 of 303 jobs by its author; announcing 5
        # lets the hand-made page 2 complete the board.
        total = 5 if self.round == 1 else 4
        if page == 1:
            return _json({**json.loads(fixture(garmin)), "totalCount": total})
        if page == 2:
            doc = json.loads(fixture(IC + "handmade_garmin_jibe_api_jobs_page2.json"))
            if self.round > 1:  # the night-shift job closed
                doc["jobs"], doc["totalCount"] = doc["jobs"][:1], total
            return _json(doc)
        return _json({"jobs": [], "totalCount": total, "count": 0})

    # -- iCIMS classic portal -----------------------------------------------------------------

    def classic_search(self, q: dict[str, str]) -> Reply:
        page = int(q.get("pr", "0"))
        if page == 0:
            return ok(IC + "careerkit_wipfli_search.html", HTML)
        if page == 1:
            return ok(IC + "handmade_wipfli_search_page2.html", HTML)
        return ok(IC + "handmade_wipfli_search_empty.html", HTML)

    def classic_job(self, job_id: str, slug: str) -> Reply:
        if job_id == "8212":
            return ok(IC + "handmade_wipfli_job_8212_no_jsonld.html", HTML)
        page = fixture(IC + "handmade_wipfli_job_8214_jsonld.html").decode()
        if job_id == "8199":
            title = "Manufacturing Operations Manager"
            page = page.replace("Payroll Tax Specialist", title).replace("8214", job_id)
            page = page.replace("payroll-tax-specialist", slug)
        elif job_id != "8214":
            return NOT_FOUND
        return 200, HTML, page.encode()


class AtsServer(MockServer):
    """A `MockServer` whose routes are `AtsRoutes(scenario)`."""

    def __init__(self, scenario: str = "garmin") -> None:
        super().__init__()
        self.routes = AtsRoutes(scenario)
        self.httpd.RequestHandlerClass.routes = self.routes  # type: ignore[attr-defined]
