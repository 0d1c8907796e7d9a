"""The scheduler: its job set, a schedule derived from the database across restarts, crawls in
killable child processes, one leader per database, crawl-health emails once, and `andon run`.

Time is controlled by passing `now` or a clock; waits are on events and conditions with
timeouts, never sleeps on the wall clock.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlmodel import col

import cli
import db
import scheduler
from config import Settings
from db import session_scope
from pipeline.expiry import sweep
from pipeline.health import HEALTH_KEY, report_health
from pipeline.models import CrawlRun, Posting
from runtime import plan as planning
from runtime.crawls import run_crawl_child
from runtime.launcher import CrawlOutcome
from runtime.leader import LeaseLeadership, leadership_for, wait_for_leadership
from runtime.plan import plan
from scheduler import Scheduler, StopRequested
from spiders.sources import load_sources
from tests.waiting import Proc

PROJECT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)

SOURCES = """
[[sources]]
name = "acme-workday"
kind = "workday"
url = "https://acme.wd1.myworkdayjobs.com/acme"

[[sources]]
name = "acme-greenhouse"
kind = "greenhouse"
board = "acme"
schedule = "every 6h"

[[sources]]
name = "him-search"
kind = "himalayas"
search = "production manager"
schedule = "every 1h"

[[sources]]
name = "acme-rss"
kind = "rss"
feed = "https://acme.example/jobs.rss"
schedule = "0 6 * * *"

