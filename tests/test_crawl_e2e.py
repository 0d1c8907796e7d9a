"""`andon crawl` as a user runs it: every kind, through Scrapy's real downloader, the whole
pipeline and a real database (SQLite and PostgreSQL), checked with `andon listings`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

import db
from pipeline.models import CrawlRun, Posting
from tests.spiders.mockserver import MockServer

PROJECT = Path(__file__).resolve().parents[1]

# One source of each kind (recorded responses) plus the error paths the issue names.
SOURCES = """
[[sources]]
name = "wd-hitachi"
kind = "workday"
url = "https://hitachi.wd1.myworkdayjobs.com/hitachi"
company = "Hitachi Energy"

[[sources]]
name = "sr-knight"
kind = "smartrecruiters"
company = "Knight"

[[sources]]
name = "gh-amplitude"
kind = "greenhouse"
board = "amplitude"

[[sources]]
name = "lever-idealist"
kind = "lever"
site = "idealistconsulting"
company = "Idealist Consulting"

[[sources]]
name = "lever-500"
kind = "lever"
site = "flaky"
company = "Idealist Consulting"

[[sources]]
name = "ashby-highlight"
kind = "ashby"
board = "HighlightTA"
company = "HighlightTA"

[[sources]]
name = "him-browse"
kind = "himalayas"

[[sources]]
name = "jsonld-careers"
kind = "jsonld"
start_urls = ["https://careers.acmefoods.example/careers"]
link_pattern = "/jobs/[a-z0-9-]+"

[[sources]]
name = "rss-atom"
kind = "rss"
feed = "https://careers.acmefoods.example/jobs.atom"

[[sources]]
name = "gh-404"
kind = "greenhouse"
board = "nosuchboard"

[[sources]]
name = "gh-429"
kind = "greenhouse"
board = "ratelimited"

[[sources]]
name = "gh-truncated"
kind = "greenhouse"
board = "truncated"
"""

# Keeps every title: the recorded boards are mostly not production jobs, and this test is about
# every kind reaching the database. An operator's own profile replaces the default like this.
KEEP_ALL_PROFILE = """
[include]
patterns = ['\\w.*\\w']
"""

FAST = '{"AUTOTHROTTLE_ENABLED": false, "DOWNLOAD_DELAY": 0, "ANDON_RETRY_BACKOFF_BASE": 0.05}'


def andon(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ANDON_")}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        env={**base, **env, "PYTHONPATH": str(PROJECT)},
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def server():
    with MockServer() as s:
        yield s


def _setup(tmp_path: Path, server: MockServer, db_url: str, profile: str | None) -> dict[str, str]:
    sources = SOURCES.replace(
        "[[sources]]\n", f'[[sources]]\nbase_url = "{server.url}"\nallow_private = true\n'
    )
    (tmp_path / "sources.toml").write_text(sources)
    env = {
        "ANDON_DATABASE_URL": db_url,
        "ANDON_SCRAPY_OVERRIDES": FAST,
        "ANDON_SOURCES": str(tmp_path / "sources.toml"),
    }
    if profile is not None:
        (tmp_path / "profile.toml").write_text(profile)
        env["ANDON_ROLE_PROFILE"] = str(tmp_path / "profile.toml")
    return env


def test_crawl_fills_the_database_from_every_kind_and_is_idempotent(tmp_path, server, db_url):
    env = _setup(tmp_path, server, db_url, KEEP_ALL_PROFILE)
    first = andon("crawl", cwd=tmp_path, env=env)
    assert first.returncode == 1, first.stderr  # the error sources fail; the others still land
    assert "Traceback" not in first.stderr
    for needle in ("board 'nosuchboard' not found (404)", "truncated JSON", "lever-500"):
        assert needle in first.stderr + first.stdout
    res = andon("listings", "--format", "json", "--limit", "1000", cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    listed = json.loads(res.stdout)
    kinds = {s["source"] for row in listed for s in row["sources"]}
    assert kinds >= {
        "wd-hitachi",
        "sr-knight",
        "gh-amplitude",
        "lever-idealist",
        "lever-500",
        "ashby-highlight",
        "him-browse",
        "jsonld-careers",
        "rss-atom",
        "gh-429",
    }
    assert all(row["status"] == "open" and row["first_seen_at"].endswith("Z") for row in listed)

    second = andon("crawl", cwd=tmp_path, env=env)
    assert second.returncode == 1
    again = json.loads(
        andon("listings", "--format", "json", "--limit", "1000", cwd=tmp_path, env=env).stdout
    )
    assert sorted(r["id"] for r in again) == sorted(r["id"] for r in listed)
    assert all(
        r["sources"] == o["sources"]
        for r, o in zip(
            sorted(again, key=lambda r: r["id"]), sorted(listed, key=lambda r: r["id"]), strict=True
        )
    )

    eng = db.make_engine(db_url)
    with db.session_scope(eng) as s:
        runs: dict[str, list[CrawlRun]] = {}
        for run in s.execute(select(CrawlRun).order_by(col(CrawlRun.id))).scalars():
            runs.setdefault(run.source, []).append(run)
        assert len(runs["gh-amplitude"]) == 2
        first_run, second_run = runs["gh-amplitude"]
        assert (first_run.status, first_run.fetched, first_run.errors) == ("finished", 2, 0)
        # gh-429 serves the same two jobs after its Retry-After; whichever of the two sources
        # stores them first has them new, and the other's copies merge into those postings
        first_429 = runs["gh-429"][0]
        assert first_run.new + first_run.merged == 2
        assert first_run.new + first_429.new == 2
        # the re-crawl's items are unchanged: kept and seen, but only their last_seen_at moved
        assert (second_run.new, second_run.updated, second_run.kept, second_run.closed) == (
            0,
            0,
            2,
            0,
        )
        assert second_run.stats["andon/store/unchanged"] == 2
        bad = runs["gh-404"][-1]
        assert bad.status == "failed" and "404" in bad.message
        assert runs["gh-429"][-1].status == "finished"  # Retry-After honoured, then 200
        assert s.execute(select(Posting).where(col(Posting.status) == "closed")).first() is None
    eng.dispose()


def test_default_profile_keeps_production_roles_and_counts_drops(tmp_path, server):
    db_url = f"sqlite:///{tmp_path / 'andon.db'}"
    env = _setup(tmp_path, server, db_url, None)
    assert andon("init", cwd=tmp_path, env=env).returncode == 0
    andon("crawl", "wd-hitachi", "gh-amplitude", "jsonld-careers", cwd=tmp_path, env=env)
    listed = json.loads(andon("listings", "--format", "json", cwd=tmp_path, env=env).stdout)
    titles = {r["title"] for r in listed}
    assert "Production Manager Transformer Factory" in titles
    assert not any("Engineer" in t for t in titles)  # Amplitude's software jobs are dropped
    eng = db.make_engine(db_url)
    with db.session_scope(eng) as s:
        amplitude = s.execute(
            select(CrawlRun).where(col(CrawlRun.source) == "gh-amplitude")
        ).scalar_one()
        assert amplitude.dropped == 2 and amplitude.kept == 0
        assert any(k.startswith("andon/relevance/dropped/") for k in amplitude.stats)
    eng.dispose()
