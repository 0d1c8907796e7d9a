"""Every kind through Scrapy's real downloader against the loopback server, in a subprocess.

The Twisted reactor cannot restart, so the crawl runs as `python -m spiders.runner` in a child
process with the collecting pipeline; one run covers every kind and every error path at once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.spiders.mockserver import MockServer

ROOT = Path(__file__).resolve().parents[2]

SOURCES = """
[[sources]]
name = "wd-nvidia"
kind = "workday"
url = "https://nvidia.wd5.myworkdayjobs.com/en-US/NVIDIAExternalCareerSite"
company = "NVIDIA"
search = "engineer"

[[sources]]
name = "wd-hitachi"
kind = "workday"
url = "https://hitachi.wd1.myworkdayjobs.com/hitachi"
search = "production manager"

[[sources]]
name = "wd-blocked"
kind = "workday"
url = "https://blocked.wd1.myworkdayjobs.com/External"

[[sources]]
name = "sr-knight"
kind = "smartrecruiters"
company = "Knight"

[[sources]]
name = "sr-bosch"
kind = "smartrecruiters"
company = "Bosch"

[[sources]]
name = "gh-amplitude"
kind = "greenhouse"
board = "amplitude"

[[sources]]
name = "gh-404"
kind = "greenhouse"
board = "nosuchboard"

[[sources]]
name = "gh-empty"
kind = "greenhouse"
board = "emptyboard"

[[sources]]
name = "gh-429"
kind = "greenhouse"
board = "ratelimited"

[[sources]]
name = "gh-truncated"
kind = "greenhouse"
board = "truncated"

[[sources]]
name = "lever-idealist"
kind = "lever"
site = "idealistconsulting"
company = "Idealist Consulting"

[[sources]]
name = "lever-500"
kind = "lever"
site = "flaky"
company = "Flaky"

[[sources]]
name = "ashby-highlight"
kind = "ashby"
board = "HighlightTA"
company = "HighlightTA"

[[sources]]
name = "him-search"
kind = "himalayas"
search = "production manager"

[[sources]]
name = "him-browse"
kind = "himalayas"

[[sources]]
name = "jsonld-careers"
kind = "jsonld"
start_urls = ["https://careers.acmefoods.example/careers"]
link_pattern = "/jobs/[a-z0-9-]+"

[[sources]]
name = "jsonld-sitemap"
kind = "jsonld"
sitemap = "https://careers.acmefoods.example/sitemap.xml"
link_pattern = "/jobs/"

[[sources]]
name = "jsonld-robots"
kind = "jsonld"
start_urls = ["https://careers.acmefoods.example/private/jobs"]

[[sources]]
name = "rss-himalayas"
kind = "rss"
feed = "https://himalayas.app/jobs/rss"

[[sources]]
name = "rss-wwr"
kind = "rss"
feed = "https://weworkremotely.com/remote-jobs.rss"

