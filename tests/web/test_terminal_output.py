"""Terminal escapes never reach the operator: search names from the CLI and the web form are stored
clean, and `andon searches`, tables and log lines print no raw control characters."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

import db
from alerts.models import SavedSearch
from pipeline.sanitize import strip_controls
from pipeline.terminal import SafeConsole, install_log_sanitizing
from tests.web.conftest import subscribe

PROJECT = Path(__file__).resolve().parents[2]
# An OSC 8 hyperlink, a colour, a cursor move, U+202E, a C1 CSI and a bell.
EVIL = "\x1b]8;;https://evil.example\x07Plant\x1b]8;;\x07 \x1b[31mred\x1b[2J\u202eeman\x9b2J\x07"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def andon(*args: str, cwd: Path, db_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANDON_")}
    env |= {"ANDON_DATABASE_URL": db_url, "PYTHONPATH": str(PROJECT), "ANDON_OUTBOX": str(cwd)}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_names_with_escapes_are_stored_and_listed_clean(tmp_path, client, engine, db_url):
    cli = andon(
        "subscribe", "lee@example.com", "--query", "production", "--name", EVIL, "--confirmed",
        cwd=tmp_path, db_url=db_url,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert subscribe(client, name=EVIL, email="pat@example.com").status_code == 303
    with db.session_scope(engine) as s:
        names = list(s.execute(select(col(SavedSearch.name))).scalars())
    assert len(names) == 2 and all(not RAW.search(n) for n in names)
    assert all(n.startswith("]8;;https://evil.examplePlant") for n in names)
    listed = andon("searches", cwd=tmp_path, db_url=db_url)
    assert listed.returncode == 0, listed.stderr
    assert "lee@example.com" in listed.stdout and "pat@example.com" in listed.stdout
    assert not RAW.search(listed.stdout + listed.stderr)


def test_console_and_logs_strip_controls(capsys, caplog):
    console = SafeConsole(force_terminal=False, width=200)
    console.print(f"name: {EVIL}", highlight=False, markup=False)
    out = capsys.readouterr().out
    assert not RAW.search(out) and "red" in out
    install_log_sanitizing()
    install_log_sanitizing()  # twice is harmless
    with caplog.at_level(logging.INFO):
        logging.getLogger("andon.test").info("dropped %r and %s", "x", EVIL)
    assert not RAW.search(caplog.text) and "Plant" in caplog.text


def test_strip_controls_keeps_text_and_newlines_on_request():
    assert strip_controls("a\tb\nc\u202ed\x1b[0m") == "a b cd[0m"
    assert strip_controls("a\nb\x00", keep_newlines=True) == "a\nb"
    assert (
        strip_controls("Zoë Production Manager — 2nd shift") == "Zoë Production Manager — 2nd shift"
    )
