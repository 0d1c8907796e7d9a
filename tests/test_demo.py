"""`andon demo` end to end, as a newcomer runs it: in a temp folder, offline, checked by its outputs."""

from __future__ import annotations

import email
import os
import re
import socket
import subprocess
import sys
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import col

import db
from demo.runner import MARKER, DemoError, prepare_folder
from pipeline.models import Posting, PostingSource

PROJECT = Path(__file__).resolve().parents[1]

# What each example subscriber's digest must hold, and what it must not.
EXPECTED = {
    "dana.kowalski@example.com": (
        [
            "Plant Manager\n   Volta Drive Systems",
            "Plant Manager\n   Maple Ridge Foods",
            "Plant Manager\n   Great Lakes Stamping",
            "Production Manager - Press Shop",
            "Production Manager - E-Motor Assembly",
        ],
        # below the $100k minimum; a supervisor title; out of range (Texas)
        ["Production Manager - Bakery", "Production Supervisor - Weld", "Cultured Dairy"],
    ),
    "luis.herrera@example.com": (
        [
            "Production Supervisor - 2nd Shift",
            "Production Manager - Cultured Dairy",
            "Production Supervisor - Tortilla Lines",
            "Production Supervisor - Snacks",
        ],
        ["Plant Manager", "Video Production Manager", "Sanitation Supervisor"],
    ),
    "katrin.vogel@example.com": (
        ["Director of Manufacturing Operations", "Head of Production"],
        ["Production Shift Supervisor", "Software Production Engineer"],
    ),
}


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "status").read_text()
        except OSError:
            continue
        if text in cmdline and "State:\tZ" not in state:
            found.append(f"{proc.name}: {cmdline}")
    return found