[[sources]]
name = "rss-atom"
kind = "rss"
feed = "https://careers.acmefoods.example/jobs.atom"
"""

FAST = {
    "AUTOTHROTTLE_ENABLED": "false",
    "DOWNLOAD_DELAY": "0",
    "ANDON_RETRY_BACKOFF_BASE": "0.1",
    "LOG_LEVEL": "INFO",
}


def run_runner(
    server: MockServer, tmp: Path, sources: str, *args: str
) -> tuple[int, list[dict[str, Any]], str, list[dict[str, Any]]]:
    """Run `python -m spiders.runner` on `sources` (every entry sent to the server)."""
    entries = sources.replace(
        "[[sources]]\n", f'[[sources]]\nbase_url = "{server.url}"\nallow_private = true\n'
    )
    sources_file = tmp / "sources.toml"
    sources_file.write_text(entries, encoding="utf-8")
    items_file = tmp / "items.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "spiders.runner",
        "--sources",
        str(sources_file),
        "--pipeline-output",
        str(items_file),
        "--stats",
        *args,
    ]
    for key, value in FAST.items():
        cmd += ["--set", f"{key}={value}"]
    env = {**os.environ, "ANDON_CONFIG": str(tmp / "absent-andon.toml")}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    reports = json.loads(proc.stdout) if proc.stdout.strip() else []
    items = (
        [json.loads(line) for line in items_file.read_text().splitlines()]
        if items_file.exists()
        else []
    )
    return proc.returncode, reports, proc.stderr, items


@pytest.fixture(scope="module")
def crawl(mockserver: MockServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    code, reports, stderr, items = run_runner(mockserver, tmp_path_factory.mktemp("e2e"), SOURCES)
    assert reports, stderr[-3000:]
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_source[item["source"]].append(item)
    return {
        "code": code,
        "reports": {r["name"]: r for r in reports},
        "items": by_source,
        "stderr": stderr,
        "log": list(mockserver.log),
    }


OK_COUNTS = {
    "wd-nvidia": 3,
    "sr-knight": 1,
    "gh-amplitude": 2,
    "gh-429": 2,
    "lever-idealist": 2,
    "lever-500": 2,
    "ashby-highlight": 2,
    "him-search": 4,
    "him-browse": 3,
    "jsonld-careers": 2,
    "jsonld-sitemap": 2,
    "rss-himalayas": 2,
    "rss-atom": 2,
}

ERRORS = {
    "gh-404": "board 'nosuchboard' not found (404) — check `board` in the sources file",
    "gh-empty": "board 'emptyboard' returned no jobs (empty board)",
    "gh-truncated": "truncated JSON",
    "wd-blocked": "expected JSON but got an HTML page titled 'Access Denied'",
    "wd-hitachi": "pagination ended early: an empty page at offset 40 of 62",
    "sr-bosch": "company 'Bosch' returned no postings: probably a wrong company identifier",
    "jsonld-robots": "Forbidden by robots.txt",
}


def test_runner_reports_every_source(crawl):
    reports = crawl["reports"]
    assert set(reports) == set(OK_COUNTS) | set(ERRORS) | {"rss-wwr"}
    assert crawl["code"] == 1  # some sources failed
    for report in reports.values():
        assert report["finish_reason"] == "finished", report["name"]
        assert report["elapsed_s"] > 0
        assert report["stats"]["item_scraped_count" if report["items_scraped"] else "finish_reason"]


@pytest.mark.parametrize(("name", "count"), sorted(OK_COUNTS.items()))
def test_good_sources_collected(crawl, name, count):
    report = crawl["reports"][name]
    assert report["ok"], report["errors"]
    assert report["items_scraped"] == count
    items = crawl["items"][name]
    assert len(items) == count
    assert len({i["external_id"] for i in items}) == count
    for item in items:
        assert item["kind"] == report["kind"]
        assert item["title"]
        assert item["crawled_at"]
        # public URLs stay the real ones, never the loopback stand-in
        assert "127.0.0.1" not in (item["url"] or "")


@pytest.mark.parametrize(("name", "message"), sorted(ERRORS.items()))
def test_failing_sources_report_one_clear_error(crawl, name, message):
    report = crawl["reports"][name]
    assert not report["ok"]
    assert len(report["errors"]) == 1, report["errors"]
    assert message in report["errors"][0]
    assert report["errors"][0].startswith(f"{name} (")
    assert message in crawl["stderr"]  # logged at ERROR too


def test_partial_sources_keep_what_they_got(crawl):
    assert crawl["reports"]["wd-hitachi"]["items_scraped"] == 22
    req_ids = {i["req_id"] for i in crawl["items"]["wd-hitachi"]}
    assert {"R0119001", "R0131017", "R0130552"} <= req_ids  # pages 1 and 2
    titles = {i["title"] for i in crawl["items"]["wd-hitachi"]}
    assert "Maintenance Worker" in titles


def test_retries_wait(crawl):
    limited = crawl["reports"]["gh-429"]["stats"]
    assert limited["andon/retry_after/429"] == 1
    assert limited["andon/retry_wait_seconds"] == pytest.approx(1.0)
    flaky = crawl["reports"]["lever-500"]
    assert flaky["retries"] == 1
    assert flaky["status_counts"]["500"] == 1
    assert flaky["stats"]["andon/retry_wait_seconds"] > 0


def test_workday_wire_format(crawl):
    posts = [
        (path, headers, body)
        for method, path, headers, body in crawl["log"]
        if method == "POST" and path == "/wday/cxs/hitachi/hitachi/jobs"
    ]
    bodies = sorted(json.loads(b)["offset"] for _, _, b in posts)
    assert bodies == [0, 20, 40]
    _, headers, body = posts[0]
    assert json.loads(body)["searchText"] == "production manager"
    assert json.loads(body)["limit"] == 20
    assert headers["Accept-Language"] == "en-US"
    assert headers["Content-Type"] == "application/json"
    assert "andon-jobs" in headers["User-Agent"]
    nvidia = crawl["items"]["wd-nvidia"]
    assert {i["company"] for i in nvidia} == {"NVIDIA"}
    assert any(i["location_parts"] == {"country": "IL"} for i in nvidia)


def test_attribution_and_robots(crawl):
    assert {i["attribution"] for i in crawl["items"]["him-search"]} == {"Himalayas"}
    assert {i["attribution"] for i in crawl["items"]["rss-himalayas"]} == {"Himalayas"}
    assert "Himalayas API comments" in crawl["stderr"]
    assert any(path == "/robots.txt" for _, path, _, _ in crawl["log"])
    assert not any(path.startswith("/private/") for _, path, _, _ in crawl["log"])