[[sources]]
name = "acme-jsonld"
kind = "jsonld"
start_urls = ["https://acme.example/careers"]
"""


@pytest.fixture
def sources_file(tmp_path: Path) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(SOURCES)
    return path


def make_settings(db_url: str, tmp_path: Path, sources: Path, **extra: Any) -> Settings:
    return Settings(
        database_url=db_url,
        sources=sources,
        outbox=tmp_path / "outbox",
        secret_key="test-secret",
        **extra,
    )


def add_run(
    engine: Any, source: str, started: datetime, status: str = "finished", **kw: Any
) -> int:
    with session_scope(engine) as session:
        run = CrawlRun(
            source=source,
            kind=kw.pop("kind", "greenhouse"),
            started_at=started,
            finished_at=started + timedelta(minutes=2),
            status=status,
            **kw,
        )
        session.add(run)
        session.flush()
        return run.id  # type: ignore[return-value]


def runs_of(engine: Any, source: str) -> list[CrawlRun]:
    with session_scope(engine) as session:
        return list(
            session.execute(
                select(CrawlRun).where(col(CrawlRun.source) == source).order_by(col(CrawlRun.id))
            ).scalars()
        )


# -- the job set ---------------------------------------------------------------------------------


def test_job_set_from_a_sources_file(engine, tmp_path, sources_file, db_url):
    settings = make_settings(db_url, tmp_path, sources_file)
    sched = Scheduler(settings, engine, sources_path=sources_file, clock=lambda: T0)
    sched.add_jobs(T0)
    sched.aps.start(paused=True)
    try:
        jobs = {job.id: job for job in sched.aps.get_jobs()}
    finally:
        sched.aps.shutdown(wait=False)
    assert set(jobs) == {
        "crawl:acme-workday",
        "crawl:acme-greenhouse",
        "crawl:him-search",
        "crawl:acme-rss",
        "crawl:acme-jsonld",
        "digests",
        "sweep",
    }
    interval = {
        k: j.trigger.interval.total_seconds()
        for k, j in jobs.items()
        if isinstance(j.trigger, IntervalTrigger)
    }
    assert interval["crawl:acme-workday"] == 12 * 3600  # the kind's default
    assert interval["crawl:acme-jsonld"] == 24 * 3600
    assert interval["crawl:acme-greenhouse"] == 6 * 3600
    assert interval["crawl:him-search"] == 24 * 3600  # "every 1h" raised: Himalayas at most daily
    assert interval["digests"] == planning.DIGEST_EVERY.total_seconds()
    assert interval["sweep"] == 24 * 3600
    rss = jobs["crawl:acme-rss"].trigger
    assert isinstance(rss, CronTrigger)
    assert {f.name: str(f) for f in rss.fields}["hour"] == "6"
    for job_id, job in jobs.items():
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time >= 3600, job_id
        assert job.executor == ("crawls" if job_id.startswith("crawl:") else "default")
    # crawls are spread: an interval job has jitter, never more than 5 % of its interval
    assert 0 < jobs["crawl:acme-greenhouse"].trigger.jitter <= 0.05 * 6 * 3600
    # a second add (a reload) replaces the jobs instead of adding copies
    sched.add_jobs(T0)
    assert len(sched.aps.get_jobs()) == 7


def test_never_crawled_sources_run_once_soon_and_staggered(sources_file):
    sources = load_sources(sources_file)
    planned = plan(sources, {}, now=T0)
    crawls = [j for j in planned if j.kind == "crawl"]
    assert all(j.overdue for j in crawls)
    starts = sorted(j.next_run for j in crawls)
    assert starts[0] == T0 + planning.STARTUP_DELAY
    assert all(b - a == planning.STAGGER for a, b in itertools.pairwise(starts))
    assert len({j.id for j in planned}) == len(planned)


# -- restarts ------------------------------------------------------------------------------------


def test_a_restart_keeps_the_schedule_and_runs_a_missed_job_once(
    engine, tmp_path, sources_file, db_url
):
    sources = load_sources(sources_file)
    for name in ("acme-workday", "acme-greenhouse", "him-search", "acme-rss", "acme-jsonld"):
        add_run(engine, name, T0)
    starts = planning.last_crawl_starts(engine)

    def due(now: datetime) -> dict[str, tuple[datetime, bool]]:
        return {
            j.id: (j.next_run, j.overdue)
            for j in plan(sources, starts, now=now)
            if j.kind == "crawl"
        }

    # restarted an hour later, and again an hour after that: the same next runs, none overdue
    first, second = due(T0 + timedelta(hours=1)), due(T0 + timedelta(hours=2))
    assert first == second
    assert first["crawl:acme-workday"] == (T0 + timedelta(hours=12), False)
    assert first["crawl:acme-greenhouse"] == (T0 + timedelta(hours=6), False)
    assert first["crawl:acme-rss"] == (T0 + timedelta(days=1), False)  # the next 06:00

    # down for two days: each job is overdue once, not once per missed interval
    now = T0 + timedelta(days=2, hours=1)
    settings = make_settings(db_url, tmp_path, sources_file)
    sched = Scheduler(settings, engine, sources_path=sources_file, clock=lambda: now)
    sched.add_jobs(now)
    sched.aps.start(paused=True)
    try:
        jobs = {j.id: j for j in sched.aps.get_jobs() if j.id.startswith("crawl:")}
        later = now + timedelta(hours=1)
        for job_id, job in jobs.items():
            run_times = job._get_run_times(later)
            assert len(run_times) == 1, (job_id, run_times)
            assert now < run_times[0] <= now + timedelta(minutes=2)
    finally:
        sched.aps.shutdown(wait=False)

    # the catch-up run is recorded; the next restart plans from it, a full interval on
    add_run(engine, "acme-workday", now + timedelta(seconds=10), kind="workday")
    again = plan(sources, planning.last_crawl_starts(engine), now=now + timedelta(minutes=5))
    workday = next(j for j in again if j.id == "crawl:acme-workday")
    assert not workday.overdue
    assert workday.next_run == now + timedelta(seconds=10, hours=12)


def test_a_started_scheduler_runs_each_overdue_crawl_once(
    engine, tmp_path, sources_file, db_url, monkeypatch
):
    monkeypatch.setattr(planning, "STARTUP_DELAY", timedelta(0))
    monkeypatch.setattr(planning, "STAGGER", timedelta(0))
    now = datetime.now(UTC)
    add_run(engine, "acme-workday", now - timedelta(days=2), kind="workday")  # overdue
    for name in ("acme-greenhouse", "him-search", "acme-rss", "acme-jsonld"):
        add_run(engine, name, now - timedelta(minutes=5))  # recently crawled: not due
    calls: list[str] = []
    called = threading.Event()

    def fake_crawl(source: Any) -> CrawlOutcome:
        calls.append(source.name)
        add_run(engine, source.name, datetime.now(UTC), kind=source.kind)
        called.set()
        return CrawlOutcome(source.name, "finished", 0.0, 0)

    settings = make_settings(db_url, tmp_path, sources_file)
    sched = Scheduler(
        settings, engine, sources_path=sources_file, crawl=fake_crawl, digests=lambda *a, **k: None
    )
    sched.start()
    try:
        assert called.wait(20)
        job = sched.aps.get_job("crawl:acme-workday")
        # after the catch-up run the job's next run is a whole interval away: it ran once
        assert job.next_run_time >= now + timedelta(hours=11)
        others = [
            sched.aps.get_job(f"crawl:{n}").next_run_time
            for n in ("acme-greenhouse", "acme-jsonld")
        ]
        assert all(t >= now + timedelta(hours=5) for t in others)
    finally:
        sched.stop()
    assert calls == ["acme-workday"]


# -- crawls in a child process -------------------------------------------------------------------

# A crawl that hangs: it (and a grandchild) block until killed, for two minutes at most.
HANGING_CHILD = """
import subprocess, sys, threading
grandchild = subprocess.Popen(
    [sys.executable, "-c", "import threading; threading.Event().wait(120)"]
)
open(sys.argv[1], "w").write(str(grandchild.pid))
threading.Event().wait(120)
"""

CRASHING_CHILD = """
import os, signal
import db
from db import session_scope
from pipeline.models import CrawlRun
engine = db.make_engine(os.environ["ANDON_DATABASE_URL"])
with session_scope(engine) as session:
    session.add(CrawlRun(source="acme-greenhouse", kind="greenhouse"))
