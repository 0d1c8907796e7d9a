"""The demo's loopback HTTP server: answers like the real job sources, from `demo/responses/`.

Adapted from the spider tests' mock server (the demo must not import from `tests/`): every
source of the demo sources file points its `base_url` here, and each kind's spider asks for the
same paths it asks the real API for. Bound to 127.0.0.1 on a port the OS picks, served from a
daemon thread, stopped by the `with` block.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

RESPONSES = Path(__file__).resolve().parent / "responses"

Reply = tuple[int, dict[str, str], bytes]
JSON = {"Content-Type": "application/json; charset=utf-8"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
XML = {"Content-Type": "application/xml; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
NOT_FOUND: Reply = (404, HTML, b"<html><title>Not Found</title></html>")

# Workday detail paths of the hand-made tenant end in the requisition id (…_R2026-0412).
GLS_DETAIL = "/wday/cxs/glstamping/GLS_Careers/job/"
HITACHI_DETAIL = "/wday/cxs/hitachi/hitachi/job/"
HITACHI_RECORDED = "workday/isradari_hitachienergy_cxs_job_detail_production_trades.json"
KESSLER = "/v1/companies/KesslerAutomotive/postings"


def response(rel: str) -> bytes:
    return (RESPONSES / rel).read_bytes()


def ok(rel: str, headers: dict[str, str] = JSON) -> Reply:
    return 200, headers, response(rel)


def hitachi_detail(path: str) -> Reply:
    """The recorded Hitachi detail, with the asked job's title and id (one detail was recorded)."""
    tail = path.split("/job/", 1)[1]
    doc = json.loads(response(HITACHI_RECORDED))
    info = doc["jobPostingInfo"]
    if not info["externalUrl"].endswith(tail):
        job_id = tail.rsplit("/", 1)[-1]
        info["jobPostingId"] = job_id
        info["jobReqId"] = job_id.rsplit("_", 1)[-1]
        info["title"] = job_id.rsplit("_", 1)[0].replace("-", " ")
        info["externalUrl"] = info["externalUrl"].split("/job/")[0] + "/job/" + tail
    return 200, JSON, json.dumps(doc).encode()


def route(method: str, path: str, query: dict[str, str]) -> Reply:
    """What the server answers for one request."""
    if path == "/robots.txt":
        return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"
    handler = TABLE.get((method, path))  # exact paths first: /jobs/api is not a job page
    if handler is not None:
        return handler(query)
    if method == "GET" and path.startswith(GLS_DETAIL):
        req = path.rsplit("_", 1)[-1]
        file = RESPONSES / "workday" / f"handmade_glstamping_cxs_job_detail_{req}.json"
        return (200, JSON, file.read_bytes()) if file.is_file() else NOT_FOUND
    if method == "GET" and path.startswith(HITACHI_DETAIL):
        return hitachi_detail(path)
    if method == "GET" and path.startswith(KESSLER + "/"):
        posting = path.rsplit("/", 1)[-1]
        file = RESPONSES / "smartrecruiters" / f"handmade_kessler_posting_detail_{posting}.json"
        if file.is_file():
            return 200, JSON, file.read_bytes()
        return 404, JSON, b'{"message":"Posting not found"}'
    if method == "GET" and path.startswith("/jobs/") and "/" not in path[len("/jobs/") :]:
        file = RESPONSES / "jsonld" / f"handmade_mapleridge_job_{path[len('/jobs/') :]}.html"
        return (200, HTML, file.read_bytes()) if file.is_file() else NOT_FOUND
    return NOT_FOUND


def himalayas_search(query: dict[str, str]) -> Reply:
    if query.get("q") != "production manager":
        return 400, JSON, b'{"ok":false,"errors":"q is required"}'
    if query.get("page", "1") == "1":
        return ok("himalayas/handmade_search_production_manager_page1.json")
    return ok("himalayas/handmade_search_empty_page.json")


def himalayas_browse(query: dict[str, str]) -> Reply:
    if not query.get("cursor"):
        return ok("himalayas/hunt_jobs_api_cursor_hourly.json")
    return ok("himalayas/handmade_jobs_api_last_page.json")


TABLE: dict[tuple[str, str], Callable[[dict[str, str]], Reply]] = {
    ("GET", "/v1/boards/prairiecreamery/jobs"): lambda q: ok(
        "greenhouse/handmade_prairiecreamery_jobs_content_true.json"
    ),
    ("GET", "/v1/boards/amplitude/jobs"): lambda q: ok(
        "greenhouse/careerkit_amplitude_jobs_content_true.json"
    ),
    ("POST", "/wday/cxs/glstamping/GLS_Careers/jobs"): lambda q: ok(
        "workday/handmade_glstamping_cxs_jobs_list.json"
    ),
    ("POST", "/wday/cxs/hitachi/hitachi/jobs"): lambda q: ok(
        "workday/isradari_hitachienergy_cxs_jobs_list_with_facets.json"
    ),
    ("GET", KESSLER): lambda q: ok("smartrecruiters/handmade_kessler_postings_list.json"),
    ("GET", "/v0/postings/lonestartortilla"): lambda q: ok(
        "lever/handmade_lonestartortilla_postings_mode_json.json"
    ),
    ("GET", "/v0/postings/idealistconsulting"): lambda q: ok(
        "lever/careerkit_idealistconsulting_postings_mode_json.json"
    ),
    ("GET", "/posting-api/job-board/VoltaDrive"): lambda q: ok(
        "ashby/handmade_voltadrive_job_board_compensation.json"
    ),
    ("GET", "/posting-api/job-board/HighlightTA"): lambda q: ok(
        "ashby/careerkit_highlightta_job_board_compensation.json"
    ),
    ("GET", "/jobs/api/search"): himalayas_search,
    ("GET", "/jobs/api"): himalayas_browse,
    ("GET", "/careers"): lambda q: ok("jsonld/handmade_mapleridge_careers.html", HTML),
    ("GET", "/search/docs/appearance/structured-data/job-posting"): lambda q: ok(
        "jsonld/google_search_central_docs_example_jobposting.html", HTML
    ),
    ("GET", "/jobs.rss"): lambda q: ok("rss/handmade_mapleridge_jobs.rss", RSS),
    ("GET", "/remote-jobs.rss"): lambda q: ok("weworkremotely/ikevinxie_remote_jobs_rss.xml", XML),
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)  # the Workday list body: every page is the same here
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        status, headers, payload = route(self.command, parts.path, query)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _serve
    do_POST = _serve

    def log_message(self, format: str, *args: object) -> None:  # the demo prints its own summary
        return


class DemoServer:
    """A threaded `http.server` on 127.0.0.1, port chosen by the OS; use it in a `with` block."""

    def __init__(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        if isinstance(host, bytes):  # typeshed allows bytes for AF_UNIX-style addresses
            host = host.decode()
        return f"http://{host}:{port}"

    def __enter__(self) -> DemoServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
