"""Run the demo: server, fresh folder, init, crawl every kind, three subscribers, digests, summary.

Everything happens in one folder the demo owns (default `./andon-demo/`, wiped and recreated on
each run): the SQLite database, the sources file pointing at the loopback server, the file
mailer's outbox of `.eml` messages and a `digests/` folder with each digest as an `.html` page.
The crawl runs in a child process (`python -m cli crawl`), as `andon run` does, because a Twisted
reactor cannot restart; the rest runs in this process. No setting of the caller's environment
(`ANDON_*`) reaches the demo: it would send real mail with `ANDON_MAILER=sendgrid`.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import col

import db
from config import PROJECT_DIR, Settings
from demo.server import DemoServer
from spiders.sources import load_sources

DEMO_DIR = Path(__file__).resolve().parent
SOURCES_TEMPLATE = DEMO_DIR / "sources.toml"
MARKER = ".andon-demo"  # only a folder carrying this is wiped by the next run
CRAWL_TIMEOUT_S = 120.0
# The port the demo's emails link to and the printed `andon serve` command listens on; not
# `andon serve`'s default 8000, so the demo's links never reach another andon on this machine.
DEMO_PORT = 8765
# A local server needs no politeness: no AutoThrottle, no delay, quick retries.
FAST_SCRAPY = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "ANDON_RETRY_BACKOFF_BASE": 0.05}


class DemoError(RuntimeError):
    """The demo cannot run (a folder it must not wipe, a crawl that failed); one line."""


@dataclass(frozen=True)
class DemoSubscriber:
    email: str
    name: str
    search: dict[str, Any]
    about: str


SUBSCRIBERS = (
    DemoSubscriber(
        "dana.kowalski@example.com",
        "Dana Kowalski",
        {
            "name": "Plant and production manager jobs near Detroit",
            "query": 'title:("plant manager" OR "production manager" OR "operations manager")',
            "location": "Detroit, MI",
            "within": 150,
            "min_salary": 100_000,
            "cadence": "daily",
            "hour": 7,
            "timezone": "America/Detroit",
        },
        "plant manager, Midwest: within 150 mi of Detroit, $100k+, daily at 7:00 Detroit time",
    ),
    DemoSubscriber(
        "luis.herrera@example.com",
        "Luis Herrera",
        {
            "name": "Food production supervisor jobs in Texas",
            "query": 'title:(supervisor OR "production manager")',
            "location": "Texas",
            "industries": ["food_beverage"],
            "cadence": "daily",
            "hour": 6,
            "timezone": "America/Chicago",
        },
        "food & beverage production supervisor, Texas: daily at 6:00 Central time",
    ),
    DemoSubscriber(
        "katrin.vogel@example.com",
        "Katrin Vogel",
        {
            "name": "Production leadership in Germany",
            "query": "production OR manufacturing OR plant",
            "location": "Germany",
            "seniorities": ["director", "executive"],
            "cadence": "weekly",
            "weekday": "mon",
            "hour": 8,
            "timezone": "Europe/Berlin",
        },
        "director-level production roles in Germany: weekly, Mondays at 8:00 Berlin time",
    ),
)


@dataclass
class SourceLine:
    name: str
    kind: str
    status: str
    fetched: int
    kept: int
    dropped: int
    new: int
    merged: int


@dataclass
class DigestLine:
    email: str
    search: str
    schedule: str
    jobs: int
    titles: list[str]
    html: Path | None
    eml: Path | None


@dataclass
class DemoResult:
    folder: Path
    at: datetime
    sources: list[SourceLine] = field(default_factory=list)
    digests: list[DigestLine] = field(default_factory=list)
    postings_open: int = 0
    elapsed_s: float = 0.0
    serve_command: str = ""  # the exact `andon serve` that makes the emails' links work
    base_url: str = ""  # where that command listens, and the emails' links point
    listings_command: str = ""  # `andon listings` on the demo's database


def prepare_folder(folder: Path) -> None:
    """Wipe a previous demo folder and recreate it; refuse any other folder with files in it."""
    if folder.exists():
        if not folder.is_dir():
            raise DemoError(f"{folder} is a file; choose another folder with --dir")
        if any(folder.iterdir()) and not (folder / MARKER).exists():
            raise DemoError(
                f"{folder} exists and is not an andon demo folder; choose another with --dir"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("Written by `andon demo`; the next run wipes this folder.\n")


def demo_settings(folder: Path) -> Settings:
    """Settings for the demo only; explicit values win over the caller's environment."""
    return Settings(
        database_url=f"sqlite:///{folder / 'andon.db'}",
        mailer="file",
        outbox=folder / "outbox",
        sources=folder / "sources.toml",
        # the file decides, not an ANDON_SECRET_KEY the caller exported: `serve_command` names it
        secret_key=None,
        secret_key_file=folder / ".andon-secret",
        base_url=f"http://127.0.0.1:{DEMO_PORT}",
        operator_email=None,
        role_profile=None,
        scrapy_overrides=FAST_SCRAPY,
    )


