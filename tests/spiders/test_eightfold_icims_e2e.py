"""`andon crawl` of Eightfold and iCIMS boards as a user runs it: Scrapy's real downloader against
loopback servers, the whole pipeline, SQLite and PostgreSQL, checked with `andon listings`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

import db
from pipeline.models import CrawlRun, Posting
from tests.spiders.mock_eightfold_icims import AtsServer

PROJECT = Path(__file__).resolve().parents[2]
SCENARIOS = ("garmin", "capped", "keysight", "denied", "gone", "html", "truncated")

# `{server}` is replaced by the loopback URL of that scenario's server.
SOURCES = """
[[sources]]
name = "ef-albemarle"
kind = "eightfold"
url = "https://albemarle.eightfold.ai/careers"
domain = "albemarle.com"
company = "Albemarle"
base_url = "{garmin}"

[[sources]]
name = "ef-packco"
kind = "eightfold"
url = "https://careers.packco.example/careers?domain=packco.com"
company = "Packco"
base_url = "{garmin}"

[[sources]]
name = "ef-401"
kind = "eightfold"
url = "https://denied.eightfold.ai/careers"
domain = "denied.com"
base_url = "{garmin}"

[[sources]]
name = "ef-404"
kind = "eightfold"
url = "https://gone.eightfold.ai/careers"
domain = "gone.com"
base_url = "{garmin}"

[[sources]]
name = "ef-html"
kind = "eightfold"
url = "https://htmlwall.eightfold.ai/careers"
domain = "htmlwall.com"
base_url = "{garmin}"

[[sources]]
name = "ef-truncated"
kind = "eightfold"
url = "https://truncated.eightfold.ai/careers"
domain = "truncated.com"
base_url = "{garmin}"

[[sources]]
name = "ef-short"
kind = "eightfold"
url = "https://short.eightfold.ai/careers"
domain = "short.com"
company = "Short"
base_url = "{garmin}"

[[sources]]
name = "ef-both-403"
kind = "eightfold"
url = "https://bothdenied.eightfold.ai/careers"
domain = "bothdenied.com"
base_url = "{garmin}"

[[sources]]
name = "ic-garmin"
kind = "icims"
url = "https://careers.garmin.com"
company = "Garmin"
base_url = "{garmin}"

[[sources]]
name = "ic-wipfli"
kind = "icims"
url = "https://careers-wipfli.icims.com/jobs/search"
company = "Wipfli"
base_url = "{garmin}"

[[sources]]
name = "ic-keysight"
kind = "icims"
url = "https://jobs.keysight.com"
company = "Keysight"
base_url = "{keysight}"

[[sources]]
name = "ic-capped"
kind = "icims"
url = "https://careers.capped.example"
company = "Garmin"
base_url = "{capped}"

[[sources]]
name = "ic-401"
kind = "icims"
url = "https://careers.denied.example"
base_url = "{denied}"

[[sources]]
name = "ic-404"
kind = "icims"
url = "https://careers.gone.example"
base_url = "{gone}"

[[sources]]
name = "ic-html"
kind = "icims"
url = "https://careers.htmlwall.example"
base_url = "{html}"

