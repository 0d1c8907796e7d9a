"""Dedup candidates of a store batch: the stored postings its new items might duplicate.

`find_candidates` reads, in three queries, the postings sharing an item's requisition id, job
URL or (company, title, place) key, as light rows (`Light`: id and text); `find_duplicate`
picks an item's duplicate among them (`pipeline.store` loads the whole posting only for it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import select, tuple_
from sqlmodel import Session, col

from pipeline.keys import company_key, place_key, shingles, similarity, title_key
from pipeline.keys import url_key as full_url_key
from pipeline.models import Posting, PostingSource
from pipeline.record import CleanPosting
from pipeline.storable import storable_id

NEAR_DUPLICATE = 0.6
# Shingle sets are remembered by their text for this many texts up to `_REMEMBER_TEXT` chars:
# a stored posting sharing a key is compared again in each later batch (~25 us to shingle).
_REMEMBERED_TEXTS = 1024
_REMEMBER_TEXT = 10_000


@lru_cache(maxsize=4096)  # a batch asks for each item's key four times
def url_key(url: str | None) -> str | None:
    """`pipeline.keys.url_key`, hashed when too long for its index (equal URLs, equal keys)."""
    key = full_url_key(url)
    return storable_id(key, 1000) if key is not None else None


@dataclass(frozen=True, eq=False)
class Light:
    """A stored posting an item might duplicate: all the check reads (`find_duplicate`)."""

    id: int
    description_text: str | None


@dataclass
class Candidates:
    posting_ids: set[int] = field(default_factory=set)
    by_req: dict[tuple[str, str], Any] = field(default_factory=dict)
    by_url: dict[str, Any] = field(default_factory=dict)
    by_key: dict[tuple[str, str, str], list[Any]] = field(default_factory=dict)

    def resolve(self, loaded: dict[int, Posting], light: dict[int, Light]) -> None:
        """Replace the posting ids read from the database by the postings (or light rows)."""

        def pick(pid: int) -> Any:
            return loaded.get(pid) or light[pid]

        self.by_req = {k: pick(v) for k, v in self.by_req.items()}
        self.by_url = {k: pick(v) for k, v in self.by_url.items()}
        self.by_key = {k: [pick(v) for v in vs] for k, vs in self.by_key.items()}


def find_candidates(session: Session, items: list[CleanPosting]) -> Candidates:
    """Existing postings that items not yet seen could be duplicates of, in three queries."""
    found = Candidates()
    if not items:
        return found
    reqs = {(i.source, i.req_id) for i in items if i.req_id}
    if reqs:
        rows = session.execute(
            select(
                col(PostingSource.source), col(PostingSource.req_id), col(PostingSource.posting_id)
            ).where(tuple_(PostingSource.source, PostingSource.req_id).in_(list(reqs)))
        ).all()
        for source, req, pid in rows:
            found.by_req[(source, req)] = pid
            found.posting_ids.add(pid)
    urls = {u for i in items if (u := url_key(i.url))}
    if urls:
        rows = session.execute(
            select(col(PostingSource.url_key), col(PostingSource.posting_id)).where(
                PostingSource.url_key.in_(list(urls))  # type: ignore[union-attr]
            )
        ).all()
        for ukey, pid in rows:
            found.by_url[ukey] = pid
            found.posting_ids.add(pid)
    # the whole key, place included: a near-duplicate must share it, and a big employer has
    # thousands of postings with one title in other places (loading those was most of a batch)
    triples = {dedup_key(i) for i in items}
    rows = session.execute(
        select(
            col(Posting.id),
            col(Posting.company_key),
            col(Posting.title_key),
            col(Posting.place_key),
        ).where(
            tuple_(Posting.company_key, Posting.title_key, Posting.place_key).in_(list(triples))
        )
    ).all()
    for pid, ck, tk, pk in rows:
        found.by_key.setdefault((ck, tk, pk), []).append(pid)
        found.posting_ids.add(pid)
    return found


def load_light(session: Session, ids: Iterable[int]) -> dict[int, Light]:
    """Candidates as id and text: loading whole ORM postings cost more than comparing them."""
    ids = list(ids)
    if not ids:
        return {}
    query = select(col(Posting.id), col(Posting.description_text)).where(col(Posting.id).in_(ids))
    return {pid: Light(pid, text) for pid, text in session.execute(query)}


def find_duplicate(item: CleanPosting, dkey: tuple[str, str, str], found: Candidates) -> Any:
    if item.req_id and (hit := found.by_req.get((item.source, item.req_id))) is not None:
        return hit
    if (ukey := url_key(item.url)) and (hit := found.by_url.get(ukey)) is not None:
        return hit
    own = item.description_text
    text: frozenset[int] | None = None  # shingled only when a posting shares the key
    for candidate in found.by_key.get(dkey, []):
        if candidate.description_text == own:
            return candidate  # the same text: similarity 1.0, nothing to shingle
        if text is None:
            text = text_shingles(own)
        other = text_shingles(candidate.description_text)
        small, big = sorted((len(text), len(other)))
        # Jaccard is at most the ratio of the sizes: no intersection when that is too small
        if big and small / big < NEAR_DUPLICATE:
            continue
        if similarity(text, other) >= NEAR_DUPLICATE:
            return candidate
    return None


def text_shingles(text: str | None) -> frozenset[int]:
    """`pipeline.keys.shingles`, remembered for texts of at most `_REMEMBER_TEXT` characters."""
    if text is not None and len(text) > _REMEMBER_TEXT:
        return shingles(text)
    return _remembered_shingles(text)


@lru_cache(maxsize=_REMEMBERED_TEXTS)
def _remembered_shingles(text: str | None) -> frozenset[int]:
    return shingles(text)


def forget_shingles() -> None:
    """Empty the remembered shingle sets (a benchmark's round starts as a new crawl process)."""
    _remembered_shingles.cache_clear()


def dedup_key(item: CleanPosting) -> tuple[str, str, str]:
    return (
        company_key(item.company),
        title_key(item.title),
        place_key(item.city, item.region, item.country, item.workplace, item.location_text),
    )
