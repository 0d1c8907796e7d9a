"""`andon crawl` stops on SIGTERM within seconds and stores what it crawled; a crawl child stops
at its own time limit and when its parent dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from db import session_scope
from pipeline.models import CrawlRun, Posting
from spiders.guard import interruptible
from tests.waiting import process_exit

PROJECT = Path(__file__).resolve().parents[2]
FIXTURES = PROJECT / "tests" / "fixtures" / "jsonld"

LISTING = b"""<!DOCTYPE html><html><body><ul>
<li><a href="/jobs/pm-1042-dairy-plant">Production Manager</a></li>
<li><a href="/jobs/ss-2210-packaging">Shift Supervisor</a></li>
<li><a href="/jobs/hangs-forever">Plant Manager</a></li>
</ul></body></html>"""


class Board:
    """A loopback careers site: a listing, two job pages, and one job page that never answers."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.hanging = threading.Event()  # set once the crawler waits on the hanging page
        board = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                page = {
                    "/careers": LISTING,
                    "/jobs/pm-1042-dairy-plant": (
                        FIXTURES / "handmade_acme_foods_job_production_manager.html"
                    ).read_bytes(),
                    "/jobs/ss-2210-packaging": (
                        FIXTURES / "handmade_acme_foods_job_shift_supervisor.html"
                    ).read_bytes(),
                }.get(self.path)
                if self.path == "/jobs/hangs-forever":
                    board.hanging.set()
                    board.release.wait(120)
                    return
                if page is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def board() -> Iterator[Board]:
    b = Board()
    yield b
    b.close()


def _setup(tmp_path: Path, board: Board, db_url: str) -> dict[str, str]:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[[sources]]\nname = "acme-careers"\nkind = "jsonld"\n'
        f'start_urls = ["{board.url}/careers"]\nlink_pattern = "/jobs/[a-z0-9-]+"\n'
        "allow_private = true\n"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("ANDON_")}
    env = {
        **base,
        "ANDON_DATABASE_URL": db_url,
        "ANDON_SOURCES": str(sources),
        "ANDON_SECRET_KEY": "k",
        # a download that hangs would hold a graceful Scrapy stop for ten minutes
        "ANDON_SCRAPY_OVERRIDES": (
            '{"DOWNLOAD_TIMEOUT": 600, "ROBOTSTXT_OBEY": false, "DOWNLOAD_DELAY": 0, '
            '"ANDON_STORE_MAX_DELAY": 600}'
        ),
        "PYTHONPATH": str(PROJECT),
    }
    return env


def _wait(event: threading.Event, what: str, timeout: float = 60) -> None:
    assert event.wait(timeout), what


def test_sigterm_stops_andon_crawl_within_seconds_and_stores_what_it_has(
    engine, tmp_path, board, db_url
):
    env = _setup(tmp_path, board, db_url)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "crawl"], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait(board.hanging, "the crawl never reached the hanging page")
        proc.send_signal(signal.SIGTERM)
        # without the guard the crawl waits for the hanging page (DOWNLOAD_TIMEOUT is 600 s)
        _, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, err  # a stopped crawl is not a clean one
    with session_scope(engine) as session:
        titles = sorted(p.title for p in session.execute(select(Posting)).scalars())
        (run,) = session.execute(select(CrawlRun)).scalars()
    assert "Production Manager" in " ".join(titles)  # the buffered batch was written
    assert run.status == "partial"
    assert run.finish_reason == "shutdown"
    assert run.closed == 0


def test_a_crawl_child_stops_at_its_own_time_limit(engine, tmp_path, board, db_url):
    env = _setup(tmp_path, board, db_url)
    cmd = [sys.executable, "-m", "spiders.runner", "--time-limit", "3"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    with session_scope(engine) as session:
        (run,) = session.execute(select(CrawlRun)).scalars()
        kept = session.execute(select(Posting)).scalars().all()
    assert run.finish_reason == "timeout"
    assert run.status == "partial"
    assert kept


def test_a_crawl_child_stops_when_its_parent_dies(engine, tmp_path, board, db_url):
    env = _setup(tmp_path, board, db_url)
    pid_file = tmp_path / "child.pid"
    # a parent that starts the crawl, says its child's pid and then waits to be killed
    parent = subprocess.Popen(
        [
            sys.executable, "-c",
            "import os, subprocess, sys, threading\n"
            "child = subprocess.Popen([sys.executable, '-m', 'spiders.runner', '--parent-pid',"
            " str(os.getpid())], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,"
            " start_new_session=True)\n"
            f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
            "threading.Event().wait(300)\n",
        ],
        cwd=tmp_path, env=env,
    )  # fmt: skip
    try:
        _wait(board.hanging, "the crawl never reached the hanging page")
        child = int(pid_file.read_text())
        parent.kill()
        parent.wait()
        assert process_exit(child, 90)
    finally:
        if parent.poll() is None:
            parent.kill()
    with session_scope(engine) as session:
        (run,) = session.execute(select(CrawlRun)).scalars()
    assert run.finish_reason == "orphaned"
    assert run.status == "partial"


def test_only_our_crawl_steps_are_interrupted() -> None:
    def frame_of(module: str):
        scope: dict[str, object] = {"__name__": module, "sys": sys}
        exec("def f():\n    return sys._getframe()\n", scope)
        return scope["f"]()

    assert interruptible(frame_of("pipeline.relevance"))
    assert interruptible(frame_of("spiders.jsonld"))
    assert not interruptible(frame_of("pipeline.store"))
    assert not interruptible(frame_of("twisted.internet.asyncioreactor"))
    assert not interruptible(frame_of("db"))
