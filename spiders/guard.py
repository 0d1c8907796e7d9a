"""`CrawlGuard`: a crawl process stops on SIGTERM, at its own time limit, and when its parent dies.

Scrapy's own SIGTERM handler only asks the reactor to stop, so a reactor busy in one long call
(a slow rule on a huge title) or waiting on a server that never answers ignored it for minutes.
The guard stops in three steps, each only if the one before did not end the process:

1. at once: every spider is closed with a reason (`shutdown`, `timeout`, `orphaned`); the item
   pipelines close as usual, so the store pipeline writes its last batch and the crawl run;
2. after `EXPEDITE_AFTER_S`: downloads still in flight are cancelled (their timeouts fire now);
   after `INTERRUPT_AFTER_S`, every second, code of ours still running on the reactor thread (a spider
   callback, a pipeline stage, but never a database write) is interrupted with `CrawlInterrupted`,
   which Scrapy reports as that item's error and moves on;
3. after `HARD_EXIT_AFTER_S`: the process exits; its parent records the run as failed.

A crawl child of `andon run` also asks Linux to send it SIGUSR1 when its parent dies
(`PR_SET_PDEATHSIG`), and a watchdog thread notices a changed parent pid, so no crawl outlives a
killed scheduler.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

log = logging.getLogger("andon.crawl")

EXPEDITE_AFTER_S = 2.0
INTERRUPT_AFTER_S = 5.0  # a busy machine's slow-but-sound step gets a few seconds to finish
HARD_EXIT_AFTER_S = 30.0
TICK_S = 1.0
WATCH_PARENT_EVERY_S = 1.0
PR_SET_PDEATHSIG = 1
# the parent's death comes as its own signal: Linux may deliver it before `getppid()` changes
PARENT_DIED = signal.SIGUSR1

# Frames of these modules may be interrupted: our spiders and the pipeline stages before storage
_OURS = ("spiders.", "pipeline.", "search.")
# ...but never while these are on the stack: a half-written batch would be lost or doubled
_NEVER = ("pipeline.store", "db.", "sqlalchemy", "psycopg", "spiders.guard")
_FRAMEWORK = ("twisted.", "scrapy.", "asyncio.", "selectors", "threading", "concurrent.")


class CrawlInterrupted(Exception):
    """Raised into a crawl's long-running step after it was asked to stop and did not."""


StopFn = Callable[[str], None]


