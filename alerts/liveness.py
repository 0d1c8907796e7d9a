"""Is an old job still open? Re-checked once, just before its digest is sent.

A digest can carry a job that was posted weeks ago (first seen late, or re-listed). Before the
send phase, every posting in a waiting digest whose posting date is more than `STALE_AFTER` old
is asked about with one request to its source: the spider class's `liveness_url` (a per-job API
endpoint: Greenhouse, Lever, SmartRecruiters, Workday's CXS detail; asked with GET) when the kind
has one, else the sighting's own URL (HEAD, then GET when HEAD is not allowed).
404 and 410 mean gone: the posting is closed (through the pipeline's `close_postings`) and the
send leaves it out, since a digest only shows live postings. Anything else — 200, a redirect,
5xx, a timeout — keeps the job: only a definite answer closes.

Requests go out politely: per source one at a time with a pause between them, at most
`MAX_PER_SOURCE` per run, each source's `base_url` honoured as a crawl would, and no request to
a loopback or private address unless the source's entry allows it (`allow_private`): the host
as written (`spiders.netguard.named_internal`) and every address its name resolves to.
The network sits behind `LivenessChecker.gone`, so tests use a loopback server.
"""

from __future__ import annotations

import logging
import socket
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from alerts.models import Delivery, Digest
from alerts.render import ClosedJob
from config import Settings
from db import session_scope, utcnow
from pipeline.models import Posting, PostingSource
from pipeline.store import close_postings

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(days=14)
GONE = frozenset({404, 410})
MAX_PER_SOURCE = 100  # per run: a big backlog is checked over several runs, not in one burst
PAUSE_S = 1.0  # between two requests to one source


@dataclass(frozen=True)
class Check:
    """One request: is this posting still at this URL?"""

    posting_id: int
    source: str
    url: str
    api: bool = False  # a kind's per-job API endpoint: asked with GET, what it is built for


class LivenessChecker(Protocol):
    """The network part: which of these postings answered 404/410."""

    def gone(self, checks: Sequence[Check]) -> set[int]: ...


class HttpLiveness:
    """`LivenessChecker` over HTTP with httpx: per source sequential, paused, capped."""

    def __init__(self, user_agent: str, *, timeout: float = 15.0, pause_s: float = PAUSE_S) -> None:
        self.user_agent = user_agent
        self.timeout = timeout
        self.pause_s = pause_s

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpLiveness:
        from spiders.settings import user_agent

        return cls(user_agent(settings))

    def gone(self, checks: Sequence[Check]) -> set[int]:
        by_source: dict[str, list[Check]] = defaultdict(list)
        for check in checks:
            by_source[check.source].append(check)
        out: set[int] = set()
        headers = {"User-Agent": self.user_agent}
        with httpx.Client(timeout=self.timeout, headers=headers, follow_redirects=True) as client:
            for batch in by_source.values():
                for i, check in enumerate(batch[:MAX_PER_SOURCE]):
                    if i and self.pause_s:
                        time.sleep(self.pause_s)  # politeness toward one board
                    if _status(client, check.url, head=not check.api) in GONE:
                        out.add(check.posting_id)
        return out


def _status(client: httpx.Client, url: str, *, head: bool = True) -> int | None:
    try:
        if head:
            response = client.head(url)
            if response.status_code not in (405, 501):  # else HEAD is not allowed: GET
                return response.status_code
        with client.stream("GET", url) as streamed:  # the status only: the body is never read
            return streamed.status_code
    except httpx.HTTPError as exc:
        log.info("liveness check of %s failed: %s", url, exc)
        return None


def recheck_stale(
    settings: Settings, engine: Engine, at: datetime, checker: LivenessChecker
) -> int:
    """Re-check the stale postings of every waiting digest; close those gone. How many closed."""
    with session_scope(engine) as session:
        checks = stale_checks(session, settings, at)
    if not checks:
        return 0
    gone = checker.gone(checks)
    if not gone:
        return 0
    with session_scope(engine) as session:
        closed = close_postings(session, sorted(gone), now=utcnow())
        session.execute(
            PostingSource.__table__.update()  # type: ignore[attr-defined]
            .where(col(PostingSource.posting_id).in_(sorted(gone)))
            .values(status="closed")
        )
    log.info("liveness: %d of %d old jobs answered gone and were closed", closed, len(checks))
    return closed


