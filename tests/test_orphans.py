"""Crawls outliving their scheduler: the child dies with its parent, and the next leader ends
what a dead leader left running and records it failed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

from db import session_scope, utcnow
from pipeline.models import CrawlRun
from runtime import slots
from runtime.local import LocalLauncher
from runtime.orphans import end_orphans
from spiders.sources import load_sources
from tests.spiders.test_crawl_stop import Board, _setup
from tests.test_scheduler import make_settings
from tests.waiting import Proc, process_exit, read_fifo

PROJECT = Path(__file__).resolve().parents[1]

# A crawl stuck where no handler runs: it ignores SIGTERM, and so does its grandchild
STUBBORN = """
import signal, subprocess, sys, threading
signal.signal(signal.SIGTERM, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c",
    "import signal, threading; signal.signal(signal.SIGTERM, signal.SIG_IGN); threading.Event().wait(300)"])
open(sys.argv[1], "w").write(str(grandchild.pid))
threading.Event().wait(300)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


def test_the_next_leader_ends_a_dead_leaders_crawl_and_records_it_failed(engine, tmp_path, db_url):
    path = tmp_path / "sources.toml"
    path.write_text('[[sources]]\nname = "stuck"\nkind = "greenhouse"\nboard = "acme"\n')
    settings = make_settings(db_url, tmp_path, path)
    (source,) = load_sources(path)
    pid_file = tmp_path / "grandchild.pid"
    os.mkfifo(pid_file)  # the crawl writes its grandchild's pid here; the test waits on the pipe
    old = LocalLauncher(
        settings, engine, sources_path=path, leader="elsewhere:999999:dead",
        command=[sys.executable, "-c", STUBBORN, str(pid_file)],
    )  # fmt: skip
    handle = old.launch(source, timeout_s=3600)
    child = handle.ref.pid
    written = read_fifo(pid_file, 60)
    assert written, "the crawl's grandchild never started"
    grandchild = int(written)
    with session_scope(engine) as session:  # what the crawl had recorded before it got stuck
        session.add(CrawlRun(source="stuck", kind="greenhouse", started_at=utcnow()))
    # an unrelated process whose pid a stale slot names, with another token: never touched
    bystander = subprocess.Popen(
        [sys.executable, "-c", "import threading; threading.Event().wait(300)"]
    )
    slots.claim(
        engine,
        slots.Slot("other", "elsewhere:999999:dead", utcnow().isoformat(), host=slots.HOST,
                   pgid=bystander.pid, token="not-its-token"),
        expires_at=utcnow() + timedelta(hours=1),
    )  # fmt: skip
    try:
        ended = end_orphans(engine, "the-new-leader", grace_s=1.0)
        assert sorted(ended) == ["other", "stuck"]
        assert process_exit(child, 10)
        assert process_exit(grandchild, 10)
        assert _alive(bystander.pid)
        assert slots.all_slots(engine) == []
        with session_scope(engine) as session:
            (run,) = session.execute(select(CrawlRun)).scalars()
        assert run.status == "failed"
        assert run.finish_reason == "orphaned"
        assert "elsewhere:999999:dead" in (run.message or "")
    finally:
        bystander.kill()
        bystander.wait()
        handle.ref.wait(10)
        old.release(handle)


def test_a_leaders_own_crawls_are_not_orphans(engine, tmp_path, db_url):
    slots.claim(
        engine,
        slots.Slot("mine", "me", utcnow().isoformat(), host=slots.HOST, pgid=os.getpid(),
                   token="t"),
        expires_at=utcnow() + timedelta(hours=1),
    )  # fmt: skip
    assert end_orphans(engine, "me") == []
    assert [s.source for s, _ in slots.all_slots(engine)] == ["mine"]


def test_a_sigkilled_leaders_crawl_child_dies_and_the_next_leader_records_it(
    engine, tmp_path, db_url
):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite's lease outlives a killed leader by a minute; PostgreSQL's lock not")
    board = Board()
    try:
        env = _setup(tmp_path, board, db_url)
        cmd = [sys.executable, "-m", "cli", "run"]
        first = Proc(cmd, env, tmp_path)
        second = None
        try:
            first.wait_for("crawl acme-careers: start", timeout=90)
            assert board.hanging.wait(90)
            ((slot, _),) = slots.all_slots(engine)
            assert slot.pgid and _alive(slot.pgid)
            first.popen.send_signal(signal.SIGKILL)
            first.popen.wait(30)
            # the child notices its parent died: it stores what it has and ends
            assert process_exit(slot.pgid, 90)
            second = Proc(cmd, env, tmp_path)
            second.wait_for("leading the schedule")
            second.wait_for("scheduler started")
            assert slots.all_slots(engine) == [] or all(
                s.leader != slot.leader for s, _ in slots.all_slots(engine)
            )
            with session_scope(engine) as session:
                runs = list(session.execute(select(CrawlRun).order_by(col(CrawlRun.id))).scalars())
            assert runs[0].status in {"partial", "failed"}
            assert runs[0].finish_reason == "orphaned"
            assert runs[0].closed == 0
            second.popen.send_signal(signal.SIGTERM)
            assert second.popen.wait(60) == 0
        finally:
            for proc in (first, second):
                if proc is not None and proc.popen.poll() is None:
                    proc.popen.kill()
                    proc.popen.wait()
    finally:
        board.close()