@pytest.fixture(scope="module")
def demo_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    cwd = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANDON_")}
    # a caller's mail settings must never reach the demo
    env.update(
        {
            "ANDON_MAILER": "sendgrid",
            "ANDON_OUTBOX": str(cwd / "not-here"),
            "PYTHONPATH": str(PROJECT),
        }
    )
    res = subprocess.run(
        [sys.executable, "-m", "cli", "demo", "--dir", "tmp"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    return res, cwd / "tmp"


def test_the_demo_runs_and_prints_its_summary(demo_run):
    res, folder = demo_run
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    for needle in (
        "crawled",
        "kept",
        "dropped",
        "merged",
        "digests sent",
        "Where to look",
        str(folder),
    ):
        assert needle in res.stdout
    for kind in (
        "workday",
        "smartrecruiters",
        "greenhouse",
        "lever",
        "ashby",
        "himalayas",
        "jsonld",
        "rss",
    ):
        assert re.search(rf"│ {kind}\s+│ +\d+ │ +\d+ │", res.stdout), kind
    assert "finished" in res.stdout
    assert " failed " not in res.stdout
    assert (folder / MARKER).exists()
    assert not (folder.parent / "not-here").exists()


def _digests(folder: Path) -> dict[str, EmailMessage]:
    out = {}
    for path in sorted((folder / "outbox").glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        out[str(msg["To"])] = msg
    return out


def test_each_subscriber_gets_a_digest_with_the_expected_jobs(demo_run):
    _, folder = demo_run
    digests = _digests(folder)
    assert set(digests) == set(EXPECTED)
    for address, (wanted, unwanted) in EXPECTED.items():
        msg = digests[address]
        assert msg["List-Unsubscribe"]
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
        html = msg.get_body(("html",)).get_content()
        for title in wanted:
            assert title in text, (address, title)
            assert title.split("\n")[0] in html
        for title in unwanted:
            assert title not in text, (address, title)
    # the same job on Greenhouse and on Himalayas went out once, credited to Himalayas' terms
    assert (
        "via Himalayas" in digests["dana.kowalski@example.com"].get_body(("plain",)).get_content()
    )


def test_each_digest_is_also_an_html_page(demo_run):
    _, folder = demo_run
    pages = sorted((folder / "digests").glob("*.html"))
    assert [p.name.split("-")[0] for p in pages] == [
        "dana.kowalski",
        "katrin.vogel",
        "luis.herrera",
    ]
    for page in pages:
        body = page.read_text()
        assert body.lstrip().lower().startswith(("<!doctype html", "<html"))
        assert "Unsubscribe" in body or "unsubscribe" in body
    assert "Head of Production" in (folder / "digests" / pages[1].name).read_text()


def test_the_demo_database_shows_dedup_and_drops(demo_run):
    _, folder = demo_run
    engine = db.make_engine(f"sqlite:///{folder / 'andon.db'}")
    try:
        with db.session_scope(engine) as session:
            titles = session.execute(select(col(Posting.title))).scalars().all()
            planning = session.execute(
                select(func.count())
                .select_from(PostingSource)
                .join(Posting, col(Posting.id) == col(PostingSource.posting_id))
                .where(col(Posting.title) == "Production Planning Manager")
            ).scalar_one()
            plant_lansing = session.execute(
                select(func.count())
                .select_from(PostingSource)
                .where(PostingSource.url.like("%plant-manager-lansing"))
            ).scalar_one()
    finally:
        engine.dispose()
    assert titles.count("Production Planning Manager") == 1
    assert planning == 2  # Greenhouse and Himalayas
    assert plant_lansing == 2  # the JSON-LD page and the RSS item
    for dropped in (
        "Video Production Manager",
        "Software Production Engineer",
        "Post-Production Manager",
    ):
        assert dropped not in titles


def test_the_demo_leaves_no_process_and_no_server_behind(demo_run):
    res, folder = demo_run
    assert _processes_mentioning(str(folder)) == []
    port = int(re.search(r"http://127\.0\.0\.1:(\d+)", res.stderr).group(1))
    with socket.socket() as sock:
        sock.settimeout(2)
        assert sock.connect_ex(("127.0.0.1", port)) != 0  # the server is gone


def test_the_demo_never_imports_from_tests():
    for path in (PROJECT / "demo").rglob("*.py"):
        assert not re.search(r"^\s*(from|import) tests\b", path.read_text(), re.MULTILINE), path


def test_the_demo_refuses_to_wipe_a_folder_it_did_not_make(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(DemoError, match="not an andon demo folder"):
        prepare_folder(tmp_path)
    assert (tmp_path / "precious.txt").exists()
    ours = tmp_path / "demo"
    prepare_folder(ours)
    (ours / "old.eml").write_text("from a previous run")
    prepare_folder(ours)  # a demo folder is wiped and recreated
    assert sorted(p.name for p in ours.iterdir()) == [MARKER]


def test_the_printed_serve_command_opens_the_demo_emails_links(demo_run, monkeypatch, tmp_path):
    import shlex
    import warnings
    from urllib.parse import urlsplit

    from starlette.exceptions import StarletteDeprecationWarning

    from config import load_settings
    from web.app import create_app

    with warnings.catch_warnings():  # as tests/web/conftest.py: the project pins httpx
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from fastapi.testclient import TestClient

    res, folder = demo_run
    [line] = [ln.strip() for ln in res.stdout.splitlines() if "uv run andon serve" in ln]
    words = shlex.split(line)
    # an exported ANDON_SECRET_KEY would win over the demo's key file: the command unsets it
    assert words[:3] == ["env", "-u", "ANDON_SECRET_KEY"]
    env = dict(w.split("=", 1) for w in words[3:] if w.startswith("ANDON_"))
    port = words[words.index("--port") + 1]
    assert env["ANDON_BASE_URL"] == f"http://127.0.0.1:{port}" and port != "8000"
    assert env["ANDON_SECRET_KEY_FILE"] == str(folder / ".andon-secret")
    text = _digests(folder)["dana.kowalski@example.com"].get_body(("plain",)).get_content()
    links = re.findall(r"https?://\S+/(?:manage|unsubscribe)/\S+", text)
    assert links and all(link.startswith(env["ANDON_BASE_URL"] + "/") for link in links)

    # `andon serve` with exactly those settings, from another folder (no stray key file there)
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("ANDON_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("ANDON_SECRET_KEY", "a-key-the-command-unsets")
    monkeypatch.delenv("ANDON_SECRET_KEY")  # what `env -u` does
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    engine = db.make_engine(settings.database_url)
    try:
        with TestClient(create_app(settings, engine)) as client:
            manage = next(link for link in links if "/manage/" in link)
            page = client.get(urlsplit(manage).path)
            assert page.status_code == 200, page.text
            assert "damaged" not in page.text
            assert "dana.kowalski@example.com" in page.text
    finally:
        engine.dispose()