os.kill(os.getpid(), signal.SIGKILL)
"""


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # reparented and killed but not reaped yet (no init in some containers): a zombie is gone
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" in status.read_text()


def test_a_hung_crawl_is_killed_with_its_children_and_recorded_failed(
    engine, tmp_path, sources_file, db_url
):
    settings = make_settings(db_url, tmp_path, sources_file)
    source = next(s for s in load_sources(sources_file) if s.name == "acme-greenhouse")
    pid_file = tmp_path / "grandchild.pid"
    outcome = run_crawl_child(
        settings, engine, source, sources_path=sources_file, timeout_s=1.0,
        command=[sys.executable, "-c", HANGING_CHILD, str(pid_file)],
    )  # fmt: skip
    assert outcome.killed
    assert outcome.status == "failed"
    assert "time limit" in (outcome.message or "")
    (run,) = runs_of(engine, "acme-greenhouse")
    assert run.status == "failed"
    assert run.finish_reason == "killed"
    assert "killed after 1s" in (run.message or "")
    assert _gone(int(pid_file.read_text()))


def test_a_crashed_crawl_that_left_its_run_running_is_marked_failed(
    engine, tmp_path, sources_file, db_url
):
    settings = make_settings(db_url, tmp_path, sources_file)
    source = next(s for s in load_sources(sources_file) if s.name == "acme-greenhouse")
    outcome = run_crawl_child(
        settings, engine, source, sources_path=sources_file, timeout_s=60,
        command=[sys.executable, "-c", CRASHING_CHILD],
    )  # fmt: skip
    assert outcome.exit_code == -signal.SIGKILL
    assert not outcome.killed
    (run,) = runs_of(engine, "acme-greenhouse")
    assert run.status == "failed"
    assert run.finish_reason == "crashed"
    assert "exited with code -9" in (run.message or "")


@pytest.fixture
def silent_server():
    """A loopback port that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def test_a_real_crawl_against_a_server_that_never_answers_is_killed(
    engine, tmp_path, db_url, silent_server
):
    path = tmp_path / "sources.toml"
    path.write_text(
        f'[[sources]]\nname = "silent"\nkind = "greenhouse"\nboard = "acme"\nbase_url = "{silent_server}"\nallow_private = true\n'
    )
    settings = make_settings(db_url, tmp_path, path, scrapy_overrides={"ROBOTSTXT_OBEY": False})
    (source,) = load_sources(path)
    outcome = run_crawl_child(settings, engine, source, sources_path=path, timeout_s=4.0)
    assert outcome.killed
    assert outcome.status == "failed"
    runs = runs_of(engine, "silent")
    assert runs
    assert all(r.status == "failed" for r in runs)
    # the schedule goes on: the next run is planned a normal interval after this one
    (job,) = [
        j
        for j in plan([source], planning.last_crawl_starts(engine), now=datetime.now(UTC))
        if j.kind == "crawl"
    ]
    assert not job.overdue