[[sources]]
name = "ic-truncated"
kind = "icims"
url = "https://careers.truncated.example"
base_url = "{truncated}"
"""

KEEP_ALL_PROFILE = """
[include]
patterns = ['\\w.*\\w']
"""
# Explicit overrides beat the kinds' politeness (Eightfold's 3 s): the loopback needs no pause.
FAST = '{"AUTOTHROTTLE_ENABLED": false, "DOWNLOAD_DELAY": 0, "ANDON_RETRY_BACKOFF_BASE": 0.05}'
OK_COUNTS = {"ef-albemarle": 4, "ef-packco": 3, "ic-garmin": 5, "ic-wipfli": 3, "ic-keysight": 2}
ERRORS = {
    "ef-401": "HTTP 401",
    "ef-404": "not found (404) — check `url` and `domain`",
    "ef-html": "expected JSON but got an HTML page",
    "ef-truncated": "truncated JSON",
    "ef-short": "pagination ended early",
    "ef-both-403": "HTTP 403",
    "ic-401": "HTTP 401",
    "ic-404": "(404) — check `url`",
    "ic-html": "expected JSON but got an HTML page",
    "ic-truncated": "truncated JSON",
    "ic-capped": "pagination ended early: page 2 is empty after 3 of 303",
}


def andon(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ANDON_")}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        env={**base, **env, "PYTHONPATH": str(PROJECT)},
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, AtsServer]]:
    with ExitStack() as stack:
        yield {name: stack.enter_context(AtsServer(name)) for name in SCENARIOS}  # type: ignore[misc]  # the mock servers share a base class


def setup_env(tmp_path: Path, servers: dict[str, AtsServer], db_url: str) -> dict[str, str]:
    text = SOURCES.format(**{name: s.url for name, s in servers.items()})
    text = text.replace("[[sources]]\n", "[[sources]]\nallow_private = true\n")
    (tmp_path / "sources.toml").write_text(text)
    (tmp_path / "profile.toml").write_text(KEEP_ALL_PROFILE)
    return {
        "ANDON_DATABASE_URL": db_url,
        "ANDON_SCRAPY_OVERRIDES": FAST,
        "ANDON_SOURCES": str(tmp_path / "sources.toml"),
        "ANDON_ROLE_PROFILE": str(tmp_path / "profile.toml"),
    }


def listings(tmp_path: Path, env: dict[str, str], *extra: str) -> list[dict[str, Any]]:
    res = andon("listings", "--format", "json", "--limit", "1000", *extra, cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def by_source(rows: list[dict[str, Any]]) -> Counter[str]:
    return Counter(s["source"] for row in rows for s in row["sources"])


def runs_of(db_url: str) -> dict[str, list[CrawlRun]]:
    eng = db.make_engine(db_url)
    runs: dict[str, list[CrawlRun]] = {}
    with db.session_scope(eng) as s:
        for run in s.execute(select(CrawlRun).order_by(col(CrawlRun.id))).scalars():
            s.expunge(run)
            runs.setdefault(run.source, []).append(run)
    eng.dispose()
    return runs


def detail_calls(server: AtsServer) -> int:
    return sum(
        1
        for _, path, _, _ in server.log
        if path.startswith(("/api/apply/v2/jobs/", "/api/pcsx/position_details"))
    )


def check_first_crawl(tmp_path: Path, env: dict[str, str], res: Any) -> list[dict[str, Any]]:
    out = res.stderr + res.stdout
    assert res.returncode == 1, out[-3000:]  # the error boards fail; the others land
    assert "Traceback" not in out
    for name, needle in ERRORS.items():
        lines = [line for line in out.splitlines() if f"{name} (" in line and needle in line]
        assert lines, (name, needle, out[-4000:])
    rows = listings(tmp_path, env)
    counts = by_source(rows)
    for name, count in OK_COUNTS.items():
        assert counts[name] == count, (name, counts)
    assert counts["ef-short"] == 2 and counts["ic-capped"] == 3  # kept, but closing nothing
    assert not {"ef-401", "ef-404", "ef-html", "ef-truncated", "ic-401", "ic-html"} & set(counts)
    return rows


def row(rows: list[dict[str, Any]], source: str, title: str) -> dict[str, Any]:
    [found] = [
        r for r in rows if r["title"] == title and source in {s["source"] for s in r["sources"]}
    ]
    return found


def check_fields(rows: list[dict[str, Any]]) -> None:
    planner = row(rows, "ef-albemarle", "Supply Planner, Bromine S&OP")
    assert planner["company"] == "Albemarle"
    assert planner["posted_at"] == "2026-08-04T00:00:00Z"
    assert planner["location"]["country"] == "US" and planner["location"]["city"] == "Charlotte"
    assert planner["url"] == "https://albemarle.eightfold.ai/careers/job/1099555326551"
    assert "S&OP cycle" in planner["description"]
    packaging = row(rows, "ef-packco", "Production Manager - Packaging")
    assert packaging["company"] == "Packco"
    assert packaging["location"]["region"] == "US-OH"
    assert packaging["url"] == "https://careers.packco.example/careers/job/563602813000101"
    supervisor = row(rows, "ic-garmin", "Production Supervisor - Avionics Assembly")
    assert supervisor["company"] == "Garmin"
    assert (
        supervisor["location"]["city"] == "Olathe" and supervisor["location"]["region"] == "US-KS"
    )
    assert supervisor["posted_at"] == "2026-06-20T13:40:00Z"
    assert supervisor["employment_type"] == "full_time"
    tax = row(rows, "ic-wipfli", "Payroll Tax Specialist")
    assert tax["company"] == "Wipfli" and tax["location"]["city"] == "Milwaukee"
    assert tax["url"] == "https://careers-wipfli.icims.com/jobs/8214/payroll-tax-specialist/job"


def test_crawl_eightfold_and_icims_then_again_then_a_job_closes(tmp_path, servers, db_url):
    env = setup_env(tmp_path, servers, db_url)
    main = servers["garmin"]
    before = detail_calls(main)
    rows = check_first_crawl(tmp_path, env, andon("crawl", cwd=tmp_path, env=env))
    check_fields(rows)
    # one detail per posting listed without a description: 3 of Albemarle's 4, all 3 of
    # Packco's, the 2 the short board served
    assert detail_calls(main) - before == 8

    again = andon("crawl", cwd=tmp_path, env=env)
    assert again.returncode == 1
    rows2 = listings(tmp_path, env)
    assert sorted((r["id"], r["title"]) for r in rows2) == sorted(
        (r["id"], r["title"]) for r in rows
    )
    # the capped board lists three of Garmin's jobs: one posting each, with both sources
    engineer = row(rows2, "ic-garmin", "Aircraft Systems Engineer 2 (Project Lead)")
    assert {s["source"] for s in engineer["sources"]} == {"ic-garmin", "ic-capped"}
    runs = runs_of(db_url)
    for name, count in OK_COUNTS.items():
        first, second = runs[name]
        assert (first.status, first.fetched, first.kept, first.errors) == (
            "finished",
            count,
            count,
            0,
        ), name
        assert first.new + first.merged == count, name  # merged: the capped board's copies
        # the second crawl sees every job again unchanged: kept, only last_seen_at moves
        unchanged = second.stats.get("andon/store/unchanged", 0)
        assert (second.new, second.closed, second.kept) == (0, 0, count), name
        assert second.updated + second.merged + unchanged == count, name
    for name, needle in ERRORS.items():
        last = runs[name][-1]
        assert last.status in ("failed", "partial") and last.closed == 0, name
        assert needle in (last.message or ""), (name, last.message)

    main.routes.round = 2  # Albemarle's plant manager job and Garmin's night-shift job close
    try:
        third = andon("crawl", cwd=tmp_path, env=env)
    finally:
        main.routes.round = 1
    assert third.returncode == 1
    runs = runs_of(db_url)
    assert runs["ef-albemarle"][-1].closed == 1 and runs["ic-garmin"][-1].closed == 1
    assert runs["ef-packco"][-1].closed == 0
    closed = {
        r["title"] for r in listings(tmp_path, env, "--include-closed") if r["status"] == "closed"
    }
    assert closed == {"Plant Manager, Lithium Hydroxide", "Manufacturing Supervisor - 3rd Shift"}
    eng = db.make_engine(db_url)
    with db.session_scope(eng) as s:
        open_ = s.execute(select(Posting).where(col(Posting.status) == "open")).scalars().all()
        assert len(open_) == len(rows) - 2  # the failed boards' postings stay open
    eng.dispose()


def test_an_eightfold_entry_without_domain_is_refused_at_load(tmp_path):
    (tmp_path / "sources.toml").write_text(
        '[[sources]]\nname = "ef"\nkind = "eightfold"\nurl = "https://albemarle.eightfold.ai/careers"\n'
    )
    env = {
        "ANDON_DATABASE_URL": f"sqlite:///{tmp_path / 'andon.db'}",
        "ANDON_SOURCES": str(tmp_path / "sources.toml"),
    }
    res = andon("crawl", cwd=tmp_path, env=env)
    assert res.returncode != 0
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    assert "`domain`" in lines[0] and "albemarle.com" in lines[0] and "'ef'" in lines[0]