def demo_env(settings: Settings) -> dict[str, str]:
    """The settings another andon command needs to act on the demo's database and its links."""
    return {
        "ANDON_DATABASE_URL": settings.database_url,
        "ANDON_SECRET_KEY_FILE": str(settings.secret_key_file),
        "ANDON_BASE_URL": settings.base_url,
        "ANDON_MAILER": "file",
        "ANDON_OUTBOX": str(settings.outbox),
        "ANDON_SOURCES": str(settings.sources),
    }


def andon_command(settings: Settings, *args: str) -> str:
    """A shell command running `andon ARGS` on the demo's folder, with its secret and base URL.

    `env -u ANDON_SECRET_KEY`: an exported key would win over the demo's key file, and every
    link in the demo's emails would read as damaged.
    """
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in demo_env(settings).items())
    words = " ".join(shlex.quote(a) for a in args)
    return f"env -u ANDON_SECRET_KEY {assignments} uv run andon {words}"


def serve_command(settings: Settings) -> str:
    """The exact `andon serve` the demo's emails link to (same database, key file, base URL)."""
    return andon_command(settings, "serve", "--port", str(DEMO_PORT))


def write_sources(folder: Path, base_url: str) -> Path:
    path = folder / "sources.toml"
    path.write_text(SOURCES_TEMPLATE.read_text(encoding="utf-8").replace("BASE_URL", base_url))
    return path


