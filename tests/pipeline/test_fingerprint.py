"""Re-crawls skip unchanged items: real Scrapy crawls through every stage, SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import asdict, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import col

import db
from pipeline.fingerprint import PIPELINE_VERSION, fingerprint, profile_salt
from pipeline.models import CrawlRun, Posting, PostingSource
from pipeline.relevance import DEFAULT_PROFILE
from spiders.items import JobItem

PROJECT = Path(__file__).resolve().parents[2]
DAY1 = datetime(2026, 11, 20, 8, tzinfo=UTC)
DAY2 = datetime(2026, 11, 21, 8, tzinfo=UTC)
DAY3 = datetime(2026, 11, 22, 8, tzinfo=UTC)
PLANTS = ["Dearborn, MI", "Toledo, OH", "Wichita, KS", "Greenville, SC", "Springdale, AR"]


def items(n: int = 10, crawled_at: datetime = DAY1) -> list[JobItem]:
    return [
        JobItem(
            source="acme-gh",
            kind="greenhouse",
            external_id=f"greenhouse:acme:{i}",
            title="Production Manager",
            company=f"Acme Foods {i}",
            url=f"https://boards.greenhouse.io/acme/jobs/{i}",
            description_html=(
                f"<p>Lead three shifts on packaging line {i} of our food manufacturing plant. "
                "Drive lean, OEE and HACCP compliance; coach supervisors.</p>"
            ),
            locations=[PLANTS[i % len(PLANTS)]],
            salary_text="$95,000 - $120,000 per year",
            posted="2026-11-18T08:00:00-05:00",
            crawled_at=crawled_at,
        )
        for i in range(n)
    ]


def crawl(
    db_url: str,
    tmp_path: Path,
    *crawls: dict[str, Any],
    item_pipelines: dict[str, int] | None = None,
) -> list[dict[str, Any]]:
    """Run the crawls one after the other in one Scrapy process; their stats, in order."""
    plan = {
        "database_url": db_url,
        "item_pipelines": item_pipelines,
        "crawls": [
            {"items": [_jsonable(i) for i in c["items"]], "profile": c.get("profile")}
            for c in crawls
        ],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    proc = subprocess.run(
        [sys.executable, "-m", "tests.pipeline.feed_crawl", str(path)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == len(crawls), proc.stdout + proc.stderr[-3000:]
    return lines


def _jsonable(item: JobItem) -> dict[str, Any]:
    data = asdict(item)
    data["crawled_at"] = item.crawled_at.isoformat() if item.crawled_at else None
    return data


def snapshot(engine: Any) -> dict[str, dict[str, Any]]:
    """Every posting's columns but `last_seen_at`, by external id."""
    with db.session_scope(engine) as s:
        rows = s.execute(
            select(col(PostingSource.external_id), Posting).join(
                Posting,
                col(Posting.id) == col(PostingSource.posting_id),
            )
        ).all()
        return {
            ext: {k: v for k, v in p.model_dump().items() if k != "last_seen_at"} for ext, p in rows
        }


def last_seen(engine: Any) -> dict[str, tuple[datetime, datetime]]:
    with db.session_scope(engine) as s:
        rows = s.execute(
            select(
                col(PostingSource.external_id),
                col(PostingSource.last_seen_at),
                col(Posting.last_seen_at),
            ).join(Posting, col(Posting.id) == col(PostingSource.posting_id))
        ).all()
        return {ext: (a, b) for ext, a, b in rows}


def test_unchanged_recrawl_moves_only_last_seen_and_one_changed_field_is_processed(
    db_url, engine, tmp_path
):
    first, second, third = crawl(
        db_url,
        tmp_path,
        {"items": items(crawled_at=DAY1)},
        {"items": items(crawled_at=DAY2)},  # the same items, crawled a day later
        {
            "items": [
                replace(i, salary_text="$130,000 per year") if i.external_id.endswith(":3") else i
                for i in items(crawled_at=DAY3)
            ]
        },
    )
    assert first["andon/store/new"] == 10
    assert first.get("andon/fingerprint/unchanged") is None
    # the re-crawl: every item skipped relevance, normalisation and dedup
    assert second["andon/fingerprint/unchanged"] == 10
    assert second["andon/store/unchanged"] == 10
    assert second["andon/store/new"] == second["andon/store/updated"] == 0
    assert second.get("andon/relevance/kept") is None
    assert second.get("andon/normalize/ok") is None
    assert second["item_scraped_count"] == 10  # still counted as seen by the closing rule
    # one changed field: that item alone goes through every stage and is updated
    assert third["andon/fingerprint/unchanged"] == 9
    assert third["andon/fingerprint/changed"] == 1
    assert third["andon/relevance/kept"] == third["andon/normalize/ok"] == 1
    assert third["andon/store/updated"] == 1
    with db.session_scope(engine) as s:
        runs = s.execute(select(CrawlRun).order_by(CrawlRun.id)).scalars().all()  # type: ignore[arg-type]
        assert [(r.status, r.kept, r.closed) for r in runs] == [("finished", 10, 0)] * 3
        changed = s.execute(
            select(Posting).join(PostingSource).where(PostingSource.external_id.like("%:3"))  # type: ignore[attr-defined]
        ).scalar_one()
        assert changed.salary_min == 130000 and changed.salary_max == 130000


