"""Re-crawls that skip unchanged items: a fingerprint of each raw item, checked before relevance.

The fingerprint is a hash of what the spider yielded (every `JobItem` field but `crawled_at` and
what later stages write on it), salted with the role profile's TOML text and `PIPELINE_VERSION`,
so a new profile or a new pipeline re-processes everything. It is stored with the item's sighting (`posting_sources`).
`SkipUnchangedPipeline` loads a source's known fingerprints with one query on the source's first
item, then checks each item in memory: an unchanged one becomes an `Unchanged` marker that the
later stages pass along and the store turns into a batched `last_seen_at` update
(`touch_unchanged`). An item the
relevance stage dropped before with the same fingerprint (`pipeline.dropped`) is dropped again
for the same reason without being judged.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from typing import Any

from scrapy import signals
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from db import id_in, session_scope
from pipeline.dropped import Drop, Dropped, dropped_fingerprints
from pipeline.models import Posting, PostingSource
from pipeline.relevance import Irrelevant
from spiders.items import JobItem

# Raise this whenever a change to relevance, normalisation, enrichment or dedup should
# re-process items that did not change at their source (their stored values or their verdict
# would differ now).
# (.2: fingerprints encode a fixed-order array of values, not a sorted-key object.)
PIPELINE_VERSION = "2026-11-30.2"

# Not what the source said: when it was crawled, and what the relevance stage wrote on the item
# (decided by the role profile, which is in the salt). A field added to JobItem counts by default.
_NOT_FROM_SOURCE = frozenset({"crawled_at", "relevance_rule"})
_FIELDS = tuple(f.name for f in fields(JobItem) if f.name not in _NOT_FROM_SOURCE)


# The values of `_FIELDS`, in that fixed order, as one JSON array: the same as
# json.dumps([getattr(item, name) for name in _FIELDS], sort_keys=True, default=str,
# separators=(",", ":")), one encoder for every item. A fixed order needs no key names and no
# sort of the top level; sort_keys still makes the order of keys inside `extra`, `salary` and
# `location_parts` irrelevant; default=str covers datetimes and odd values in extra. ASCII output
# (non-ASCII text as \u escapes, lone surrogates included) takes json's fast C path for strings:
# ~5 us an item against ~19 us for a sorted-key dict with ensure_ascii=False.
_VALUES = attrgetter(*_FIELDS)
_ENCODE = json.JSONEncoder(
    sort_keys=True, default=str, ensure_ascii=True, separators=(",", ":")
).encode


def profile_salt(profile_path: str | Path | None) -> bytes:
    """What invalidates every fingerprint: the pipeline's version and the role profile's text."""
    from pipeline.relevance import DEFAULT_PROFILE

    text = Path(profile_path or DEFAULT_PROFILE).read_bytes()
    return hashlib.blake2b(PIPELINE_VERSION.encode() + b"\0" + text, digest_size=16).digest()


def fingerprint(item: JobItem, salt: bytes) -> str:
    """A stable hash of the raw item's fields (not `crawled_at`), keyed by `salt`."""
    data = _ENCODE(_VALUES(item)).encode("ascii")
    return hashlib.blake2b(data, key=salt, digest_size=16).hexdigest()


@dataclass(frozen=True)
class Known:
    """A stored, open sighting of an open posting, with the fingerprint it was stored with."""

    fingerprint: str
    sighting_id: int
    posting_id: int


@dataclass(frozen=True)
class Unchanged:
    """An item whose fingerprint matches its stored sighting: only its `last_seen_at` moves."""

    source: str
    external_id: str
    sighting_id: int
    posting_id: int


def known_fingerprints(engine: Engine, source: str) -> dict[str, Known]:
    """The source's open sightings of open postings that carry a fingerprint, in one query."""
    query = (
        select(
            col(PostingSource.external_id),
            col(PostingSource.fingerprint),
            col(PostingSource.id),
            col(PostingSource.posting_id),
        )
        .join(Posting, col(Posting.id) == col(PostingSource.posting_id))
        .where(
            col(PostingSource.source) == source,
            col(PostingSource.status) == "open",
            col(PostingSource.fingerprint).is_not(None),
            col(Posting.status) == "open",
        )
    )
    with session_scope(engine) as session:
        return {ext: Known(fp, sid, pid) for ext, fp, sid, pid in session.execute(query)}


class FingerprintBook:
    """One crawl's fingerprints: those computed for items on their way, by (source, external id).

    Shared by the skip stage (which writes) and the normalize stage (which hands each one to its
    `CleanPosting`); entries of dropped items are forgotten on Scrapy's `item_dropped` signal,
    those the relevance stage dropped noted in `drops` for the store stage to remember.
    """

    def __init__(self) -> None:
        self.pending: dict[tuple[str, str], str] = {}
        self.drops: list[Drop] = []  # judged irrelevant in this crawl
        self.redropped: list[int] = []  # remembered drops seen again unchanged (row ids)

    @classmethod
    def of(cls, crawler: Any) -> FingerprintBook:
        book = getattr(crawler, "andon_fingerprints", None)
        if book is None:
            book = crawler.andon_fingerprints = cls()
            crawler.signals.connect(book.forget, signal=signals.item_dropped)
        return book

    def take(self, source: str, external_id: str) -> str | None:
        return self.pending.pop((source, external_id), None)

    def forget(self, item: Any, exception: Any = None, **_kwargs: Any) -> None:
        if isinstance(item, JobItem):
            digest = self.pending.pop((item.source, item.external_id), None)
            if digest is not None and isinstance(exception, Irrelevant):
                self.drops.append(Drop(item.source, item.external_id, digest, exception.reason))


