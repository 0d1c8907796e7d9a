"""SSRF: remote content never steers a crawl to another host or an internal address."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request

from spiders.netguard import NetGuardMiddleware, allowed_origins, literal_ip, named_internal
from spiders.sources import Source, SourcesError, parse_sources

ROOT = Path(__file__).resolve().parents[2]
FAST = {"AUTOTHROTTLE_ENABLED": "false", "DOWNLOAD_DELAY": "0", "ROBOTSTXT_OBEY": "false"}


class Server:
    """A loopback HTTP server answering from a {path: (status, headers, body)} table, logging paths."""

    def __init__(self, routes: dict[str, tuple[int, dict[str, str], bytes]]) -> None:
        self.routes = routes
        self.hits: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits.append(self.path)
                status, headers, body = outer.routes.get(self.path, (404, {}, b"not found"))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def job_page(n: int) -> bytes:
    posting = {
        "@context": "https://schema.org",
        "@type": "JobPosting",
        "title": f"Production Manager {n}",
        "datePosted": "2026-11-20",
        "hiringOrganization": {"@type": "Organization", "name": "Acme Foods"},
        "description": "<p>Run the bottling line.</p>",
        "jobLocation": {"@type": "Place", "address": {"addressLocality": "Dearborn"}},
    }
    return (
        "<html><head><script type='application/ld+json'>"
        f"{json.dumps(posting)}</script></head><body>job</body></html>"
    ).encode()


@pytest.fixture
def servers() -> Iterator[tuple[Server, Server]]:
    inside = Server({"/jobs/9": (200, {"Content-Type": "text/html"}, job_page(9))})
    html = {"Content-Type": "text/html"}
    board = Server({})
    sitemap = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{board.url}/jobs/1</loc></url>"
        f"<url><loc>{board.url}/jobs/moved</loc></url>"
        f"<url><loc>{inside.url}/jobs/9</loc></url>"
        "<url><loc>http://[::1]:9/jobs/2</loc></url>"
        "</urlset>"
    )
    board.routes.update(
        {
            "/sitemap.xml": (200, {"Content-Type": "application/xml"}, sitemap.encode()),
            "/jobs/1": (200, html, job_page(1)),
            "/jobs/moved": (302, {"Location": f"{inside.url}/admin/jobs/7"}, b""),
        }
    )
    yield board, inside
    board.close()
    inside.close()


def crawl(tmp: Path, sources: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    (tmp / "sources.toml").write_text(sources, encoding="utf-8")
    items_file = tmp / "items.jsonl"
    cmd = [sys.executable, "-m", "spiders.runner", "--sources", str(tmp / "sources.toml")]
    cmd += ["--pipeline-output", str(items_file), "--stats"]
    for key, value in FAST.items():
        cmd += ["--set", f"{key}={value}"]
    env = {**os.environ, "ANDON_CONFIG": str(tmp / "absent.toml")}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip(), proc.stderr[-3000:]
    items = (
        [json.loads(x) for x in items_file.read_text().splitlines()] if items_file.exists() else []
    )
    return json.loads(proc.stdout), items


def test_sitemap_and_redirect_cannot_steer_the_crawl_to_another_port(tmp_path, servers):
    board, inside = servers
    sources = (
        f'[[sources]]\nname = "acme"\nkind = "jsonld"\nsitemap = "{board.url}/sitemap.xml"\n'
        "allow_private = true\n"
    )
    (report,), items = crawl(tmp_path, sources)
    assert inside.hits == []  # neither the sitemap entry nor the redirect reached it
    assert "/jobs/1" in board.hits and "/jobs/moved" in board.hits
    assert [i["title"] for i in items] == ["Production Manager 1"]
    # the sitemap's entry and the redirect to the other port, and the sitemap's [::1] entry
    assert report["stats"]["andon/netguard/offsite"] == 3


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/feed",
        "http://0x7f000001/feed",
        "http://2130706433/feed",
        "http://127.0.0.1:5432/",
        "http://localhost:6379/",
        "http://10.0.0.7/jobs.rss",
        "http://[::ffff:192.168.1.1]/feed",
        "http://224.0.0.1/feed",
    ],
)
def test_sources_naming_an_internal_address_are_refused(url):
    entry = {"name": "x", "kind": "rss", "feed": url}
    with pytest.raises(SourcesError, match="allow_private = true"):
        parse_sources({"sources": [entry]})
    (source,) = parse_sources({"sources": [{**entry, "allow_private": True}]})
    assert source.allow_private


@pytest.mark.parametrize("key", ["url", "base_url", "start_urls", "sitemap"])
def test_every_url_key_is_checked(key):
    entry = {"name": "x", "kind": "jsonld", "start_urls": ["https://careers.acme.example/"]}
    entry[key] = ["http://127.0.0.1:5432/"] if key == "start_urls" else "http://127.0.0.1:5432"
    with pytest.raises(SourcesError, match=r"loopback address 127\.0\.0\.1"):
        parse_sources({"sources": [entry]})


def test_literal_addresses_in_every_spelling():
    assert str(literal_ip("0x7f000001")) == "127.0.0.1"
    assert str(literal_ip("0177.0.0.1")) == "127.0.0.1"
    assert str(literal_ip("127.1")) == "127.0.0.1"
    assert str(literal_ip("[::1]")) == "::1"
    assert literal_ip("careers.acme.example") is None
    assert named_internal("example.com") is None
    assert named_internal("8.8.8.8") is None
    assert "loopback" in named_internal("0x7f000001")


def _middleware(source: Source, resolved: str) -> NetGuardMiddleware:
    stats = SimpleNamespace(values={})
    stats.inc_value = lambda key: stats.values.__setitem__(key, stats.values.get(key, 0) + 1)
    spider = SimpleNamespace(source=source, api_base="https://boards-api.greenhouse.io")
    guard = NetGuardMiddleware(SimpleNamespace(spider=spider, stats=stats))  # type: ignore[arg-type]  # a stand-in crawler

    async def resolve(host: str) -> str:
        return resolved

    guard.resolve = resolve  # type: ignore[method-assign]
    return guard


def test_a_public_name_resolving_to_loopback_is_refused_at_request_time():
    source = Source(name="gh", kind="greenhouse", options={"board": "acme"})
    guard = _middleware(source, "127.0.0.1")
    request = Request("https://boards-api.greenhouse.io/v1/boards/acme/jobs")
    with pytest.raises(IgnoreRequest, match="resolving to the loopback address"):
        asyncio.run(guard.process_request(request))
    public = _middleware(source, "104.18.1.1")
    assert asyncio.run(public.process_request(request)) is None
    with pytest.raises(IgnoreRequest, match="not one of this source's hosts"):
        asyncio.run(public.process_request(Request("https://evil.example/x")))


def test_allowed_origins_keep_ports_apart():
    source = Source(
        name="s",
        kind="jsonld",
        base_url="http://127.0.0.1:8801",
        options={"sitemap": "https://www.acme.example/s.xml"},
    )
    allowed = allowed_origins(
        SimpleNamespace(source=source, api_base="", allowed_hosts=("jobs.example:8443",))
    )
    assert allowed == {("127.0.0.1", 8801), ("acme.example", None), ("jobs.example", 8443)}
