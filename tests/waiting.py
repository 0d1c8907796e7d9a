"""Waits on events other processes cause: an output line, a process's exit, a scheduler job's end.

Each wait blocks on something the kernel or a thread signals (a pipe, a pidfd, a condition), with
a deadline only as the bound of a failing test: none of them sleeps and looks again.
"""

from __future__ import annotations

import os
import queue
import select
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED

T = TypeVar("T")


class Proc:
    """A child process whose output lines arrive on a queue, so tests wait for a line.

    Reads stderr; with `merge=True` stdout and stderr together (a program that logs to stdout).
    """

    def __init__(
        self, args: list[str], env: dict[str, str], cwd: Path, *, merge: bool = False, **popen: Any
    ) -> None:
        self.popen = subprocess.Popen(
            args, cwd=cwd, env=env, text=True,
            stdout=subprocess.PIPE if merge else subprocess.DEVNULL,
            stderr=subprocess.STDOUT if merge else subprocess.PIPE,
            **popen,
        )  # fmt: skip
        stream = self.popen.stdout if merge else self.popen.stderr
        assert stream is not None
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line)

    def wait_for(self, needle: str, timeout: float = 30) -> str:
        """The first line holding `needle`; fails with everything seen when it never comes."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            if needle in line:
                return line
        raise AssertionError(f"{needle!r} not in:\n{''.join(self.seen)}")

    def output(self, timeout: float = 30) -> str:
        """Everything the process wrote, once it has ended (its pipe closed)."""
        self.popen.wait(timeout)
        self._reader.join(timeout)
        while not self.lines.empty():
            self.seen.append(self.lines.get_nowait())
        return "".join(self.seen)


def process_exit(pid: int, timeout: float) -> bool:
    """Whether process `pid` (any process, not only a child) ended within `timeout` seconds."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        # A pidfd turns readable when its process terminates (a zombie counts as ended).
        readable, _, _ = select.select([fd], [], [], timeout)
        return bool(readable)
    finally:
        os.close(fd)


def read_fifo(path: Path, timeout: float) -> str:
    """What another process writes into the FIFO at `path` (`os.mkfifo`), up to its close."""
    # Opened without blocking; a reader's pipe turns readable on data and on the writer's close.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while (left := deadline - time.monotonic()) > 0 and select.select([fd], [], [], left)[0]:
            if not (chunk := os.read(fd, 4096)):
                break
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks).decode()


class JobsDone:
    """Wakes a waiting test each time one of an APScheduler scheduler's jobs ends."""

    def __init__(self, aps: Any) -> None:
        self._cond = threading.Condition()
        aps.add_listener(self._ended, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    def _ended(self, _event: object) -> None:
        with self._cond:
            self._cond.notify_all()

    def until(self, check: Callable[[], T], what: str, timeout: float = 240) -> T:
        """`check()`'s first true result, looked at now and after each job ends."""
        with self._cond:
            result = self._cond.wait_for(check, timeout)
        if not result:
            raise AssertionError(f"timed out waiting for {what}")
        return result
