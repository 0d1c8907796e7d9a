"""The store's fast paths give what the plain code gives: remembered shingles, the equal-text
shortcut of the near-duplicate check, description tokens without `fold`'s memory, the JSON
encoder kept for the engine."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

import db
from bench.ingest import make_items
from db import id_in
from pipeline import candidates, store
from pipeline.candidates import NEAR_DUPLICATE, text_shingles
from pipeline.fingerprint import _FIELDS, fingerprint, profile_salt
from pipeline.keys import shingles, similarity
from pipeline.models import Posting, PostingSource
from pipeline.store import store_batch
from pipeline.tokens import tokenize, tokenize_text
from tests.factories import T0, posting

WORDS = ["mix", "line", "shift", "Über", "ÉQUIPE", "oven", "line", "crew", "safety", "ﬁll"]


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def test_remembered_shingles_and_description_tokens_are_fresh_ones() -> None:
    rng = random.Random(11)
    texts = [None, "", "a b", *(_text(rng, rng.randint(0, 60)) for _ in range(300))]
    long_text = _text(rng, 3_000)  # over the remembered length: shingled each time
    assert len(long_text) > candidates._REMEMBER_TEXT
    for text in [*texts, *texts, long_text]:
        assert text_shingles(text) == shingles(text)
        assert tokenize_text(text) == tokenize(text)
    assert candidates._remembered_shingles.cache_info().hits > 0


def _plain_find_duplicate(item: Any, dkey: tuple[str, str, str], found: Any) -> Any:
    """Every candidate shingled and compared, in order: no memory, no shortcut, no bound."""
    if item.req_id and (hit := found.by_req.get((item.source, item.req_id))) is not None:
        return hit
    if (ukey := candidates.url_key(item.url)) and (hit := found.by_url.get(ukey)) is not None:
        return hit
    own = shingles(item.description_text)
    for candidate in found.by_key.get(dkey, []):
        if similarity(own, shingles(candidate.description_text)) >= NEAR_DUPLICATE:
            return candidate
    return None


def _batches(seed: int) -> list[list[Any]]:
    """Postings sharing few keys: equal texts, near-duplicates (some words changed) and others."""
    rng = random.Random(seed)
    bases = [_text(rng, rng.randint(2, 40)) for _ in range(6)] + ["", "mix line"]
    batches = []
    for b in range(4):
        batch = []
        for i in range(30):
            text = rng.choice(bases)
            if text and rng.random() < 0.5:
                words = text.split()
                words = [w if rng.random() > 0.2 else rng.choice(WORDS) for w in words]
                text = " ".join(words + [rng.choice(WORDS) for _ in range(rng.randint(0, 6))])
            batch.append(
                posting(
                    external_id=f"ext-{b}-{i}",
                    url=f"https://boards.example.com/jobs/{b}-{i}",
                    req_id=None,
                    title=rng.choice(["Production Manager", "Plant Manager"]),
                    city=rng.choice(["Toledo", "Dayton"]),
                    description_text=text,
                )
            )
        batches.append(batch)
    return batches


def _stored(engine: Any, batches: list[list[Any]]) -> tuple[list[tuple[Any, ...]], ...]:
    for k, batch in enumerate(batches):
        with db.session_scope(engine, write=True) as session:
            store_batch(session, batch, now=T0 + timedelta(minutes=k))
    with db.session_scope(engine) as session:
        postings = session.execute(
            select(col(Posting.id), col(Posting.description_text), col(Posting.place_key)).order_by(
                col(Posting.id)
            )
        ).all()
        sightings = session.execute(
            select(col(PostingSource.external_id), col(PostingSource.posting_id)).order_by(
                col(PostingSource.external_id)
            )
        ).all()
    return [tuple(r) for r in postings], [tuple(r) for r in sightings]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_store_with_the_fast_dedup_stores_what_the_plain_comparison_stores(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    fast_engine = db.make_engine(f"sqlite:///{tmp_path}/fast.db")
    plain_engine = db.make_engine(f"sqlite:///{tmp_path}/plain.db")
    db.migrate(fast_engine)
    db.migrate(plain_engine)
    candidates.forget_shingles()
    fast = _stored(fast_engine, _batches(seed))
    monkeypatch.setattr(store, "find_duplicate", _plain_find_duplicate)
    plain = _stored(plain_engine, _batches(seed))
    assert fast == plain
    postings, sightings = fast
    assert 2 < len(postings) < len(sightings)  # merges and new postings both happen


def test_engine_json_encoder_is_json_dumps_without_ascii_escapes() -> None:
    values: list[Any] = [[], ["GMP", "IATF 16949"], {"shift": "2nd", "quote": "Über „x“ \u2028"}]
    values += [None, 1.5, [{"a": [1, None, True]}], "\ud800"]
    for value in values:
        assert db._JSON_ENCODE(value) == json.dumps(value, ensure_ascii=False)


def test_fingerprint_with_one_encoder_is_the_json_dumps_digest() -> None:
    salt = profile_salt(None)
    odd = replace(
        make_items(1)[0],
        extra={"posted": datetime(2026, 1, 2, tzinfo=UTC)},
        salary={"min": 1, "max": None},
        location_parts={"z": "Über", "a": ["\u2028", 1.5]},
        title="lone \ud800 surrogate",
    )
    for item in [*make_items(50), odd]:
        values = [getattr(item, name) for name in _FIELDS]  # in field order (PIPELINE_VERSION .2)
        data = json.dumps(values, sort_keys=True, default=str, separators=(",", ":"))
        digest = hashlib.blake2b(data.encode("ascii"), key=salt, digest_size=16).hexdigest()
        assert fingerprint(item, salt) == digest


def test_ids_as_one_parameter_select_what_an_in_list_selects(engine: Any) -> None:
    with db.session_scope(engine) as session:
        batch = [posting(external_id=f"e{i}", url=f"https://x.example/{i}") for i in range(12)]
        stored = store_batch(session, batch, now=T0).posting_ids.values()
    known = sorted(stored)
    rng = random.Random(5)
    with db.session_scope(engine) as session:
        for ids in [
            [],
            known,
            [known[0]] * 3,
            [-1, 10**6],
            *(rng.sample(known, 5) for _ in range(5)),
        ]:
            ids = [*ids, *rng.sample([known[-1], 10**6], rng.randint(0, 2))]
            fast = session.execute(
                select(col(Posting.id)).where(id_in(col(Posting.id), ids, session))
            )
            plain = session.execute(select(col(Posting.id)).where(col(Posting.id).in_(ids)))
            assert sorted(fast.scalars()) == sorted(plain.scalars())