def crawl(settings: Settings, folder: Path) -> subprocess.CompletedProcess[str]:
    """`andon crawl` in a child process with the demo's settings; killed with its group on timeout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANDON_")}
    env.update(
        {
            "ANDON_DATABASE_URL": settings.database_url,
            "ANDON_SOURCES": str(settings.sources),
            "ANDON_OUTBOX": str(settings.outbox),
            "ANDON_SECRET_KEY_FILE": str(settings.secret_key_file),
            "ANDON_SCRAPY_OVERRIDES": json.dumps(settings.scrapy_overrides),
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(PROJECT_DIR), env.get("PYTHONPATH")) if p
            ),
        }
    )
    cmd = [sys.executable, "-m", "cli", "crawl", "--sources", str(settings.sources)]
    proc = subprocess.Popen(
        cmd, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=CRAWL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise DemoError(
            f"the crawl took longer than {CRAWL_TIMEOUT_S:.0f}s and was stopped"
        ) from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def subscribe_all(settings: Settings, engine: Any) -> datetime:
    """The three demo subscribers (consent on record); returns when all their searches are due."""
    from alerts.subscriptions import SearchInput, subscribe

    due: list[datetime] = []
    with db.session_scope(engine) as session:
        for person in SUBSCRIBERS:
            _, saved, _ = subscribe(
                session, person.email, SearchInput(**person.search), name=person.name,
                confirmed=True, consent_source="andon demo",
            )  # fmt: skip
            assert saved.next_due_at is not None
            due.append(saved.next_due_at)
    # the latest first send time: every search, daily or weekly, has an occurrence by then
    return max(due)


def source_lines(engine: Any) -> list[SourceLine]:
    from pipeline.models import CrawlRun

    with db.session_scope(engine) as session:
        runs = session.execute(select(CrawlRun).order_by(col(CrawlRun.id))).scalars().all()
        return [
            SourceLine(r.source, r.kind, r.status, r.fetched, r.kept, r.dropped, r.new, r.merged)
            for r in runs
        ]


def send_digests(settings: Settings, engine: Any, at: datetime, folder: Path) -> list[DigestLine]:
    """Send what is due at `at` with the file mailer; write each sent digest as an .html page."""
    from alerts.digests import render_digest_for, run_digests
    from alerts.models import Delivery, Digest, SavedSearch, Subscriber
    from pipeline.models import Posting

    before = set(settings.outbox.glob("*.eml")) if settings.outbox.exists() else set()
    run_digests(settings, engine, at=at)
    new_eml = sorted(set(settings.outbox.glob("*.eml")) - before)
    pages = folder / "digests"
    pages.mkdir(exist_ok=True)
    lines: list[DigestLine] = []
    with db.session_scope(engine) as session:
        digests = session.execute(select(Digest).order_by(col(Digest.id))).scalars().all()
        for person in SUBSCRIBERS:
            sub = session.execute(
                select(Subscriber).where(col(Subscriber.email) == person.email)
            ).scalar_one()
            search = session.execute(
                select(SavedSearch).where(SavedSearch.subscriber_id == sub.id)
            ).scalar_one()
            digest = next((d for d in digests if d.saved_search_id == search.id), None)
            schedule = f"{search.cadence}, {search.timezone}"
            if digest is None or digest.status != "sent":
                lines.append(DigestLine(person.email, search.name, schedule, 0, [], None, None))
                continue
            titles = [
                f"{p.title} · {p.company}"
                for p in session.execute(
                    select(Posting)
                    .join(Delivery, Delivery.posting_id == Posting.id)  # type: ignore[arg-type]
                    .where(Delivery.digest_id == digest.id)
                    .order_by(col(Delivery.rank))
                ).scalars()
            ]
            rendered = render_digest_for(session, settings, digest.id, at=at)
            page = pages / f"{person.email.split('@')[0]}-{digest.period_key}.html"
            page.write_text(rendered.html or f"<pre>{rendered.text}</pre>", encoding="utf-8")
            eml = next((p for p in new_eml if person.email in p.read_text(errors="replace")), None)
            lines.append(
                DigestLine(person.email, search.name, schedule, digest.job_count, titles, page, eml)
            )
    return lines


def run_demo(folder: Path, *, say: Callable[[str], None] = print) -> DemoResult:
    """The demo, start to end; `say` prints one progress line per step."""
    from pipeline.health import posting_counts

    started = time.monotonic()
    folder = folder.resolve()
    prepare_folder(folder)
    settings = demo_settings(folder)
    engine = db.make_engine(settings.database_url)
    try:
        db.migrate(engine)
        say(f"created a fresh database and outbox in {folder}")
        with DemoServer() as server:
            every = load_sources(write_sources(folder, server.url))
            say(f"serving recorded and hand-made job-board responses on {server.url}")
            kinds = ", ".join(dict.fromkeys(s.kind for s in every))
            say(f"crawling {len(every)} sources of every kind ({kinds}) in a child process ...")
            done = crawl(settings, folder)
        sources = source_lines(engine)
        if not sources:
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise DemoError(f"the crawl stored nothing (exit {done.returncode}): {tail}")
        at = subscribe_all(settings, engine)
        say(
            f"subscribed {len(SUBSCRIBERS)} example subscribers; sending the digests due at {at:%Y-%m-%d %H:%M} UTC ..."
        )
        digests = send_digests(settings, engine, at, folder)
        with db.session_scope(engine) as session:
            open_count = posting_counts(session).get("open", 0)
    finally:
        engine.dispose()
    return DemoResult(
        folder=folder, at=at, sources=sources, digests=digests, postings_open=open_count,
        elapsed_s=time.monotonic() - started, serve_command=serve_command(settings),
        base_url=settings.base_url,
        listings_command=andon_command(
            settings, "listings", "--location", "Detroit, MI", "--within", "150"
        ),
    )  # fmt: skip