# -- one leader ----------------------------------------------------------------------------------


def test_one_scheduler_leads_the_other_waits_and_takes_over(db_url):
    first_engine, second_engine = db.make_engine(db_url), db.make_engine(db_url)
    first, second = leadership_for(first_engine), leadership_for(second_engine)
    try:
        assert first.acquire()
        assert not second.acquire()
        assert second.current_leader() is not None
        assert first.renew()
        stop, took_over = threading.Event(), threading.Event()

        def wait() -> None:
            if wait_for_leadership(second, stop, poll_s=0.05):
                took_over.set()

        waiter = threading.Thread(target=wait)
        waiter.start()
        assert not took_over.wait(0.3)  # still waiting while the first leads
        first.release()
        assert took_over.wait(10)
        waiter.join(5)
        assert second.renew()
        assert not first.acquire()
    finally:
        second.release()
        first.release()
        first_engine.dispose()
        second_engine.dispose()


def test_an_expired_lease_is_taken_over_and_its_old_holder_knows(engine):
    clock = {"now": T0}
    a = LeaseLeadership(engine, clock=lambda: clock["now"], holder="a")
    b = LeaseLeadership(engine, clock=lambda: clock["now"], holder="b")
    assert a.acquire()
    clock["now"] = T0 + timedelta(seconds=30)
    assert a.renew()  # renewed: valid until T0 + 90 s
    clock["now"] = T0 + timedelta(seconds=80)
    assert not b.acquire()
    clock["now"] = T0 + timedelta(seconds=91)  # a stopped renewing (crashed, suspended)
    assert b.acquire()
    assert not a.renew()  # a finds out at its next renewal and stops scheduling
    assert b.current_leader().startswith("b,")


def test_a_waiting_scheduler_stops_waiting_when_asked(engine):
    holder, waiter = leadership_for(engine), leadership_for(engine)
    assert holder.acquire()
    stop = threading.Event()
    stop.set()
    try:
        assert wait_for_leadership(waiter, stop, poll_s=0.01) is False
    finally:
        holder.release()


# -- crawl health --------------------------------------------------------------------------------


def test_crawl_health_emails_the_operator_once_per_incident(engine, tmp_path, sources_file, db_url):
    sent: list[tuple[str, list[str]]] = []

    def send(subject: str, lines: Any) -> bool:
        sent.append((subject, list(lines)))
        return True

    t = T0

    def crawl(status: str, kept: int = 10) -> str | None:
        nonlocal t
        t += timedelta(hours=12)
        add_run(
            engine,
            "acme-greenhouse",
            t,
            status,
            kept=kept,
            message=None if status == "finished" else "board 'acme' not found (404)",
        )
        return report_health(engine, "acme-greenhouse", send=send, clock=lambda: t)

    assert crawl("finished") is None
    assert crawl("failed") is None  # once is not yet an incident
    assert crawl("failed") == "failed 2 times in a row"
    assert crawl("failed") is None  # the same incident: no second email
    assert crawl("failed") is None
    assert len(sent) == 1
    subject, lines = sent[0]
    assert "acme-greenhouse" in subject
    assert any("404" in line for line in lines)
    assert crawl("finished") is None  # recovered
    assert crawl("failed") is None
    assert crawl("failed") == "failed 2 times in a row"  # a new incident
    assert len(sent) == 2
    # a source that keeps far fewer postings than usual
    assert crawl("finished", 10) is None
    assert crawl("finished", 11) is None
    assert crawl("finished", 2) == "kept 2 postings, usually 10"
    assert crawl("finished", 1) is None
    assert len(sent) == 3
    marks = [r.stats.get(HEALTH_KEY) for r in runs_of(engine, "acme-greenhouse")]
    assert sum(1 for m in marks if m) == 6  # three reported runs, three carried marks


