"""`ScrapydLauncher`: each crawl as a job on one of the Scrapyd nodes of `ANDON_SCRAPYD_URLS`.

Through Scrapyd's JSON API: `listjobs.json` to count each node's jobs (the crawl goes to the
node with the fewest; a node that does not answer gets none), `schedule.json` with spider
`<kind>` and the argument `source=<name>` (`runtime.node` resolves it), `listjobs.json` again to
follow the job, `cancel.json` to stop it (TERM, then KILL). A source with a crawl in flight
(its slot, `runtime.slots`) is not dispatched again. A node that stops answering for
`LOST_AFTER_S`, or forgets the job (restarted), loses the crawl: `runtime.crawls` records it
failed, so it closes nothing, and the schedule dispatches it again at its next due time.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine

from config import Settings
from db import utcnow
from runtime import slots
from runtime.launcher import Clock, Ended, Handle, LaunchError, SourceBusy
from spiders.sources import Source

log = logging.getLogger("andon.scheduler")

PROJECT = "andon"  # scrapy.cfg's [settings] name for runtime.node
HTTP_TIMEOUT_S = 10.0
# schedule.json lists the project's spiders in a new process first: seconds on a busy node
SCHEDULE_TIMEOUT_S = 60.0
LOST_AFTER_S = 30.0  # a node silent this long has lost its crawls
POLL_S = 2.0  # how often a crawl's job is looked up on its node
SLOT_GRACE_S = 120.0


class NodeError(RuntimeError):
    """A Scrapyd node did not answer, or answered with an error."""


class NodeRefused(NodeError):
    """A Scrapyd node answered, with an error."""


def call(
    node: str,
    endpoint: str,
    data: dict[str, Any] | None = None,
    *,
    timeout: float = HTTP_TIMEOUT_S,
    **query: str,
) -> Any:
    """One Scrapyd API call: GET with `query`, or POST `data` (form-encoded)."""
    url = f"{node}/{endpoint}"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
    try:
        with urllib.request.urlopen(url, data=body, timeout=timeout) as resp:  # noqa: S310
            answer = json.loads(resp.read().decode("utf-8"))
    except (OSError, ValueError) as exc:  # refused, timed out, reset, not JSON
        raise NodeError(f"{node} did not answer {endpoint}: {exc}") from exc
    if answer.get("status") != "ok":
        raise NodeRefused(f"{node} refused {endpoint}: {answer.get('message', answer)}")
    return answer


def jobs_on(node: str) -> dict[str, str]:
    """The node's andon jobs by id: `pending`, `running` or `finished`."""
    answer = call(node, "listjobs.json", project=PROJECT)
    return {
        job["id"]: state for state in ("pending", "running", "finished") for job in answer[state]
    }


def node_states(nodes: list[str], *, timeout: float = 3.0) -> dict[str, str]:
    """Each node's state for `andon status`: its job counts, or that it does not answer."""
    out = {}
    for node in nodes:
        try:
            answer = call(node, "daemonstatus.json", timeout=timeout)
            out[node] = f"{answer.get('running', 0)} running, {answer.get('pending', 0)} pending"
        except NodeError:
            out[node] = "not answering"
    return out


class ScrapydLauncher:
    """Crawls as jobs on Scrapyd nodes, each recorded in a slot."""

    name = "scrapyd"
    poll_s = POLL_S

    def __init__(
        self, settings: Settings, engine: Engine, *, leader: str, clock: Clock = utcnow
    ) -> None:
        self.nodes = settings.scrapyd_nodes()
        self.engine = engine
        self.leader = leader
        self.clock = clock
        self._running: dict[str, Handle] = {}
        self._lock = threading.Lock()  # crawl jobs run in several threads: one dispatch at once

    def loads(self) -> dict[str, int | None]:
        """Each node's pending and running andon jobs; None for a node that does not answer."""
        out: dict[str, int | None] = {}
        for node in self.nodes:
            try:
                out[node] = sum(1 for s in jobs_on(node).values() if s != "finished")
            except NodeError as exc:
                log.warning("scrapyd: %s", exc)
                out[node] = None
        return out

    def launch(self, source: Source, timeout_s: float) -> Handle:
        with self._lock:
            if source.name in slots.busy_sources(self.engine):
                raise SourceBusy(f"{source.name} is being crawled already")
            answering = {n: c for n, c in self.loads().items() if c is not None}
            if not answering:
                raise LaunchError(f"no Scrapyd node answered ({', '.join(self.nodes)})")
            node = min(answering, key=lambda n: (answering[n], self.nodes.index(n)))
            started = self.clock()
            job = self._schedule(node, source)
            slot = slots.Slot(source.name, self.leader, started.isoformat(), node=node, job=job)
            expires = started + timedelta(seconds=timeout_s + SLOT_GRACE_S)
            slots.claim(self.engine, slot, expires_at=expires)
            handle = Handle(source, f"{node} job {job}", started, ref=job, node=node)
            handle.extra["heard"] = time.monotonic()
            self._running[source.name] = handle
        log.info("crawl %s: dispatched to %s as job %s", source.name, node, job)
        return handle

    def _schedule(self, node: str, source: Source) -> str:
        """Schedule the crawl on `node` under a job id of ours, so a lost answer loses nothing."""
        job = uuid.uuid4().hex
        data = {"project": PROJECT, "spider": source.kind, "source": source.name, "jobid": job}
        try:
            call(node, "schedule.json", data, timeout=SCHEDULE_TIMEOUT_S)
        except NodeRefused as exc:
            raise LaunchError(str(exc)) from exc
        except NodeError as exc:
            # the node may have queued it all the same: follow the job; `poll` gives it up
            # as lost if the node never heard of it
            log.warning("scrapyd: %s; following job %s all the same", exc, job)
        return job

    def poll(self, handle: Handle) -> Ended | None:
        assert handle.node is not None
        try:
            state = jobs_on(handle.node).get(handle.ref)
        except NodeError as exc:
            if time.monotonic() - handle.extra["heard"] >= LOST_AFTER_S:
                return Ended(None, str(exc), lost=True)
            return None
        if state is None and time.monotonic() - handle.extra["heard"] >= LOST_AFTER_S:
            # never queued (a lost schedule call), or the node restarted and forgot its jobs
            return Ended(None, f"{handle.node} does not know job {handle.ref}", lost=True)
        if state is None:
            return None
        handle.extra["heard"] = time.monotonic()
        return Ended(None) if state == "finished" else None

    def cancel(self, handle: Handle, *, hard: bool = False) -> None:
        assert handle.node is not None
        self._cancel(handle.node, str(handle.ref), hard=hard)

    def cancel_slot(self, slot: slots.Slot) -> None:
        """End a job a previous leader dispatched (its orphan)."""
        if slot.node and slot.job:
            self._cancel(slot.node, slot.job, hard=False)

    def _cancel(self, node: str, job: str, *, hard: bool) -> None:
        data = {"project": PROJECT, "job": job, "signal": "KILL" if hard else "TERM"}
        try:
            call(node, "cancel.json", data)
        except NodeError as exc:
            log.warning("scrapyd: could not cancel job %s: %s", job, exc)

    def running(self) -> list[Handle]:
        with self._lock:
            return list(self._running.values())

    def release(self, handle: Handle) -> None:
        with self._lock:
            self._running.pop(handle.source.name, None)
        slots.release(self.engine, handle.source.name, leader=self.leader)
