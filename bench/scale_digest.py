"""`bench scale`'s digest cycle: match, claim, render, send to a loopback SMTP sink.

The cycle runs as operators run it, `andon digest --at AT` processes (one, then four sharing
the work through `FOR UPDATE SKIP LOCKED`), and its stages are also measured alone in this
process: match (due searches, the window's postings, the index), claim (one transaction per
due search), render (each claimed digest's email) and send (the SMTP calls only).
"""

from __future__ import annotations

import os
import re
import resource
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from alerts.digests.claim import CHUNK, claim_chunk
from alerts.digests.compose import digest_message, render_stored
from alerts.digests.due import due_page
from alerts.digests.match import PageMatcher, gc_paused
from alerts.mailers import SmtpMailer
from alerts.models import Digest, SavedSearch, Subscriber
from bench.scale_data import connect, reset
from config import Settings
from db import make_engine, session_scope

POSTAL = "andon bench, 500 Griswold St, Detroit, MI 48226, USA"


@dataclass
class Cycle:
    """Where the cycle runs: the database, its moment, and the SMTP sink."""

    url: str
    at: datetime
    port: int
    sink: subprocess.Popen[str] | None  # started by `start_sink` when the cycle runs

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "ANDON_DATABASE_URL": self.url,
            "ANDON_MAILER": "smtp",
            "ANDON_SMTP_URL": f"smtp://127.0.0.1:{self.port}?starttls=off",
            "ANDON_POSTAL_ADDRESS": POSTAL,
            "ANDON_SECRET_KEY": "bench-scale-secret-key-not-for-production-0123456789",
            "ANDON_BASE_URL": "https://andon.example",
        }

    def settings(self) -> Settings:
        keys = ("database_url", "mailer", "smtp_url", "postal_address", "secret_key", "base_url")
        env = self.env()
        return Settings(**{k: env[f"ANDON_{k.upper()}"] for k in keys})  # type: ignore[arg-type]

    def received(self) -> int:
        """Messages the sink accepted since the last call."""
        assert self.sink is not None and self.sink.stdin is not None
        assert self.sink.stdout is not None
        self.sink.stdin.write("count\n")
        self.sink.stdin.flush()
        return int(self.sink.stdout.readline())