def test_unchanged_recrawl_changes_no_posting_but_last_seen_at(db_url, engine, tmp_path):
    crawl(db_url, tmp_path, {"items": items(crawled_at=DAY1)})
    before, seen_before = snapshot(engine), last_seen(engine)
    (second,) = crawl(db_url, tmp_path, {"items": items(crawled_at=DAY2)})
    assert second["andon/store/unchanged"] == 10
    assert snapshot(engine) == before
    after = last_seen(engine)
    assert all(after[k][0] > seen_before[k][0] and after[k][1] > seen_before[k][1] for k in after)


def test_unchanged_items_count_as_seen_when_closing(db_url, engine, tmp_path):
    """A re-crawl of 9 unchanged items out of 10 closes the missing one, not the 9."""
    _first, second = crawl(
        db_url, tmp_path, {"items": items(crawled_at=DAY1)}, {"items": items(crawled_at=DAY2)[:9]}
    )
    assert second["andon/store/unchanged"] == 9
    assert second["andon/store/closed"] == 1
    with db.session_scope(engine) as s:
        query = select(col(PostingSource.external_id), col(Posting.status)).join(Posting)
        status = dict(s.execute(query).tuples().all())
    assert status.pop("greenhouse:acme:9") == "closed"
    assert set(status.values()) == {"open"}


def test_a_closed_posting_seen_unchanged_is_processed_and_reopened(db_url, engine, tmp_path):
    crawl(
        db_url, tmp_path, {"items": items(crawled_at=DAY1)}, {"items": items(crawled_at=DAY2)[:9]}
    )
    (third,) = crawl(db_url, tmp_path, {"items": items(crawled_at=DAY3)})
    assert third["andon/fingerprint/unchanged"] == 9
    assert third["andon/store/updated"] == 1
    with db.session_scope(engine) as s:
        assert set(s.execute(select(col(Posting.status))).scalars()) == {"open"}


def test_a_role_profile_change_reprocesses_everything(db_url, engine, tmp_path):
    profile = tmp_path / "profile.toml"
    # the same rules with one more comment line: a different profile text
    profile.write_text(DEFAULT_PROFILE.read_text() + "\n# tuned for the night shift\n")
    _first, second = crawl(
        db_url,
        tmp_path,
        {"items": items(crawled_at=DAY1)},
        {"items": items(crawled_at=DAY2), "profile": str(profile)},
    )
    assert second.get("andon/fingerprint/unchanged") is None
    assert second["andon/fingerprint/changed"] == 10
    assert second["andon/relevance/kept"] == 10
    assert second["andon/store/updated"] == 10


def test_fingerprint_ignores_crawl_time_and_sees_every_other_field():
    salt = profile_salt(None)
    item = items(1)[0]
    assert fingerprint(item, salt) == fingerprint(replace(item, crawled_at=DAY3), salt)
    # written by the relevance stage on the item, after the fingerprint was taken
    assert fingerprint(item, salt) == fingerprint(replace(item, relevance_rule="{role}"), salt)
    assert fingerprint(item, salt) != fingerprint(replace(item, extra={"dept": "Ops"}), salt)
    assert fingerprint(item, salt) != fingerprint(replace(item, locations=["Toledo, OH"]), salt)
    assert fingerprint(item, salt) != fingerprint(item, profile_salt(_other_profile()))
    assert PIPELINE_VERSION


def test_fingerprint_is_the_keyed_hash_of_the_values_in_field_order():
    """The encoding equals the plain one it stands for: json.dumps of the values in order."""
    salt = profile_salt(None)
    names = [f.name for f in fields(JobItem) if f.name not in ("crawled_at", "relevance_rule")]
    base = items(1)[0]
    odd = replace(
        base,
        title="Produktionsleiter (m/w/d) – Süd",
        locations=["Köln", "Zürich"],
        location_parts={"city": "Köln", "latitude": 50.9},
        salary={"min": 4500, "currency": "EUR", "period": "month"},
        description_text="lone \ud800 surrogate, NUL \x00 and 😀",
        posted=1764000000,
        extra={"b": [1, None], "a": DAY1, "c": {"z": 1, "y": True}},
    )
    for item in (base, odd):
        plain = json.dumps([getattr(item, n) for n in names], sort_keys=True, default=str,
                           separators=(",", ":"))  # fmt: skip
        expected = hashlib.blake2b(plain.encode("ascii"), key=salt, digest_size=16).hexdigest()
        assert fingerprint(item, salt) == expected


def test_fingerprint_tells_fields_apart_and_ignores_key_order():
    salt = profile_salt(None)
    item = items(1)[0]
    same = fingerprint(replace(item, extra={"a": 1, "b": 2}), salt)
    assert same == fingerprint(replace(item, extra={"b": 2, "a": 1}), salt)
    # a value moved from one field to the next is another item
    moved = (replace(item, title="X", company=None), replace(item, title=None, company="X"))
    assert fingerprint(moved[0], salt) != fingerprint(moved[1], salt)
    assert fingerprint(replace(item, apply_url=None), salt) != fingerprint(
        replace(item, apply_url=""), salt
    )
    assert fingerprint(replace(item, title="Süd"), salt) != fingerprint(
        replace(item, title="Sud"), salt
    )


def _other_profile() -> Path:
    return Path(__file__).resolve().parents[2] / "pyproject.toml"  # any other text will do