class CrawlGuard:
    """Signal handlers, a time limit and a parent watch for one crawl process (main thread)."""

    def __init__(
        self,
        stop: StopFn,
        *,
        limit_s: float | None = None,
        parent_pid: int | None = None,
        expedite: Callable[[], object] | None = None,
        hard_exit_after_s: float = HARD_EXIT_AFTER_S,
    ) -> None:
        self._stop = stop
        self._expedite = expedite
        self.limit_s = limit_s
        self.parent_pid = parent_pid
        self.hard_exit_after_s = hard_exit_after_s
        self.reason: str | None = None
        self._stop_at: float | None = None
        self._expedited = False
        self._previous: dict[int, Any] = {}
        self._done = threading.Event()

    @contextlib.contextmanager
    def installed(self) -> Iterator[CrawlGuard]:
        """Install for the duration of the crawl; a no-op outside the main thread."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, PARENT_DIED):
            self._previous[sig] = signal.signal(sig, self._on_signal)
        if self.limit_s:
            signal.setitimer(signal.ITIMER_REAL, max(0.1, self.limit_s))
        if self.parent_pid:
            self._watch_parent(self.parent_pid)
        try:
            yield self
        finally:
            self._done.set()
            signal.setitimer(signal.ITIMER_REAL, 0)
            for number, handler in self._previous.items():
                signal.signal(number, handler)

    # -- the signal handler (main thread, between two bytecodes or inside a long C call) ---------
    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGALRM:
            if self.reason is None:
                self._begin("timeout")
            else:
                self._tick(frame)
        elif self.reason is None:
            self._begin("orphaned" if signum == PARENT_DIED else "shutdown")
        elif signum != PARENT_DIED:
            os._exit(128 + signum)  # asked twice: stop now, as Scrapy does on a second Ctrl-C
        # the parent's death told twice (death signal and watchdog), or after a stop: once is enough

    def _begin(self, reason: str) -> None:
        from twisted.internet import reactor

        self.reason = reason
        self._stop_at = time.monotonic()
        # the reactor runs the stop as soon as it gets control back; the handler itself must
        # not log or touch the reactor's state (it may have interrupted either)
        reactor.callFromThread(self._stop, reason)
        signal.setitimer(signal.ITIMER_REAL, EXPEDITE_AFTER_S, TICK_S)

    def _tick(self, frame: FrameType | None) -> None:
        assert self._stop_at is not None
        waited = time.monotonic() - self._stop_at
        if waited >= self.hard_exit_after_s:
            os.write(2, f"crawl did not stop {waited:.0f}s after {self.reason}: exiting\n".encode())
            os._exit(3)
        if not self._expedited and self._expedite is not None:
            from twisted.internet import reactor

            self._expedited = True
            reactor.callFromThread(self._expedite)
        if waited >= INTERRUPT_AFTER_S and interruptible(frame):
            raise CrawlInterrupted(f"crawl stopping ({self.reason}): interrupted a slow step")

    # -- the parent ----------------------------------------------------------------------------
    def _watch_parent(self, parent_pid: int) -> None:
        set_parent_death_signal(PARENT_DIED)
        if os.getppid() != parent_pid:  # the parent died before we asked to be told
            os.kill(os.getpid(), PARENT_DIED)
            return

        def watch() -> None:
            # a fallback where prctl is missing; it cannot run while a C call holds the GIL,
            # which is why the death signal comes first
            while not self._done.wait(WATCH_PARENT_EVERY_S):
                if os.getppid() != parent_pid:
                    os.kill(os.getpid(), PARENT_DIED)
                    return

        threading.Thread(target=watch, name="andon-parent-watch", daemon=True).start()


def interruptible(frame: FrameType | None) -> bool:
    """Whether the interrupted code is a crawl step of ours that may be abandoned mid-way.

    Looks from the innermost frame outwards and decides at the first frame that is ours (yes)
    or the framework's (no: the reactor waiting, Scrapy at work); library frames in between
    (`re`, lxml, dateparser) are what our step called.
    """
    depth = 0
    while frame is not None and depth < 200:
        module = str(frame.f_globals.get("__name__", ""))
        if module == "db" or module.startswith(_NEVER):
            return False
        if module.startswith(_OURS):
            return True
        if module.startswith(_FRAMEWORK):
            return False
        frame = frame.f_back
        depth += 1
    return False


def set_parent_death_signal(sig: int) -> bool:
    """Ask Linux for `sig` when our parent dies (`prctl(PR_SET_PDEATHSIG)`); False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def expedite_downloads() -> int:
    """Fire now the timeouts of downloads in flight, so a closing spider need not wait for them.

    Scrapy's HTTP handler cancels a download through a delayed `Deferred.cancel`; calling those
    early fails each pending download at once (with a timeout error) instead of after
    `DOWNLOAD_TIMEOUT`. Only used when the crawl is stopping.
    """
    from twisted.internet import defer
    from twisted.internet import reactor as _reactor

    # Twisted types the reactor by its zope interfaces, which mypy reads as unbound methods.
    reactor: Any = _reactor

    fired = 0
    for call in reactor.getDelayedCalls():
        func = getattr(call, "func", None)
        if getattr(func, "__func__", None) is defer.Deferred.cancel and call.active():
            call.reset(0)
            fired += 1
    if fired:
        log.warning("crawl stopping: cancelled %d download(s) in flight", fired)
    return fired
