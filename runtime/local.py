"""`LocalLauncher`: each crawl in a child process of the scheduler (`python -m spiders.runner`).

A Twisted reactor cannot restart in one process, hence a process per crawl. The child leads its
own process group (so a kill takes its children too), stops itself at its own time limit and
when the scheduler dies (`spiders.guard`), and carries a random token in its environment so a
later leader can recognise it among this machine's processes (`runtime.orphans`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import IO

from sqlalchemy.engine import Engine

from config import PROJECT_DIR, Settings
from db import utcnow
from runtime import slots
from runtime.launcher import Clock, Ended, Handle, LaunchError
from spiders.sources import Source

TOKEN_ENV = "ANDON_CRAWL_TOKEN"
# SIGTERM → SIGKILL when a crawl is cancelled; a child also stops itself this long after the
# limit its parent enforces, should the parent not
TERM_GRACE_S = 10.0


def crawl_command(
    settings: Settings, source: Source, sources_path: Path, *, time_limit_s: float | None = None
) -> list[str]:
    """The child's command line: the runner's entry point with the default pipelines."""
    cmd = [sys.executable, "-m", "spiders.runner", "--sources", str(sources_path)]
    cmd += ["--only", source.name, "--set", 'LOG_LEVEL="WARNING"']
    cmd += ["--parent-pid", str(os.getpid())]
    if time_limit_s is not None:
        cmd += ["--time-limit", f"{time_limit_s + TERM_GRACE_S:.0f}"]
    for key, value in settings.scrapy_overrides.items():
        cmd += ["--set", f"{key}={json.dumps(value)}"]
    return cmd


def child_env(settings: Settings, sources_path: Path) -> dict[str, str]:
    """The environment plus the settings a child must share with us (they may not be in it)."""
    env = dict(os.environ)
    env["ANDON_DATABASE_URL"] = settings.database_url
    env["ANDON_SOURCES"] = str(sources_path)
    env["ANDON_CRAWL_TIMEOUT_S"] = str(settings.crawl_timeout_s)
    env["ANDON_SCRAPY_OVERRIDES"] = json.dumps(settings.scrapy_overrides)
    if settings.role_profile:
        env["ANDON_ROLE_PROFILE"] = str(settings.role_profile)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PROJECT_DIR), env.get("PYTHONPATH", "")) if p
    )
    return env


def signal_group(pgid: int, sig: int) -> None:
    """Signal a process group; one that is gone already is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _last_line(data: bytes) -> str:
    lines = [ln.strip() for ln in data.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


class LocalLauncher:
    """Crawls as child processes of this scheduler, each recorded in a slot."""

    name = "local"

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        sources_path: Path,
        leader: str,
        command: Sequence[str] | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.sources_path = sources_path
        self.leader = leader
        self.command = list(command) if command else None
        self.clock = clock
        self._running: dict[str, Handle] = {}
        self._lock = threading.Lock()

    def launch(self, source: Source, timeout_s: float) -> Handle:
        cmd = self.command or crawl_command(
            self.settings, source, self.sources_path, time_limit_s=timeout_s
        )
        token = uuid.uuid4().hex
        env = {**child_env(self.settings, self.sources_path), TOKEN_ENV: token}
        # closed in `release`, once the crawl has ended
        out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # noqa: SIM115
        try:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                start_new_session=True,
            )  # fmt: skip
        except OSError as exc:
            out.close()
            err.close()
            raise LaunchError(f"could not start the crawl process: {exc}") from exc
        started = self.clock()
        handle = Handle(
            source, f"pid {proc.pid}", started, ref=proc, extra={"out": out, "err": err}
        )
        slot = slots.Slot(
            source=source.name, leader=self.leader, started=started.isoformat(),
            host=slots.HOST, pgid=proc.pid, token=token,
        )  # fmt: skip
        expires = started + timedelta(seconds=timeout_s + 2 * TERM_GRACE_S)
        with self._lock:
            self._running[source.name] = handle
        slots.claim(self.engine, slot, expires_at=expires)
        return handle

    def poll(self, handle: Handle) -> Ended | None:
        proc: subprocess.Popen[bytes] = handle.ref
        if proc.poll() is None:
            return None
        # whatever the child left behind in its group (a grandchild that ignored SIGTERM) goes
        signal_group(proc.pid, signal.SIGKILL)
        err: IO[bytes] = handle.extra["err"]
        err.seek(0)
        return Ended(proc.returncode, _last_line(err.read()))

    def cancel(self, handle: Handle, *, hard: bool = False) -> None:
        signal_group(handle.ref.pid, signal.SIGKILL if hard else signal.SIGTERM)

    def running(self) -> list[Handle]:
        with self._lock:
            return list(self._running.values())

    def release(self, handle: Handle) -> None:
        for key in ("out", "err"):
            handle.extra[key].close()
        with self._lock:
            self._running.pop(handle.source.name, None)
        slots.release(self.engine, handle.source.name, leader=self.leader)
