"""A loopback HTTP server that answers like the real job sources, from the recorded fixtures."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

Reply = tuple[int, dict[str, str], bytes]
JSON = {"Content-Type": "application/json; charset=utf-8"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
XML = {"Content-Type": "application/xml; charset=utf-8"}
ROBOTS = b"User-agent: *\nDisallow: /private/\n"


def fixture(rel: str) -> bytes:
    return (FIXTURES / rel).read_bytes()


def ok(rel: str, headers: dict[str, str] = JSON) -> Reply:
    return 200, headers, fixture(rel)


def workday_detail(path: str, recorded: dict[str, str]) -> Reply:
    """The recorded detail for its own job; for other jobs of the list, the same document with
    that job's title and id (the recordings hold one detail per tenant)."""
    tail = path.split("/job/", 1)[1]
    for job_path, rel in recorded.items():
        if tail == job_path:
            return ok(rel)
    rel = next(iter(recorded.values()))
    doc = json.loads(fixture(rel))
    job_id = tail.rsplit("/", 1)[-1]
    info = doc["jobPostingInfo"]
    info["jobPostingId"] = job_id
    info["jobReqId"] = job_id.rsplit("_", 1)[-1]
    info["title"] = job_id.rsplit("_", 1)[0].replace("-", " ")
    info["externalUrl"] = info["externalUrl"].split("/job/")[0] + "/job/" + tail
    return 200, JSON, json.dumps(doc).encode()


