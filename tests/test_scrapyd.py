"""Crawls on two real Scrapyd nodes (loopback): dispatch to the least busy node, each source once
per schedule, a node killed mid-crawl gives a failed run that closes nothing, and the next run of
that source goes to the live node. PostgreSQL, as a multi-machine deployment would use."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

import cli
from config import Settings
from db import session_scope
from pipeline.models import CrawlRun, Posting
from runtime import plan as planning
from runtime import scrapyd as scrapyd_mod
from runtime import slots
from scheduler import Scheduler
from tests.waiting import JobsDone, Proc

PROJECT = Path(__file__).resolve().parents[1]
BOARD = (
    PROJECT / "tests/fixtures/greenhouse/careerkit_amplitude_jobs_content_true.json"
).read_bytes()
FAST = ["gh-a", "gh-b", "gh-c", "gh-d"]


class Boards:
    """Greenhouse boards on loopback; the board `slow` answers only once released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.slow_asked = threading.Event()
        boards = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if "/boards/slow/" in self.path:
                    boards.slow_asked.set()
                    if not boards.release.wait(300):
                        return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(BOARD)))
                self.end_headers()
                self.wfile.write(BOARD)

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Node:
    """One Scrapyd process in its own folder and process group, running this checkout."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        root.mkdir()
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (root / "scrapyd.conf").write_text(
            f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {self.port}\npoll_interval = 0.5\n"
            "max_proc = 4\nlogs_dir = logs\neggs_dir = eggs\ndbs_dir = dbs\n"
        )
        (root / "scrapy.cfg").write_text((PROJECT / "scrapy.cfg").read_text())
        self.proc = Proc(
            [sys.executable, "-m", "scrapyd"], env, root, merge=True, start_new_session=True
        )
        self.proc.wait_for(f"Site starting on {self.port}", timeout=60)  # twistd is listening

    def kill(self) -> None:
        """The machine goes away: Scrapyd and its crawl processes, at once."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.popen.pid, signal.SIGKILL)
        self.proc.popen.wait(30)


@pytest.fixture
def boards() -> Iterator[Boards]:
    b = Boards()
    yield b
    b.close()


def _runs(engine: Any) -> list[CrawlRun]:
    with session_scope(engine) as session:
        return list(session.execute(select(CrawlRun).order_by(col(CrawlRun.id))).scalars())


def test_crawls_on_two_scrapyd_nodes(engine, tmp_path, boards, db_url, monkeypatch):
    if not db_url.startswith("postgresql"):
        pytest.skip("Scrapyd nodes share one PostgreSQL database")
    sources = tmp_path / "sources.toml"
    sources.write_text(
        "".join(
            f'[[sources]]\nname = "{name}"\nkind = "greenhouse"\nboard = "{board}"\n'
            f'base_url = "{boards.url}"\nallow_private = true\nschedule = "every 6h"\n\n'
            for name, board in [*((n, n) for n in FAST), ("slow", "slow")]
        )
    )
    overrides = {"ROBOTSTXT_OBEY": False, "DOWNLOAD_DELAY": 0, "DOWNLOAD_TIMEOUT": 600}
    base = {k: v for k, v in os.environ.items() if not k.startswith("ANDON_")}
    env = {
        **base,
        "ANDON_DATABASE_URL": db_url,
        "ANDON_SOURCES": str(sources),
        "ANDON_SECRET_KEY": "k",
        "ANDON_SCRAPY_OVERRIDES": json.dumps(overrides),
        "PYTHONPATH": str(PROJECT),
    }
    nodes = [Node(tmp_path / "node1", env), Node(tmp_path / "node2", env)]
    try:
        _scenario(engine, tmp_path, boards, db_url, sources, nodes, monkeypatch)
    finally:
        for node in nodes:
            node.kill()


def _scenario(engine, tmp_path, boards, db_url, sources, nodes, monkeypatch) -> None:
    monkeypatch.setattr(planning, "STARTUP_DELAY", timedelta(0))
    monkeypatch.setattr(planning, "STAGGER", timedelta(seconds=1))
    monkeypatch.setattr(scrapyd_mod, "LOST_AFTER_S", 3.0)
    monkeypatch.setattr(scrapyd_mod.ScrapydLauncher, "poll_s", 0.5)
    settings = Settings(
        database_url=db_url, sources=sources, outbox=tmp_path / "outbox", secret_key="k",
        scrapyd_urls=",".join(n.url for n in nodes),
    )  # fmt: skip
    sched = Scheduler(settings, engine, sources_path=sources, digests=lambda *a, **k: None)
    dispatched: list[tuple[str, str]] = []
    launch = sched.launcher.launch

    def recording_launch(source: Any, timeout_s: float) -> Any:
        handle = launch(source, timeout_s)
        dispatched.append((source.name, handle.node))  # type: ignore[arg-type]  # stored rows: set
        return handle

    sched.launcher.launch = recording_launch  # type: ignore[method-assign]
    crawls = JobsDone(sched.aps)  # each crawl job ends after its run is on record
    sched.start()
    try:
        # every fast source finishes once; the slow one is in flight on some node
        crawls.until(
            lambda: sorted(r.source for r in _runs(engine) if r.status == "finished") == FAST,
            "the fast sources' crawls",
        )
        assert boards.slow_asked.wait(120)
        assert sorted(name for name, _ in dispatched) == sorted([*FAST, "slow"]), (
            dispatched,
            [(r.source, r.status, r.finish_reason, r.message) for r in _runs(engine)],
        )
        assert {node for _, node in dispatched} == {n.url for n in nodes}  # both nodes used
        (slow_node,) = [node for name, node in dispatched if name == "slow"]
        lines = "\n".join(cli.schedule_lines(settings, engine))
        assert f"scrapyd {slow_node}: slow" in lines

        # the node running `slow` goes away mid-crawl
        dead = next(n for n in nodes if n.url == slow_node)
        live = next(n for n in nodes if n.url != slow_node)
        dead.kill()
        run = crawls.until(
            lambda: next(
                (r for r in _runs(engine) if r.source == "slow" and r.status == "failed"), None
            ),
            "the lost crawl's failed run",
        )
        assert run.finish_reason == "lost"
        assert run.closed == 0
        with session_scope(engine) as session:
            assert not session.execute(
                select(Posting).where(col(Posting.status) == "closed")
            ).first()
        # each source ran once in this schedule: the next runs are a whole interval away
        now = datetime.now(UTC)
        for name in [*FAST, "slow"]:
            assert sched.aps.get_job(f"crawl:{name}").next_run_time >= now + timedelta(hours=5)
        assert len(_runs(engine)) == 5
        assert slots.all_slots(engine) == []

        # at its next due time `slow` goes to the live node and finishes there
        boards.release.set()
        sched.aps.modify_job("crawl:slow", next_run_time=datetime.now(UTC))
        crawls.until(
            lambda: any(r.source == "slow" and r.status == "finished" for r in _runs(engine)),
            "the re-dispatched crawl",
        )
        assert dispatched[-1] == ("slow", live.url)
    finally:
        sched.stop()
