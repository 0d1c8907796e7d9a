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