def start_sink() -> tuple[int, subprocess.Popen[str]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.scale_smtp", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError("the SMTP sink did not start")
    return port, proc


def _andon() -> str:
    beside = Path(sys.executable).parent / "andon"
    return str(beside) if beside.exists() else "andon"


@dataclass
class Senders:
    """What `n` `andon digest` processes run at once did."""

    wall_s: float  # until the last one exited
    peak_rss_kb: int  # the largest peak of any child so far
    send_s: list[float]  # each process's send phase, from its summary line


_SEND_PHASE = re.compile(r"; claim [0-9.]+ s, send ([0-9.]+) s$", re.MULTILINE)


def run_senders(cycle: Cycle, n: int) -> Senders:
    """`n` `andon digest` processes at once."""
    argv = [_andon(), "digest", "--at", cycle.at.isoformat()]
    start = time.perf_counter()
    procs = [
        subprocess.Popen(argv, env=cycle.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(n)
    ]
    send_s = []
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"andon digest failed: {out.decode()} {err.decode()[-2000:]}")
        phase = _SEND_PHASE.search(out.decode())
        if phase is None:
            raise RuntimeError(f"andon digest printed no phase times: {out.decode()[-500:]}")
        send_s.append(float(phase.group(1)))
    # communicate() waited for each child: RUSAGE_CHILDREN holds the largest peak so far
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return Senders(wall, peak, send_s)


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            rows = session.execute(
                select(col(Digest.status), func.count()).group_by(col(Digest.status))
            )
            return dict(rows.all())
    finally:
        engine.dispose()


def stages_alone(cycle: Cycle) -> dict[str, Any]:
    """Each stage timed on its own, in this process, one sender."""
    settings, engine = cycle.settings(), make_engine(cycle.url)
    out: dict[str, Any] = {}
    try:
        out.update(_match_and_claim(cycle, settings, engine))
        out.update(_render_and_send(cycle, settings, engine))
    finally:
        engine.dispose()
    return out


def _match_and_claim(cycle: Cycle, settings: Settings, engine: Any) -> dict[str, Any]:
    """Page by page as `claim_due` does: read and match a page, then claim its searches; the
    two timed apart."""
    match_s = claim_s = 0.0
    due_n = 0
    matcher = PageMatcher(cycle.at)
    after: tuple[int, int] | None = None
    while True:
        start = time.perf_counter()
        with session_scope(engine) as session:
            due = due_page(session, cycle.at, after)
            session.expunge_all()
        if not due:
            match_s += time.perf_counter() - start
            break
        with gc_paused():  # as `claim_due` pauses it: until the page's matches are gone
            with session_scope(engine) as session:
                page = matcher.match(session, due)
            match_s += time.perf_counter() - start
            start = time.perf_counter()
            for i in range(0, len(due), CHUNK):
                claim_chunk(settings, engine, due[i : i + CHUNK], page)
            del page
            claim_s += time.perf_counter() - start
        due_n += len(due)
        after = (due[-1].search.subscriber_id, due[-1].search_id)
    return {"match_s": match_s, "claim_s": claim_s, "due": due_n}


def _render_and_send(cycle: Cycle, settings: Settings, engine: Any) -> dict[str, Any]:
    """Render each pending digest, then send it; the two timed apart."""
    mailer = SmtpMailer(settings.smtp_url.get_secret_value(), 30.0)
    mailer.open()
    render_s = send_s = 0.0
    sent = 0
    health: dict[Any, Any] = {}  # the board-health lines, once per window as a run computes them
    try:
        with Session(engine) as session:
            ids = list(
                session.execute(
                    select(col(Digest.id))
                    .where(col(Digest.status) == "pending")
                    .order_by(col(Digest.id))
                ).scalars()
            )
        for digest_id in ids:
            with Session(engine) as session:
                digest = session.get(Digest, digest_id)
                assert digest is not None
                sub = session.get(Subscriber, digest.subscriber_id)
                search = session.get(SavedSearch, digest.saved_search_id)
                assert sub is not None and search is not None
                start = time.perf_counter()
                rendered, _ = render_stored(
                    session, settings, digest, sub, search, cycle.at, health
                )
                if rendered is None:
                    continue
                msg = digest_message(settings, digest, sub, rendered)
                render_s += time.perf_counter() - start
            start = time.perf_counter()
            mailer.send(msg)
            send_s += time.perf_counter() - start
            sent += 1
    finally:
        mailer.close()
    return {"render_s": render_s, "send_s": send_s, "digests": sent}


SAMPLE_SEARCHES = 7_500  # about this many searches' digests are rendered and sent per run


def hold_unsampled(url: str) -> int:
    """Hold (never send) the digests of all but every k-th saved search; k, chosen so about
    `SAMPLE_SEARCHES` searches' digests are sent.

    Every due search is still matched and claimed; a trigger turns a claimed digest's `pending`
    into `held`, which no sender takes. At the full size a run would otherwise send ~90,000
    digests, over 30 minutes of 20 ms SMTP answers for one sender alone.
    """
    with connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM saved_searches").fetchone()
        every = max(1, round((row[0] if row else 0) / SAMPLE_SEARCHES))
        conn.execute(
            "CREATE OR REPLACE FUNCTION scale_hold() RETURNS trigger AS $$ BEGIN "
            f"IF NEW.status = 'pending' AND NEW.saved_search_id % {every} <> 0 "
            "AND (TG_OP = 'INSERT' OR OLD.status = 'pending') THEN NEW.status := 'held'; "
            "END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        conn.execute("DROP TRIGGER IF EXISTS scale_hold ON digests")
        conn.execute(
            "CREATE TRIGGER scale_hold BEFORE INSERT OR UPDATE ON digests "
            "FOR EACH ROW EXECUTE FUNCTION scale_hold()"
        )
        conn.commit()
    return every


def _send_again(url: str) -> None:
    """The digests sent become pending again (claims and deliveries stay): a send stage."""
    with connect(url) as conn:
        conn.execute(
            "UPDATE digests SET status = 'pending', attempts = 0, sending_at = NULL, "
            "sent_at = NULL WHERE status = 'sent'"
        )
        conn.commit()


def _senders(cycle: Cycle, n: int, digests: int, what: str, exact: bool = True) -> Senders:
    """Run `n` senders; the sink must have every digest marked sent, and with `exact` as many
    as `digests`. Claimers running at once may split a subscriber's searches between them, so
    a later search can lose a job to an earlier one's concurrent claim and come out empty (the
    deliveries' unique key keeps each job to one digest): four senders' cycle need not send the
    one-sender count, only all it claimed."""
    run = run_senders(cycle, n)
    got, sent = cycle.received(), counts(cycle.url).get("sent", 0)
    if got != sent or (exact and got != digests):
        raise RuntimeError(f"{what}, {n} senders: sink got {got}, sent {sent}, want {digests}")
    return run


def measure(cycle: Cycle) -> dict[str, Any]:
    """Stages alone; the cycle with one sender, whose send phase is the one-sender send stage;
    the send stage with four; the cycle with four. Each cycle starts from the loaded state; the
    four senders resend the one-sender cycle's digests."""
    every = hold_unsampled(cycle.url)
    reset(cycle.url)
    cycle.received()
    stages = stages_alone(cycle)
    digests = stages["digests"]
    if cycle.received() != digests:
        raise RuntimeError("the sink did not get one message per digest")
    results: dict[str, Any] = {"stages": stages, "sent_sample_every": every}
    reset(cycle.url)
    one = _senders(cycle, 1, digests, "cycle")
    results["cycle_1_s"], results["cycle_1_peak_rss_kb"] = one.wall_s, one.peak_rss_kb
    # One sender's send stage is the one-sender cycle's send phase: the same digests, the same
    # `andon digest` code, so it is not run a second time (~2 minutes at the full size).
    results["send_1_s"] = one.send_s[0]
    _send_again(cycle.url)
    results["send_4_s"] = _senders(cycle, 4, digests, "send stage").wall_s
    reset(cycle.url)
    four = _senders(cycle, 4, digests, "cycle", exact=False)
    results["cycle_4_s"], results["cycle_4_peak_rss_kb"] = four.wall_s, four.peak_rss_kb
    return results
