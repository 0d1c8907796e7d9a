"""The `andon` command as a user runs it: a real process, a fresh database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import db
from pipeline.store import store_batch
from tests.factories import posting

PROJECT = Path(__file__).resolve().parents[1]


def andon(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ANDON_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        env={**full_env, "PYTHONPATH": str(PROJECT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_init_then_listings_on_a_fresh_folder_prints_an_empty_array(tmp_path):
    first = andon("init", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "created" in first.stdout
    second = andon("init", cwd=tmp_path)
    assert second.returncode == 0 and "up to date" in second.stdout
    listed = andon("listings", "--format", "json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []


def test_second_init_changes_nothing(tmp_path):
    andon("init", cwd=tmp_path)

    def schema() -> object:
        if not _has_sqlite3():
            return (tmp_path / "andon.db").stat().st_size
        return subprocess.run(
            ["sqlite3", str(tmp_path / "andon.db"), ".schema"], capture_output=True, text=True
        ).stdout

    before = schema()
    andon("init", cwd=tmp_path)
    assert schema() == before


def _has_sqlite3() -> bool:
    from shutil import which

    return which("sqlite3") is not None


def test_commands_on_an_uninitialised_database_say_run_init(tmp_path):
    res = andon("listings", cwd=tmp_path)
    assert res.returncode == 1
    assert "andon init" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "andon.db").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["listings", "--since", "yesterday"], "--since"),
        (["listings", "--workplace", "moon"], "unknown workplace"),
        (["listings", "--format", "xml"], "--format"),
        (["listings", "title:(plant"], "bad query"),
        (["listings", "--within", "20"], "--within needs --location"),
    ],
)
def test_usage_mistakes_exit_2_with_one_line(tmp_path, args, needle):
    andon("init", cwd=tmp_path)
    res = andon(*args, cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert needle in res.stderr
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_unreachable_database_is_one_line_exit_1(tmp_path):
    res = andon(
        "listings",
        cwd=tmp_path,
        env={"ANDON_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"},
    )
    assert res.returncode == 1
    assert "cannot reach the database" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_listings_json_csv_and_table_show_stored_postings(tmp_path, db_url):
    env = {"ANDON_DATABASE_URL": db_url}
    eng = db.make_engine(db_url)
    with db.session_scope(eng) as s:
        store_batch(
            s,
            [
                posting(),
                posting(
                    external_id="2", url=None, title="Plant Manager", city="Toledo", region="US-OH"
                ),
            ],
        )
    eng.dispose()
    res = andon(
        "listings", "plant", "--location", "Toledo, OH", "--format", "json", cwd=tmp_path, env=env
    )
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert [r["title"] for r in rows] == ["Plant Manager"]
    csv_out = andon("listings", "--format", "csv", "--skill", "haccp", cwd=tmp_path, env=env).stdout
    assert csv_out.splitlines()[0].startswith("id,title,company")
    assert len(csv_out.strip().splitlines()) == 3
    table = andon("listings", "--limit", "5", cwd=tmp_path, env={**env, "COLUMNS": "200"})
    assert table.returncode == 0
    assert "Production Manager" in table.stdout and "Plant Manager" in table.stdout


def test_status_reports_counts(tmp_path):
    andon("init", cwd=tmp_path)
    res = andon("status", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "postings: 0 open, 0 closed" in res.stdout


@pytest.mark.parametrize(
    "command",
    [
        "init",
        "crawl",
        "listings",
        "subscribe",
        "searches",
        "unsubscribe",
        "digest",
        "run",
        "serve",
        "demo",
        "status",
    ],
)
def test_every_command_has_help(tmp_path, command):
    # Typer and Click have broken each other before; every command's --help must still render
    res = andon(command, "--help", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "Usage" in res.stdout


def test_help_shows_flags_bare_and_values_by_kind(tmp_path):
    for command in ("listings", "subscribe", "digest", "crawl"):
        res = andon(command, "--help", cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert "<bool>" not in res.stdout and "list[" not in res.stdout, res.stdout
        assert "<str>" not in res.stdout and "<float>" not in res.stdout
    digest = andon("digest", "--help", cwd=tmp_path).stdout
    assert [ln.split()[:2] for ln in digest.splitlines() if "--dry-run" in ln] == [
        ["--dry-run", "Show"]
    ]
    assert "--location TEXT" in andon("listings", "--help", cwd=tmp_path).stdout


def test_help_and_the_cli_module_import_nothing_heavy(tmp_path):
    # `andon --help` must answer fast: the database, ORM, Scrapy and the packages load lazily.
    probe = (
        "import sys, cli; heavy = {'sqlalchemy', 'sqlmodel', 'scrapy', 'db', 'config', 'pydantic',"
        " 'alerts', 'search', 'spiders', 'web', 'rich.console', 'typer.rich_utils'};"
        " print(sorted(heavy & set(sys.modules)))"
    )
    res = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT)}, timeout=60,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["listings", "--location", "Detriot, MI"], "Did you mean 'Detroit, MI'?"),
        (["listings", "--location", "Detriot, MI", "--within", "50"], "'Detroit, MI'"),
        (["listings", "--location", "48124"], "ZIP and postal codes"),
        (["listings", "--location", "<b>Toledo</b>"], "plain text"),
        (["listings", "--industry", "foods"], "known values are aerospace, automotive"),
        (["listings", "--skill", "juggling"], "unknown --skill 'juggling': known values are"),
    ],
)
def test_unknown_places_industries_and_skills_are_refused_with_what_is_known(
    tmp_path, args, needle
):
    andon("init", cwd=tmp_path)
    res = andon(*args, cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert needle in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_listings_table_shows_total_paging_hint_and_urls(tmp_path, db_url):
    env = {"ANDON_DATABASE_URL": db_url, "COLUMNS": "250"}
    eng = db.make_engine(db_url)
    with db.session_scope(eng) as s:
        store_batch(
            s,
            [
                posting(
                    external_id=str(i), title=f"Plant Manager {i}", url=f"https://jobs.example/{i}"
                )
                for i in range(3)
            ],
        )
    eng.dispose()
    first = andon("listings", "--limit", "2", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert "2 of 3 postings (1–2); more results: --offset 2" in first.stdout
    assert first.stdout.count("https://jobs.example/") == 2
    last = andon("listings", "--limit", "2", "--offset", "2", cwd=tmp_path, env=env)
    assert "1 of 3 postings (3–3)" in last.stdout and "more results" not in last.stdout
    as_json = andon("listings", "--limit", "2", "--format", "json", cwd=tmp_path, env=env)
    assert len(json.loads(as_json.stdout)) == 2  # the hint goes to stderr, the data stays clean
    assert "more results: --offset 2" in as_json.stderr


def test_status_shows_a_failed_source_as_failed_with_its_error(tmp_path, db_url):
    from pipeline.models import CrawlRun

    eng = db.make_engine(db_url)
    with db.session_scope(eng) as s:
        s.add(CrawlRun(source="acme", kind="workday", status="failed", errors=1,
                       message="acme: HTTP 404 from https://acme.example/jobs"))  # fmt: skip
    eng.dispose()
    res = andon("status", cwd=tmp_path, env={"ANDON_DATABASE_URL": db_url, "COLUMNS": "250"})
    assert res.returncode == 0, res.stderr
    [row] = [ln for ln in res.stdout.splitlines() if "acme" in ln and "workday" in ln]
    assert "failed: acme: HTTP 404 from https://acme.example/jobs" in row
    assert " ok " not in row


def test_the_listings_table_shows_a_bound_date_as_days_or_more():
    from datetime import UTC, datetime, timedelta

    from cli import posted_label

    month_ago = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    row = {"posted_at": month_ago, "posted_or_earlier": True, "first_seen_at": month_ago}
    assert posted_label(row) == "30+ days ago"
    assert posted_label({**row, "posted_or_earlier": False}) == month_ago[:10]
