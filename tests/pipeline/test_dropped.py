"""Re-crawls drop unchanged irrelevant items without judging them again (`pipeline.dropped`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlmodel import col

import db
from pipeline.models import DroppedItem
from pipeline.relevance import DEFAULT_PROFILE
from spiders.items import JobItem
from tests.pipeline.test_fingerprint import DAY1, DAY2, DAY3, crawl, items


def mixed(crawled_at: Any = DAY1) -> list[JobItem]:
    """Ten production managers and four jobs the role profile drops."""
    other = [
        replace(item, external_id=f"greenhouse:acme:x{i}", title=title)
        for i, (item, title) in enumerate(
            zip(
                items(4, crawled_at),
                ["Software Engineer", "Video Production Manager", "Nurse", "Barista"],
                strict=True,
            )
        )
    ]
    return items(10, crawled_at) + other


def remembered(engine: Any) -> dict[str, tuple[str, str]]:
    with db.session_scope(engine) as s:
        rows = s.execute(
            select(
                col(DroppedItem.external_id), col(DroppedItem.reason), col(DroppedItem.fingerprint)
            )
        ).all()
    return {ext: (reason, fp) for ext, reason, fp in rows}


def test_an_unchanged_dropped_item_is_dropped_again_without_being_judged(db_url, engine, tmp_path):
    first, second = crawl(db_url, tmp_path, {"items": mixed(DAY1)}, {"items": mixed(DAY2)})
    assert first["item_dropped_count"] == 4
    drops = remembered(engine)
    assert sorted(drops) == [f"greenhouse:acme:x{i}" for i in range(4)]
    reasons = {k: v for k, v in first.items() if k.startswith("andon/relevance/dropped/")}
    assert sum(reasons.values()) == 4
    # the re-crawl: the same drops, counted under the same reasons, none judged
    assert second["item_dropped_count"] == 4
    assert second["andon/fingerprint/dropped_unchanged"] == 4
    assert {k: v for k, v in second.items() if k.startswith("andon/relevance/dropped/")} == reasons
    assert second.get("andon/relevance/kept") is None  # the ten others were unchanged too
    assert second["andon/store/unchanged"] == 10
    assert remembered(engine) == drops


def test_a_changed_dropped_item_is_judged_again(db_url, engine, tmp_path):
    changed = [
        replace(i, title="Production Manager") if i.external_id.endswith(":x0") else i
        for i in mixed(DAY2)
    ]
    _first, second = crawl(db_url, tmp_path, {"items": mixed(DAY1)}, {"items": changed})
    assert second["andon/fingerprint/dropped_unchanged"] == 3
    assert second["andon/relevance/kept"] == 1  # x0 is a production manager now
    assert second["andon/normalize/ok"] == 1  # and stored: merged with its twin, item 0
    assert second["andon/store/merged"] == 1
    assert second["item_dropped_count"] == 3


def test_a_role_profile_change_judges_the_dropped_items_again(db_url, engine, tmp_path):
    profile = tmp_path / "profile.toml"
    profile.write_text(DEFAULT_PROFILE.read_text() + "\n# tuned for the night shift\n")
    _first, second = crawl(
        db_url,
        tmp_path,
        {"items": mixed(DAY1)},
        {"items": mixed(DAY2), "profile": str(profile)},
    )
    assert second.get("andon/fingerprint/dropped_unchanged") is None
    assert second["item_dropped_count"] == 4  # judged again, and dropped again
    before = remembered(engine)
    assert len(before) == 4  # the rows now hold the new fingerprints
    (third,) = crawl(db_url, tmp_path, {"items": mixed(DAY3), "profile": str(profile)})
    assert third["andon/fingerprint/dropped_unchanged"] == 4


def test_a_complete_crawl_forgets_the_drops_it_no_longer_lists(db_url, engine, tmp_path):
    without_x3 = [i for i in mixed(DAY2) if not i.external_id.endswith(":x3")]
    crawl(db_url, tmp_path, {"items": mixed(DAY1)}, {"items": without_x3})
    assert sorted(remembered(engine)) == [f"greenhouse:acme:x{i}" for i in range(3)]