def test_crawl_health_through_the_file_mailer(engine, tmp_path, sources_file, db_url):
    settings = make_settings(db_url, tmp_path, sources_file, operator_email="ops@example.com")
    for n in range(2):
        add_run(engine, "acme-greenhouse", T0 + timedelta(hours=n), "failed", message="timeout")
    send = scheduler.operator_alert(settings)
    assert report_health(engine, "acme-greenhouse", send=send, clock=lambda: T0)
    assert report_health(engine, "acme-greenhouse", send=send, clock=lambda: T0) is None
    emails = list((tmp_path / "outbox").glob("*.eml"))
    assert len(emails) == 1
    assert "ops@example.com" in emails[0].read_text()


def test_without_an_operator_address_nothing_is_sent_or_marked(
    engine, tmp_path, sources_file, db_url
):
    settings = make_settings(db_url, tmp_path, sources_file)
    for n in range(2):
        add_run(engine, "acme-greenhouse", T0 + timedelta(hours=n), "failed")
    send = scheduler.operator_alert(settings)
    assert report_health(engine, "acme-greenhouse", send=send, clock=lambda: T0) is None
    assert not (tmp_path / "outbox").exists()
    assert not any(r.stats.get(HEALTH_KEY) for r in runs_of(engine, "acme-greenhouse"))


# -- the digest job and the sweep ----------------------------------------------------------------


def test_the_digest_job_runs_at_now_and_stops_after_the_message_in_flight(
    engine, tmp_path, sources_file, db_url
):
    settings = make_settings(db_url, tmp_path, sources_file)
    seen: list[Any] = []
    sched_ref: dict[str, Scheduler] = {}

    class Summary:
        def line(self) -> str:
            return "due 2, sent 2, empty 0, failed 0"

    def digests(settings: Settings, engine: Any, *, at: datetime, on_progress: Any) -> Summary:
        seen.append(at)
        for done in range(1, 4):
            seen.append(done)  # "sent" one
            if done == 2:
                sched_ref["s"].stopping.set()  # Ctrl-C arrives while the 2nd one is sending
            on_progress("send", done, 3)
        return Summary()

    sched = Scheduler(
        settings, engine, sources_path=sources_file, clock=lambda: T0, digests=digests
    )
    sched_ref["s"] = sched
    assert sched.digest_job() is None
    assert seen == [T0, 1, 2]  # the second went out, the third waits for the next run
    sched.stopping.clear()
    sched._stop_between_digests("send", 1, 2)  # not stopping: nothing happens
    sched.stopping.set()
    with pytest.raises(StopRequested):
        sched._stop_between_digests("send", 1, 2)


