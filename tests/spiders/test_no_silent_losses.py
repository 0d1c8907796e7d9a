"""No silent losses (issue 11 item 4): entries that cannot work fail at load, a crawl that keeps
nothing for one data reason is an error with the fix, "Company: Title" feed items are split."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import DropItem
from scrapy.http import Request, XmlResponse

from spiders.sources import SourcesError, parse_sources

ROOT = Path(__file__).resolve().parents[2]

FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Jobs</title>
<item><title>Acme Foods: Production Manager</title><link>https://x.example/1</link>
<guid>1</guid><pubDate>Mon, 27 Jul 2026 10:00:00 GMT</pubDate></item>
<item><title>Plant Manager</title><link>https://x.example/2</link><guid>2</guid>
<pubDate>Mon, 27 Jul 2026 10:00:00 GMT</pubDate></item>
</channel></rss>"""

NO_COMPANY_FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Jobs</title>
<item><title>Production Manager</title><link>https://x.example/1</link><guid>1</guid>
<pubDate>Mon, 27 Jul 2026 10:00:00 GMT</pubDate></item>
<item><title>Shift Supervisor</title><link>https://x.example/2</link><guid>2</guid>
<pubDate>Mon, 27 Jul 2026 10:00:00 GMT</pubDate></item>
</channel></rss>"""

UNDATED_PAGE = b"""<html><head><script type="application/ld+json">
{"@context": "https://schema.org", "@type": "JobPosting", "title": "Production Manager",
 "hiringOrganization": {"@type": "Organization", "name": "Acme Foods"},
 "description": "<p>Run the line.</p>"}
</script></head><body></body></html>"""

PAGES = {
    "/feed.rss": ("application/rss+xml", NO_COMPANY_FEED),
    "/job/1": ("text/html; charset=utf-8", UNDATED_PAGE),
    "/robots.txt": ("text/plain", b"User-agent: *\n"),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ctype, body = PAGES.get(self.path, ("text/plain", b""))
        self.send_response(200 if self.path in PAGES else 404)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"kind": "lever", "site": "acme"}, "kind 'lever' needs `company`"),
        ({"kind": "ashby", "board": "Acme"}, "kind 'ashby' needs `company`"),
        ({"kind": "workday", "url": "https://acme.example/"}, "add `tenant` and `site`"),
        ({"kind": "jsonld", "start_urls": "https://a.example", "max_pages": 0}, "`max_pages`"),
        ({"kind": "rss", "feed": "https://a.example/f", "company_in_title": "y"}, "true or false"),
    ],
)
def test_entries_that_cannot_work_fail_at_load_naming_the_key(entry, message):
    with pytest.raises(SourcesError, match=message.replace("(", r"\(")):
        parse_sources({"sources": [{"name": "a", **entry}]})


def test_every_item_dropped_for_one_data_reason_is_an_error(make_spider):
    spider = make_spider(kind="rss", feed="https://a.example/feed.rss")
    for n in range(3):
        spider.on_item_dropped(exception=DropItem(f"no_company: a 'rss:{n}'"))
    spider.closed("finished")
    [error] = spider.errors
    assert "kept 0: all 3 postings were dropped (no_company)" in error
    assert "add `company" in error


def test_mixed_or_partial_drops_are_not_an_error(make_spider):
    mixed = make_spider(kind="rss", feed="https://a.example/feed.rss")
    mixed.on_item_dropped(exception=DropItem("no_company: x"))
    mixed.on_item_dropped(exception=DropItem("irrelevant: not a production role"))
    mixed.closed("finished")
    kept = make_spider(kind="rss", feed="https://a.example/feed.rss")
    kept.on_item_dropped(exception=DropItem("no_company: x"))
    kept.on_item_scraped()
    kept.closed("finished")
    assert not mixed.errors and not kept.errors


def test_rss_item_without_company_splits_company_colon_title(make_spider):
    spider = make_spider(kind="rss", feed="https://a.example/feed.rss")
    request = Request(
        "https://a.example/feed.rss", meta={"public_url": "https://a.example/feed.rss"}
    )
    items = list(spider.parse(XmlResponse(url=request.url, body=FEED, request=request)))
    assert [(i.company, i.title) for i in items] == [
        ("Acme Foods", "Production Manager"),
        (None, "Plant Manager"),
    ]
    # with the entry's own company, or `company_in_title = false`, titles stay whole
    for extra in ({"company": "Acme"}, {"company_in_title": False}):
        spider = make_spider(kind="rss", feed="https://a.example/feed.rss", **extra)
        items = list(spider.parse(XmlResponse(url=request.url, body=FEED, request=request)))
        assert items[0].title == "Acme Foods: Production Manager"


def run_runner(server: str, tmp: Path, sources: str) -> tuple[int, list[dict[str, Any]]]:
    """`python -m spiders.runner` with the normalize stage (which drops unusable items)."""
    path = tmp / "sources.toml"
    path.write_text(
        sources.replace(
            "[[sources]]\n", f'[[sources]]\nbase_url = "{server}"\nallow_private = true\n'
        ),
        encoding="utf-8",
    )
    pipelines = json.dumps({"pipeline.normalize.NormalizePostingPipeline": 200})
    cmd = [sys.executable, "-m", "spiders.runner", "--sources", str(path)]
    for setting in (
        f"ITEM_PIPELINES={pipelines}",
        "AUTOTHROTTLE_ENABLED=false",
        "DOWNLOAD_DELAY=0",
        "RETRY_ENABLED=false",
    ):
        cmd += ["--set", setting]
    env = {**os.environ, "ANDON_CONFIG": str(tmp / "absent.toml")}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip(), proc.stderr[-2000:]
    return proc.returncode, json.loads(proc.stdout)


def test_a_crawl_that_keeps_nothing_says_why_and_fails(server, tmp_path):
    code, reports = run_runner(
        server,
        tmp_path,
        """
[[sources]]
name = "nameless-feed"
kind = "rss"
feed = "https://jobs.acme.example/feed.rss"

[[sources]]
name = "undated-page"
kind = "jsonld"
start_urls = ["https://jobs.acme.example/job/1"]
""",
    )
    assert code == 1
    feed, page = reports
    assert not feed["ok"] and feed["items_dropped"] == 2
    assert "kept 0: all 2 postings were dropped (no_company)" in feed["errors"][0]
    assert "add `company" in feed["errors"][0]
    assert not page["ok"]
    assert "lack `datePosted`" in page["errors"][0]
