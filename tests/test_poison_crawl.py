"""`andon crawl` of a 450-posting board holding poison postings stores every good one (both engines).

The poison: a lone surrogate escaped in the JSON (`\\ud800`), a NUL byte, a 5 KB title and a 2 MB
description of distinct words (a ~3 MB tsvector). Before storage cleaning, each of them lost its
whole batch of 200 postings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

import db
from pipeline.models import CrawlRun, PostingSource

PROJECT = Path(__file__).resolve().parents[1]
FAST = '{"AUTOTHROTTLE_ENABLED": false, "DOWNLOAD_DELAY": 0, "ROBOTSTXT_OBEY": false}'
POISON = {10: "surrogate", 20: "nul", 30: "long title", 40: "huge description"}


def job(n: int) -> dict[str, object]:
    title = f"Production Manager {n}"
    content = f"<p>Lead shift {n} of the bottling line at plant {n}.</p>"
    if POISON.get(n) == "surrogate":
        title = f"Production Manager {n} \ud800"
    elif POISON.get(n) == "nul":
        content = f"<p>Lead shift {n}\x00 of the line.</p>"
    elif POISON.get(n) == "long title":
        title = f"Production Manager {n} " + "W" * 5000
    elif POISON.get(n) == "huge description":
        content = "<p>" + " ".join(f"w{k:x}" for k in range(250_000)) + "</p>"
    return {
        "id": 1000 + n,
        "title": title,
        "company_name": "Acme Foods",
        "absolute_url": f"https://job-boards.greenhouse.io/acme/jobs/{1000 + n}",
        "location": {"name": "Detroit, MI"},
        "updated_at": "2026-11-20T08:00:00-05:00",
        "content": content.replace("<", "&lt;").replace(">", "&gt;"),
    }


@pytest.fixture(scope="module")
def board() -> Iterator[str]:
    # json.dumps writes the lone surrogate as the escape `\ud800`, as the probe's JSON had it
    body = json.dumps({"jobs": [job(n) for n in range(450)]}).encode()
    assert b"\\ud800" in body and b"\\u0000" in body

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_every_good_posting_is_stored(tmp_path, board, db_url):
    (tmp_path / "sources.toml").write_text(
        f'[[sources]]\nname = "acme"\nkind = "greenhouse"\nboard = "acme"\n'
        f'base_url = "{board}"\nallow_private = true\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANDON_")}
    env |= {
        "ANDON_DATABASE_URL": db_url,
        "ANDON_SOURCES": str(tmp_path / "sources.toml"),
        "ANDON_SCRAPY_OVERRIDES": FAST,
        "PYTHONPATH": str(PROJECT),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "cli", "crawl"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    engine = db.make_engine(db_url)
    with db.session_scope(engine) as s:
        stored = set(s.execute(select(col(PostingSource.external_id))).scalars())
        (run,) = s.execute(select(CrawlRun)).scalars().all()
        status, errors = run.status, run.errors
    engine.dispose()
    good = {f"greenhouse:acme:{1000 + n}" for n in range(450) if n not in POISON}
    assert good <= stored
    assert (status, errors) == ("finished", 0)