def stale_checks(session: Session, settings: Settings, at: datetime) -> list[Check]:
    """One check per open posting, posted more than `STALE_AFTER` before `at`, that waits in a
    pending digest; through each source's `base_url`, never to an address it may not reach."""
    rows = session.execute(
        select(
            col(Posting.id),
            col(PostingSource.source),
            col(PostingSource.external_id),
            col(PostingSource.url),
        )
        .join(Delivery, col(Delivery.posting_id) == col(Posting.id))
        .join(Digest, col(Digest.id) == col(Delivery.digest_id))
        .join(PostingSource, col(PostingSource.posting_id) == col(Posting.id))
        .where(
            col(Digest.status).in_(("pending", "sending")),
            col(Posting.status) == "open",
            col(PostingSource.status) == "open",
            or_(
                and_(
                    col(Posting.posted_at).is_not(None), col(Posting.posted_at) < at - STALE_AFTER
                ),
                and_(
                    col(Posting.posted_at).is_(None), col(Posting.first_seen_at) < at - STALE_AFTER
                ),
            ),
        )
        .order_by(col(Posting.id), col(PostingSource.id))
    ).all()
    sources = _sources(settings)
    out: dict[int, Check] = {}
    refused: dict[str, str | None] = {}  # host -> why it may not be asked (one lookup per host)
    for pid, source, external_id, url in rows:
        if pid in out or source not in sources:
            continue  # one request per posting; a source no longer configured is not asked
        entry = sources[source]
        found = _url_for(entry, external_id, url)
        if found is None:
            continue
        target, api = found
        host = (urlsplit(target).hostname or "").rstrip(".")
        if not entry.allow_private:
            if host not in refused:
                refused[host] = internal_host(host)
            if refused[host]:
                log.info("liveness: not asking %s: %s", source, refused[host])
                continue
        out[pid] = Check(pid, source, target, api)
    return list(out.values())


def _sources(settings: Settings) -> dict[str, Any]:
    from spiders.sources import load_sources

    try:
        return {s.name: s for s in load_sources(settings.sources)}
    except Exception as exc:  # a broken sources file must not stop the digests
        log.warning("liveness: cannot read the sources file (%s); no job re-checked", exc)
        return {}


def _url_for(source: Any, external_id: str, url: str | None) -> tuple[str, bool] | None:
    """The kind's per-job API URL (and True), else the posting's; through the entry's `base_url`."""
    from spiders.base import apply_base_url
    from spiders.registry import spider_for

    try:
        cls = spider_for(source.kind)
    except Exception:
        return None
    api_url = cls.liveness_url(source, external_id, url)
    target = api_url or url
    if not target or urlsplit(target).scheme not in ("http", "https"):
        return None
    parts = urlsplit(apply_base_url(target, source.base_url))
    return urlunsplit(parts._replace(fragment="")), api_url is not None


def resolve(host: str) -> list[str]:
    """Every address `host` resolves to (the system resolver, as httpx will connect)."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def internal_host(host: str) -> str | None:
    """Why a host may not be asked without `allow_private`: as written (`localhost`,
    `10.0.0.5`), or a name that resolves to a non-public address; None when public.

    Every address counts, not only the first: httpx may connect to any of them. A name that
    does not resolve is left to the request, which then fails and keeps the job.
    """
    from spiders.netguard import internal_kind, literal_ip, named_internal

    if why := named_internal(host):
        return why
    try:
        addresses = resolve(host)
    except (OSError, UnicodeError):
        return None
    for address in addresses:
        ip = literal_ip(address)
        if ip is not None and (kind := internal_kind(ip)):
            return f"name {host!r} resolving to the {kind} address {ip}"
    return None


def closed_since_sent(session: Session, subscriber_id: int, search_id: int) -> list[int]:
    """Postings sent to this subscriber by this search's digests that closed after that digest
    went out and were never listed under "No longer open"."""
    from alerts.models import ClosedNotice

    noticed = select(col(ClosedNotice.posting_id)).where(
        col(ClosedNotice.subscriber_id) == subscriber_id
    )
    return list(
        session.execute(
            select(col(Posting.id))
            .join(Delivery, col(Delivery.posting_id) == col(Posting.id))
            .join(Digest, col(Digest.id) == col(Delivery.digest_id))
            .where(
                col(Delivery.subscriber_id) == subscriber_id,
                col(Digest.saved_search_id) == search_id,
                col(Digest.status) == "sent",
                col(Posting.status) == "closed",
                col(Posting.closed_at) > col(Digest.sent_at),
                col(Posting.id).not_in(noticed),
            )
            .order_by(col(Posting.closed_at), col(Posting.id))
        ).scalars()
    )


def closed_jobs(session: Session, digest_id: int, timezone: str) -> list[ClosedJob]:
    """The "No longer open" list of one digest: title, company, the day it closed (local)."""
    from alerts.cadence import zone
    from alerts.models import ClosedNotice

    rows = session.execute(
        select(col(Posting.title), col(Posting.company), col(Posting.closed_at))
        .join(ClosedNotice, col(ClosedNotice.posting_id) == col(Posting.id))
        .where(col(ClosedNotice.digest_id) == digest_id)
        .order_by(col(Posting.closed_at), col(Posting.id))
    ).all()
    tz = zone(timezone)
    out = []
    for title, company, closed_at in rows:
        local = closed_at.astimezone(tz) if closed_at else None
        out.append(ClosedJob(title, company, f"{local:%b} {local.day}" if local else "recently"))
    return out