class Routes:
    """What the server answers, by method and path; `once(key)` makes a route fail just once."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        with self.lock:
            self.hits[key] += 1
            return self.hits[key] == 1

    def __call__(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> Reply:
        q = {k: v[0] for k, v in query.items()}
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, ROBOTS
        handler = self.table().get((method, path))
        if handler is not None:
            return handler(q, body)
        if method == "GET" and path.startswith("/wday/cxs/hitachi/hitachi/job/"):
            return workday_detail(
                path,
                {
                    "Kocaeli-Kocaeli-Turkey/Maintenance-Worker_R0119001": "workday/isradari_"
                    "hitachienergy_cxs_job_detail_production_trades.json"
                },
            )
        if method == "GET" and path.startswith("/wday/cxs/nvidia/NVIDIAExternalCareerSite/job/"):
            return workday_detail(
                path,
                {
                    "Israel-Yokneam/Practical-Hardware-Electronics-Test-Engineer_JR2021705": (
                        "workday/eujobfeeds_nvidia_cxs_job_detail.json"
                    )
                },
            )
        if path.startswith("/v1/companies/") and "/postings/" in path:
            return 404, JSON, b'{"message":"Posting not found"}'
        return 404, HTML, b"<html><title>Not Found</title></html>"

    def table(self) -> dict[tuple[str, str], Callable[[dict[str, str], bytes], Reply]]:
        return {
            ("POST", "/wday/cxs/hitachi/hitachi/jobs"): self.hitachi_jobs,
            ("POST", "/wday/cxs/nvidia/NVIDIAExternalCareerSite/jobs"): lambda q, b: ok(
                "workday/eujobfeeds_nvidia_cxs_jobs_list.json"
            ),
            ("POST", "/wday/cxs/blocked/External/jobs"): lambda q, b: (
                200,
                HTML,
                fixture("workday/handmade_error_access_denied.html"),
            ),
            ("GET", "/v1/companies/Knight/postings"): lambda q, b: ok(
                "smartrecruiters/careerkit_postings_list.json"
            ),
            ("GET", "/v1/companies/Bosch/postings"): lambda q, b: ok(
                "smartrecruiters/handmade_postings_totalfound_0.json"
            ),
            ("GET", "/v1/boards/amplitude/jobs"): lambda q, b: ok(
                "greenhouse/careerkit_amplitude_jobs_content_true.json"
            ),
            ("GET", "/v1/boards/nosuchboard/jobs"): lambda q, b: (
                404,
                JSON,
                fixture("greenhouse/handmade_error_404.json"),
            ),
            ("GET", "/v1/boards/emptyboard/jobs"): lambda q, b: ok(
                "greenhouse/handmade_empty_board.json"
            ),
            ("GET", "/v1/boards/ratelimited/jobs"): self.rate_limited,
            ("GET", "/v1/boards/truncated/jobs"): self.truncated,
            ("GET", "/v0/postings/idealistconsulting"): lambda q, b: ok(
                "lever/careerkit_idealistconsulting_postings_mode_json.json"
            ),
            ("GET", "/v0/postings/flaky"): self.flaky,
            ("GET", "/posting-api/job-board/HighlightTA"): lambda q, b: ok(
                "ashby/careerkit_highlightta_job_board_compensation.json"
            ),
            ("GET", "/jobs/api"): self.himalayas_browse,
            ("GET", "/jobs/api/search"): self.himalayas_search,
            ("GET", "/jobs/rss"): lambda q, b: ok(
                "himalayas/radarvagas_jobs_rss_trimmed_2items.xml", XML
            ),
            ("GET", "/remote-jobs.rss"): lambda q, b: ok(
                "weworkremotely/ikevinxie_remote_jobs_rss.xml", XML
            ),
            ("GET", "/jobs.atom"): lambda q, b: ok("rss/handmade_atom_feed.xml", XML),
            ("GET", "/careers"): lambda q, b: ok(
                "jsonld/handmade_acme_foods_careers_listing.html", HTML
            ),
            ("GET", "/jobs/pm-1042-dairy-plant"): lambda q, b: ok(
                "jsonld/handmade_acme_foods_job_production_manager.html", HTML
            ),
            ("GET", "/jobs/ss-2210-packaging"): lambda q, b: ok(
                "jsonld/handmade_acme_foods_job_shift_supervisor.html", HTML
            ),
            ("GET", "/sitemap.xml"): lambda q, b: ok("jsonld/handmade_sitemap_index.xml", XML),
            ("GET", "/sitemap-jobs.xml"): lambda q, b: ok("jsonld/handmade_sitemap_jobs.xml", XML),
        }

    def hitachi_jobs(self, q: dict[str, str], body: bytes) -> Reply:
        # Recorded first page (total 62), a second page (later pages say total 0), then an
        # empty page at offset 40 although 62 were announced: pagination ending early.
        offset = json.loads(body)["offset"]
        if offset == 0:
            return ok("workday/isradari_hitachienergy_cxs_jobs_list_with_facets.json")
        if offset == 20:
            return ok("workday/handmade_hitachienergy_cxs_jobs_page2.json")
        return 200, JSON, b'{"total": 0, "jobPostings": [], "facets": []}'

    def rate_limited(self, q: dict[str, str], body: bytes) -> Reply:
        if self.first_time("greenhouse-429"):
            return 429, {**JSON, "Retry-After": "1"}, b'{"error":"Too Many Requests"}'
        return ok("greenhouse/careerkit_amplitude_jobs_content_true.json")

    def flaky(self, q: dict[str, str], body: bytes) -> Reply:
        if self.first_time("lever-500"):
            return 500, HTML, b"<html><title>500 Internal Server Error</title></html>"
        return ok("lever/careerkit_idealistconsulting_postings_mode_json.json")

    def truncated(self, q: dict[str, str], body: bytes) -> Reply:
        data = fixture("greenhouse/careerkit_amplitude_jobs_content_true.json")
        return 200, JSON, data[: len(data) // 2]

    def himalayas_browse(self, q: dict[str, str], body: bytes) -> Reply:
        if not q.get("cursor"):
            return ok("himalayas/hunt_jobs_api_cursor_hourly.json")
        if q["cursor"] == "MjAyNi0wOS0yNlQwNDozMToyMC42NTI3MzJafDIyODM1MTg":
            return ok("himalayas/handmade_jobs_api_last_page.json")
        return 400, JSON, fixture("himalayas/handmade_error_invalid_cursor.json")

    def himalayas_search(self, q: dict[str, str], body: bytes) -> Reply:
        if q.get("q") != "production manager":
            return 400, JSON, b'{"ok":false,"errors":"q is required"}'
        if q.get("page") == "1":
            return ok("himalayas/jobmarketpanel_search_endpoint_trimmed.json")
        return ok("himalayas/handmade_search_empty_page.json")


class _Handler(BaseHTTPRequestHandler):
    routes: Routes
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.log.append((self.command, self.path, dict(self.headers), body))  # type: ignore[attr-defined]
        status, headers, payload = self.routes(
            self.command, parts.path, parse_qs(parts.query), body
        )
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _serve
    do_POST = _serve

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        return


class MockServer:
    """A threaded `http.server` on 127.0.0.1, port chosen by the OS."""

    def __init__(self) -> None:
        self.routes = Routes()
        handler = type("Handler", (_Handler,), {"routes": self.routes})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.log = []  # type: ignore[attr-defined]
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        return f"http://{host}:{port}"

    @property
    def log(self) -> list[tuple[str, str, dict[str, str], bytes]]:
        return self.httpd.log  # type: ignore[attr-defined]

    def __enter__(self) -> MockServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