def test_sweep_closes_expired_fails_stale_runs_and_prunes_old_ones(
    engine, tmp_path, sources_file, db_url
):
    settings = make_settings(db_url, tmp_path, sources_file)
    now = T0 + timedelta(days=200)
    with session_scope(engine) as session:
        session.add(
            Posting(title="Plant Manager", company="Acme", valid_through=now - timedelta(days=1))
        )
        session.add(
            Posting(
                title="Production Manager", company="Acme", valid_through=now + timedelta(days=1)
            )
        )
    old = add_run(engine, "acme-greenhouse", T0)
    newest_old = add_run(engine, "acme-rss", T0)  # a source's only run stays, however old
    add_run(engine, "acme-greenhouse", now - timedelta(days=1))
    stale = add_run(engine, "acme-workday", now - timedelta(hours=5), "running")
    fresh = add_run(engine, "acme-jsonld", now - timedelta(minutes=5), "running")
    result = sweep(settings, engine, now=now)
    assert (result.closed, result.stale, result.pruned) == (1, 1, 1)
    with session_scope(engine) as session:
        assert session.get(CrawlRun, old) is None
        assert session.get(CrawlRun, newest_old) is not None
        assert session.get(CrawlRun, stale).status == "failed"
        assert session.get(CrawlRun, fresh).status == "running"
        statuses = sorted(p.status for p in session.execute(select(Posting)).scalars())
    assert statuses == ["closed", "open"]


def test_next_runs_for_andon_status(engine, tmp_path, sources_file, db_url):
    settings = make_settings(db_url, tmp_path, sources_file)
    add_run(engine, "acme-workday", T0, kind="workday")
    lines = cli.schedule_lines(settings, engine, now=T0 + timedelta(hours=1))
    assert lines[0].startswith("scheduler: not running")
    text = "\n".join(lines)
    assert (
        "crawl:acme-workday: 2026-11-20 18:00 UTC (every 12h; last started 2026-11-20 06:00 UTC)"
        in text
    )
    assert "crawl:acme-rss: overdue" in text
    assert "digests: every 5 min; no active saved search" in text
    lead = leadership_for(engine)
    assert lead.acquire()
    try:
        assert cli.schedule_lines(settings, engine)[0].startswith("scheduler: running")
    finally:
        lead.release()


# -- `andon run` as a user runs it ------------------------------------------------------------------


def test_two_andon_run_processes_one_leads_then_the_other_takes_over(
    tmp_path, db_url, silent_server
):
    path = tmp_path / "sources.toml"
    path.write_text(
        f'[[sources]]\nname = "silent"\nkind = "rss"\nfeed = "https://acme.example/jobs.rss"\nbase_url = "{silent_server}"\nallow_private = true\n'
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("ANDON_")}
    env = {
        **base,
        "ANDON_DATABASE_URL": db_url,
        "ANDON_SOURCES": str(path),
        "ANDON_OUTBOX": str(tmp_path / "outbox"),
        "ANDON_SECRET_KEY": "k",
        "PYTHONPATH": str(PROJECT),
    }
    cmd = [sys.executable, "-m", "cli", "run"]
    first = Proc(cmd, env, tmp_path)
    second = None
    try:
        first.wait_for("leading the schedule")
        second = Proc(cmd, env, tmp_path)
        second.wait_for("another scheduler leads")
        first.popen.send_signal(signal.SIGTERM)
        first.wait_for("scheduler stopped")
        assert first.popen.wait(30) == 0
        second.wait_for("this one leads now")
        second.wait_for("scheduler started")
        second.popen.send_signal(signal.SIGINT)  # Ctrl-C
        second.wait_for("scheduler stopped")
        assert second.popen.wait(30) == 0
    finally:
        for proc in (first, second):
            if proc is not None and proc.popen.poll() is None:
                proc.popen.kill()
                proc.popen.wait()


def test_a_crawl_that_cannot_start_leaves_a_failed_run(engine, tmp_path, sources_file, db_url):
    settings = make_settings(db_url, tmp_path, sources_file)
    source = next(s for s in load_sources(sources_file) if s.name == "acme-greenhouse")
    outcome = run_crawl_child(
        settings, engine, source, sources_path=sources_file, timeout_s=60,
        command=[str(tmp_path / "no-such-program")],
    )  # fmt: skip
    assert outcome.status == "failed"
    (run,) = runs_of(engine, "acme-greenhouse")
    assert run.status == "failed"
    assert run.finish_reason == "not started"
    assert "could not start" in (run.message or "")
