"""`andon crawl` of SuccessFactors and Oracle Recruiting Cloud sites through Scrapy's real
downloader against loopback servers, into SQLite and PostgreSQL: pagination, the RSS fallback,
the legacy feed and every error case; then a second crawl that changes nothing where nothing
changed, closes the one job a complete crawl no longer sees, and closes nothing for a site that
broke in the middle of its list."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

import db
from pipeline.models import CrawlRun, Posting, PostingSource
from tests.spiders.mock_successfactors_oracle import ORC_JOBS, TenantServer

PROJECT = Path(__file__).resolve().parents[2]
ORC_URL = "https://emje.fa.us6.oraclecloud.com/hcmUI/CandidateExperience/en/sites/BrightwaterJobs"
# name → (scenario served, the entry's keys besides name/kind/base_url)
ENTRIES: dict[str, tuple[str, dict[str, str]]] = {
    "sf-csb": (
        "sf-csb",
        {"url": "https://careers.brightwaterfoods.example/", "company": "Brightwater Foods"},
    ),
    "sf-rss": ("sf-rss", {"url": "https://careers.qorvo.com/"}),
    "sf-forbidden": ("sf-forbidden", {"url": "https://careers.forbidden.example/"}),
    "sf-html": ("sf-html", {"url": "https://careers.wall.example/"}),
    "sf-truncated": ("sf-truncated", {"url": "https://careers.cut.example/"}),
    "sf-legacy": (
        "sf-legacy",
        {
            "url": "https://career5.successfactors.eu/career?company=acmeP",
            "company": "Acme Polymers",
        },
    ),
    "orc-main": ("orc-main", {"url": ORC_URL, "company": "Brightwater Foods"}),
    "orc-breaks": (
        "orc-breaks",
        {"url": ORC_URL.replace("BrightwaterJobs", "SouthernJobs"), "company": "Southern Company"},
    ),
    "orc-nosite": ("orc-nosite", {"url": ORC_URL}),
    "orc-401": ("orc-401", {"url": ORC_URL, "site_number": "CX_1001"}),
    "orc-404": ("orc-404", {"url": ORC_URL, "site_number": "CX_1001"}),
    "orc-html": ("orc-html", {"url": ORC_URL, "site_number": "CX_1001"}),
    "orc-truncated": ("orc-truncated", {"url": ORC_URL, "site_number": "CX_1001"}),
}
ERRORS = {
    "sf-forbidden": "neither the Career Site Builder JSON search (HTTP 403) nor the RSS feed "
    "(HTTP 404) answers — check `url`",
    "sf-html": "expected JSON but got an HTML page titled 'Access Denied'",
    "sf-truncated": "truncated JSON",
    "orc-nosite": "the careers page names no site number: add `site_number`",
    "orc-401": "HTTP 401",
    "orc-404": "not found (404) — check `url` and `site_number`",
    "orc-html": "expected JSON but got an HTML page",
    "orc-truncated": "truncated JSON",
}
KEEP_ALL_PROFILE = "[include]\npatterns = ['\\w.*\\w']\n"
FAST = '{"AUTOTHROTTLE_ENABLED": false, "ANDON_RETRY_BACKOFF_BASE": 0.05}'


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, TenantServer]]:
    running = {name: TenantServer(scenario).__enter__() for name, (scenario, _) in ENTRIES.items()}
    yield running  # type: ignore[misc]  # the mock servers share a base class
    for server in running.values():
        server.__exit__(None, None, None)


def sources_toml(servers: dict[str, TenantServer]) -> str:
    blocks = []
    for name, (_, keys) in ENTRIES.items():
        lines = [
            "[[sources]]",
            f'name = "{name}"',
            f'kind = "{"oracle_rc" if name.startswith("orc") else "successfactors"}"',
            f'base_url = "{servers[name].url}"',
            "allow_private = true",
            *(f"{k} = {json.dumps(v)}" for k, v in keys.items()),
        ]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def andon(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ANDON_")}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        env={**base, **env, "PYTHONPATH": str(PROJECT)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def tracebacks(stderr: str) -> list[str]:
    """The tracebacks in a crawl's log, but for Scrapy's known race when it closes its HTTP
    connection pool under load (a timed `d.callback` on a Deferred already fired: scrapy#2653)."""
    blocks = stderr.split("Traceback (most recent call last):")[1:]
    return [b for b in blocks if "AlreadyCalledError" not in b.split("\n\n", 1)[0]]


def last_runs(db_url: str) -> dict[str, CrawlRun]:
    eng = db.make_engine(db_url)
    with db.session_scope(eng) as s:
        runs = {
            r.source: r for r in s.execute(select(CrawlRun).order_by(col(CrawlRun.id))).scalars()
        }
        s.expunge_all()
    eng.dispose()
    return runs


def sightings(db_url: str) -> dict[tuple[str, str], tuple[str, Posting]]:
    """(source, external id) → (the sighting's status, its posting)."""
    eng = db.make_engine(db_url)
    with db.session_scope(eng) as s:
        rows = s.execute(
            select(PostingSource, Posting).join(
                Posting, col(Posting.id) == col(PostingSource.posting_id)
            )
        ).all()
        out = {(ps.source, ps.external_id): (ps.status, posting) for ps, posting in rows}
        s.expunge_all()
    eng.dispose()
    return out


def test_two_crawls(tmp_path, servers, db_url):
    for server in servers.values():
        server.routes.round = 1
    (tmp_path / "sources.toml").write_text(sources_toml(servers))
    (tmp_path / "profile.toml").write_text(KEEP_ALL_PROFILE)
    env = {
        "ANDON_DATABASE_URL": db_url,
        "ANDON_SCRAPY_OVERRIDES": FAST,
        "ANDON_SOURCES": str(tmp_path / "sources.toml"),
        "ANDON_ROLE_PROFILE": str(tmp_path / "profile.toml"),
    }
    first = andon("crawl", cwd=tmp_path, env=env)
    assert first.returncode == 1, first.stderr[-3000:]  # the error sources fail, the rest land
    assert not tracebacks(first.stderr)
    check_first_crawl(db_url, first.stdout + first.stderr)
    listed = json.loads(
        andon("listings", "--format", "json", "--limit", "1000", cwd=tmp_path, env=env).stdout
    )
    assert len(listed) == 12 + 2 + 2 + 7 - 1 + 7  # one job is on the CSB and an Oracle site
    before = sightings(db_url)

    for server in servers.values():
        server.routes.round = 2
    second = andon("crawl", cwd=tmp_path, env=env)
    assert second.returncode == 1 and not tracebacks(second.stderr)
    check_second_crawl(db_url, before)


def check_first_crawl(db_url: str, output: str) -> None:
    runs = last_runs(db_url)
    for name, needle in ERRORS.items():
        run = runs[name]
        assert run.status == "failed" and needle in (run.message or ""), (name, run.message)
        assert needle in output
    expected = {"sf-csb": 12, "sf-rss": 2, "sf-legacy": 2, "orc-main": 7, "orc-breaks": 7}
    for name, count in expected.items():
        run = runs[name]
        assert (run.status, run.fetched, run.errors) == ("finished", count, 0), (name, run)
    seen = sightings(db_url)
    assert "INTERNAL ONLY" not in repr([p.__dict__ for _, p in seen.values()])

    _, csb = seen[("sf-csb", "successfactors:careers.brightwaterfoods.example:1187654302")]
    assert (csb.title, csb.company, csb.city, csb.region, csb.country) == (
        "Maintenance Technician",
        "Brightwater Foods",
        "Dayton",
        "US-OH",
        "US",
    )
    assert csb.posted_at.date().isoformat() == "2026-11-23"  # "11/23/26" in the search
    assert "second shift bakery lines" in csb.description_text
    assert csb.salary_min == 72000 and csb.salary_max == 88000
    _, rss = seen[("sf-rss", "successfactors:careers.qorvo.com:1397790900")]
    assert (rss.company, rss.title, rss.city) == (
        "Qorvo",
        "Principal Research Scientist",
        "Richardson",
    )
    assert rss.posted_at.isoformat().startswith("2026-10-02T07:00")
    _, legacy = seen[("sf-legacy", "successfactors:acmeP:40211")]
    assert (legacy.city, legacy.posted_at.date().isoformat()) == ("Dormagen", "2026-11-03")

    _, hatch = seen[("orc-main", "oracle_rc:emje.fa.us6.oraclecloud.com:16280")]
    assert hatch.url == ORC_URL + "/job/16280"
    assert "Supervise radiation protection technicians" in hatch.description_text
    assert (hatch.city, hatch.region, hatch.country) == ("Baxley", "US-GA", "US")
    # the job both sites list is one posting with two sightings
    _, on_orc = seen[("orc-main", "oracle_rc:emje.fa.us6.oraclecloud.com:21001")]
    _, on_sf = seen[("sf-csb", "successfactors:careers.brightwaterfoods.example:1187654311")]
    assert on_orc.id == on_sf.id and on_sf.title == "Production Manager"
    assert {k[1] for k in seen if k[0] == "orc-main"} == {
        f"oracle_rc:emje.fa.us6.oraclecloud.com:{job[0]}" for job in ORC_JOBS
    }


def check_second_crawl(db_url: str, before: dict[tuple[str, str], tuple[str, Posting]]) -> None:
    runs = last_runs(db_url)
    for name in ("sf-csb", "sf-rss", "orc-main"):
        assert (runs[name].status, runs[name].new, runs[name].closed) == ("finished", 0, 0), name
    assert (runs["sf-legacy"].status, runs["sf-legacy"].closed) == ("finished", 1)
    broken = runs["orc-breaks"]
    assert broken.status in ("failed", "partial") and broken.closed == 0
    assert "expected JSON but got an HTML page" in (broken.message or "")
    after = sightings(db_url)
    assert {k: v[1].id for k, v in after.items()} == {k: v[1].id for k, v in before.items()}
    closed = {k for k, (status, _) in after.items() if status == "closed"}
    assert closed == {("sf-legacy", "successfactors:acmeP:40212")}
    assert after[("sf-legacy", "successfactors:acmeP:40212")][1].status == "closed"
    assert all(p.status == "open" for k, (_, p) in after.items() if k[0] == "orc-breaks")