class SkipUnchangedPipeline:
    """The first stage: an item stored before with the same fingerprint skips the whole pipeline."""

    def __init__(self, crawler: Any, engine: Engine, salt: bytes) -> None:
        self.crawler = crawler
        self.engine = engine
        self.salt = salt
        self.book = FingerprintBook.of(crawler)
        self.known: dict[str, dict[str, Known]] = {}  # per source, loaded on its first item
        self.dropped: dict[str, dict[str, Dropped]] = {}  # likewise
        # counted here and added to the crawl's stats at close: Scrapy's inc_value goes through
        # two deprecation wrappers (~4 us a call, ~10 ms for a 2,000-item crawl)
        self.counts: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler: Any) -> SkipUnchangedPipeline:
        from config import load_settings
        from db import make_engine

        app = getattr(crawler, "andon_settings", None) or load_settings()
        salt = profile_salt(crawler.settings.get("ANDON_ROLE_PROFILE"))
        return cls(crawler, make_engine(app.database_url), salt)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, JobItem) or not item.source or not item.external_id:
            return item
        known = self.known.get(item.source)
        if known is None:
            known = self.known[item.source] = known_fingerprints(self.engine, item.source)
            self.dropped[item.source] = dropped_fingerprints(self.engine, item.source)
        digest = fingerprint(item, self.salt)
        hit = known.get(item.external_id)
        if hit is not None and hit.fingerprint == digest:
            self.counts["andon/fingerprint/unchanged"] += 1
            return Unchanged(item.source, item.external_id, hit.sighting_id, hit.posting_id)
        drop = self.dropped[item.source].get(item.external_id)
        if drop is not None and drop.fingerprint == digest:
            # counted as the relevance stage counts its drops, which it would repeat
            self.counts["andon/fingerprint/dropped_unchanged"] += 1
            self.counts[f"andon/relevance/dropped/{drop.reason}"] += 1
            self.book.redropped.append(drop.row_id)
            raise Irrelevant(drop.reason)
        self.counts["andon/fingerprint/changed" if hit else "andon/fingerprint/new"] += 1
        self.book.pending[(item.source, item.external_id)] = digest
        return item

    def close_spider(self) -> None:
        # before the spider_closed signal, where the store records the crawl's stats
        for key, count in self.counts.items():
            self.crawler.stats.inc_value(key, count)
        self.counts.clear()
        self.known.clear()
        self.dropped.clear()
        self.engine.dispose()


# ids per UPDATE: a store batch (200 by default) fits in one; SQLite allows 32,766 parameters
_TOUCH_CHUNK = 5_000


def touch_unchanged(
    session: Session, sighting_ids: Sequence[int], posting_ids: Sequence[int], *, now: datetime
) -> int:
    """Mark unchanged re-crawled items seen: one UPDATE of their sightings, one of their postings.

    Only open rows move: a posting closed since the crawl loaded its fingerprints stays closed,
    and its sighting's old `last_seen_at` lets the next crawl process (and reopen) it in full.
    Returns how many sightings moved. Rows the session holds are not updated in memory (no
    synchronize_session): the store calls it in a session of its own.

    On SQLite both are UPDATE OR FAIL: no constraint can fail there, and a statement that may
    abort inside a transaction first copies every page it changes to a statement journal, a
    temporary file (~1,300 pages, one a posting, in the bench's re-crawl). A failed statement
    fails the store's whole transaction either way.
    """
    moved = 0
    for start in range(0, len(sighting_ids), _TOUCH_CHUNK):
        res = session.execute(
            update(PostingSource)
            .where(
                id_in(col(PostingSource.id), sighting_ids[start : start + _TOUCH_CHUNK], session),
                col(PostingSource.status) == "open",
            )
            .values(last_seen_at=now)
            .prefix_with("OR FAIL", dialect="sqlite")
            .execution_options(synchronize_session=False)
        )
        moved += res.rowcount or 0  # type: ignore[attr-defined]  # DML returns a CursorResult
    ids = sorted(set(posting_ids))
    for start in range(0, len(ids), _TOUCH_CHUNK):
        session.execute(
            update(Posting)
            .where(
                id_in(col(Posting.id), ids[start : start + _TOUCH_CHUNK], session),
                col(Posting.status) == "open",
            )
            .values(last_seen_at=now)
            .prefix_with("OR FAIL", dialect="sqlite")
            .execution_options(synchronize_session=False)
        )
    return moved
