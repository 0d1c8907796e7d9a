"""Feedback from a digest on SQLite and PostgreSQL: the three actions, undo, the links in the
digest, Applied keeping copies out of later digests, the counts, and the relevance rule kept."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler
from sqlalchemy import select
from sqlalchemy.engine import Engine

import db
from alerts import feedback as fb
from alerts.digests import run_digests
from alerts.models import Feedback, SavedSearch
from alerts.subscriptions import SearchInput, subscribe, unsubscribe
from alerts.tokens import BadToken, make_token
from config import Settings
from pipeline.models import Posting
from pipeline.relevance import FilterRelevantPipeline
from pipeline.store import store_batch
from spiders.items import JobItem
from tests.factories import posting

SECRET = "test-secret-key-for-andon-feedback"
SUB_AT = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
SEEN = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
RUN1 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
SEEN2 = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
RUN2 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        secret_key=SECRET,
        base_url="https://andon.example",
        from_email="andon alerts <alerts@andon.example>",
        outbox=tmp_path / "outbox",
        postal_address="andon, 500 Griswold St, Detroit, MI 48226, USA",
    )


def job(n: int, title: str, **changes: Any) -> Any:
    values: dict[str, Any] = {
        "source": "acme-greenhouse",
        "external_id": f"greenhouse:acme:{n}",
        "url": f"https://boards.greenhouse.io/acme/jobs/{n}",
        "title": title,
        "description_text": f"Run shift {n} of the line.",
        "company": f"Company {n}",
        "relevance_rule": "production manager",
    }
    values.update(changes)
    return posting(**values)


def store(engine: Engine, *items: Any, now: datetime = SEEN) -> dict[str, int]:
    with db.session_scope(engine) as s:
        result = store_batch(s, list(items), now=now)
    return {ext: pid for (_src, ext), pid in result.posting_ids.items()}


def add_search(engine: Engine, address: str = "pat@example.com", **search: Any) -> tuple[int, int]:
    with db.session_scope(engine) as s:
        sub, saved, _ = subscribe(s, address, SearchInput(**search), confirmed=True, now=SUB_AT)
        return sub.id, saved.id  # type: ignore[return-value]


def click(engine: Engine, sub: int, search: int, posting_id: int, action: str) -> Feedback:
    token = fb.feedback_token(SECRET, sub, search, posting_id, action)
    link = fb.read_feedback_token(SECRET, token)
    with db.session_scope(engine) as s:
        row = fb.apply_feedback(s, link)
        s.expunge(row)
        return row


def search_of(engine: Engine, search_id: int) -> SavedSearch:
    with db.session_scope(engine) as s:
        saved = s.get(SavedSearch, search_id)
        assert saved is not None
        s.expunge(saved)
        return saved


def bodies(settings: Settings) -> list[tuple[str, str]]:
    out = []
    for path in sorted(Path(settings.outbox).glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        text = msg.get_body(preferencelist=("plain",)).get_content()
        html = msg.get_body(preferencelist=("html",)).get_content()
        out.append((text, html))
    return out


def test_not_relevant_excludes_the_title_words_that_matched_and_undo_restores(engine):
    ids = store(engine, job(1, "Quality Manager"))
    sub, search = add_search(engine, query='"production manager" OR quality')
    row = click(engine, sub, search, ids["greenhouse:acme:1"], "not_relevant")
    assert row.exclusion == '-"quality"'
    assert row.sources == ["acme-greenhouse"] and row.relevance_rule == "production manager"
    assert search_of(engine, search).query == '("production manager" OR quality) -"quality"'
    with db.session_scope(engine) as s:
        fb.undo_feedback(s, sub, row.id)  # type: ignore[arg-type]
        assert fb.feedback_of(s, sub) == []
    assert search_of(engine, search).query == '("production manager" OR quality)'


def test_not_relevant_excludes_the_company_when_only_required_words_matched(engine):
    ids = store(engine, job(1, "Production Manager", company="Staffing Co"))
    sub, search = add_search(engine, query='"production manager"')
    row = click(engine, sub, search, ids["greenhouse:acme:1"], "not_relevant")
    assert row.exclusion == "company:Staffing Co"
    saved = search_of(engine, search)
    assert saved.query == '"production manager"' and saved.exclude_companies == ["Staffing Co"]
    with db.session_scope(engine) as s:
        fb.undo_feedback(s, sub, row.id)  # type: ignore[arg-type]
    assert search_of(engine, search).exclude_companies == []


def test_hide_company_covers_every_search_of_the_subscriber_and_undo_reverts(engine):
    ids = store(engine, job(1, "Plant Manager", company="Acme Foods"))
    sub, first = add_search(engine, query="plant")
    _, second = add_search(engine, query="production", exclude_companies=["Other Co"])
    other_sub, other = add_search(engine, "kim@example.com", query="plant")
    row = click(engine, sub, first, ids["greenhouse:acme:1"], "hide_company")
    assert sorted(row.changed_search_ids) == sorted([first, second])
    assert search_of(engine, first).exclude_companies == ["Acme Foods"]
    assert search_of(engine, second).exclude_companies == ["Acme Foods", "Other Co"]
    assert search_of(engine, other).exclude_companies == []  # another subscriber: untouched
    with db.session_scope(engine) as s:
        fb.undo_feedback(s, sub, row.id)  # type: ignore[arg-type]
        with pytest.raises(LookupError):
            fb.undo_feedback(s, other_sub, row.id)  # type: ignore[arg-type]
    assert search_of(engine, second).exclude_companies == ["Other Co"]


def test_replayed_tampered_expired_and_stopped_links_change_nothing(engine, monkeypatch):
    ids = store(engine, job(1, "Quality Manager"))
    sub, search = add_search(engine, query='"production manager" OR quality')
    pid = ids["greenhouse:acme:1"]
    click(engine, sub, search, pid, "applied")
    with pytest.raises(fb.FeedbackRefused, match="recorded before"):
        click(engine, sub, search, pid, "applied")
    token = fb.feedback_token(SECRET, sub, search, pid, "not_relevant")
    with pytest.raises(BadToken):
        fb.read_feedback_token(SECRET, token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])
    with pytest.raises(BadToken):
        fb.read_feedback_token("another-secret", token)
    monkeypatch.setattr(fb, "FEEDBACK_MAX_AGE_S", -1)
    with pytest.raises(BadToken) as expired:
        fb.read_feedback_token(SECRET, token)
    assert expired.value.reason == "expired"
    monkeypatch.undo()
    with db.session_scope(engine) as s:
        unsubscribe(s, s.get(fb.Subscriber, sub), reason="test")  # type: ignore[arg-type]
    with pytest.raises(fb.FeedbackRefused, match="no alerts"):
        click(engine, sub, search, pid, "not_relevant")
    assert search_of(engine, search).query == '"production manager" OR quality'


def test_a_deleted_job_changes_nothing(engine):
    ids = store(engine, job(1, "Quality Manager"))
    sub, search = add_search(engine, query="quality")
    token = fb.feedback_token(SECRET, sub, search, ids["greenhouse:acme:1"], "hide_company")
    with db.session_scope(engine) as s:
        s.delete(s.get(Posting, ids["greenhouse:acme:1"]))
    with db.session_scope(engine) as s, pytest.raises(fb.FeedbackRefused, match="removed"):
        fb.apply_feedback(s, fb.read_feedback_token(SECRET, token))
    assert search_of(engine, search).exclude_companies == []


def test_digest_jobs_carry_the_three_links_and_applied_keeps_copies_out(settings, engine):
    ids = store(engine, job(1, "Production Manager", company="Acme Foods"))
    sub, search = add_search(engine, query='"production manager"')
    assert run_digests(settings, engine, at=RUN1).sent == 1
    ((text, html),) = bodies(settings)
    for label in ("Not relevant", "Hide this company", "Applied"):
        assert f"{label}: https://andon.example/feedback/" in text
        assert f">{label}</a>" in html
    applied = text.split("Applied: ")[1].split()[0].rsplit("/", 1)[1]
    link = fb.read_feedback_token(SECRET, applied)
    assert (link.subscriber_id, link.search_id, link.posting_id, link.action) == (
        sub, search, ids["greenhouse:acme:1"], "applied",
    )  # fmt: skip
    with db.session_scope(engine) as s:
        fb.apply_feedback(s, link)
    # the same job from another board under another company spelling and a new id: a copy
    copy = job(2, "Production Manager", company="ACME Foods, Inc.", source="acme-lever")
    other = job(3, "Production Manager", company="Beta Foods")
    store(engine, copy, other, now=SEEN2)
    with db.session_scope(engine) as s:
        keys = {p.company_key for p in s.execute(select(Posting)).scalars()}
    assert len(keys) == 2  # the copy shares the applied job's company key
    assert run_digests(settings, engine, at=RUN2).sent == 1
    text2, _ = bodies(settings)[1]
    assert "Beta Foods" in text2 and "ACME Foods, Inc." not in text2


def test_not_relevant_counts_per_rule_and_source(engine):
    ids = store(
        engine,
        job(1, "Quality Manager", relevance_rule="quality manager"),
        job(2, "Quality Lead", relevance_rule="quality manager", source="acme-lever"),
        job(3, "Plant Manager", relevance_rule="plant manager"),
    )
    sub, search = add_search(engine, query="manager OR lead")
    for ext in ids:
        click(engine, sub, search, ids[ext], "not_relevant")
    with db.session_scope(engine) as s:
        counts = fb.not_relevant_counts(s)
    assert counts.total == 3
    assert counts.by_rule == [("quality manager", 2), ("plant manager", 1)]
    assert counts.by_source == [("acme-greenhouse", 2), ("acme-lever", 1)]


def test_the_relevance_stage_keeps_its_rule_on_the_posting(engine):
    pipeline = FilterRelevantPipeline.from_crawler(get_crawler(settings_dict={}))
    item = JobItem(
        source="s", kind="greenhouse", external_id="greenhouse:s:1",
        title="Plant Manager - Injection Molding", company="Acme", url="https://example.com/1",
    )  # fmt: skip
    assert pipeline.process_item(item) is item
    rule = item.relevance_rule
    assert rule is not None and rule.startswith("plant ")  # the include rule, as written
    ids = store(engine, job(1, "Plant Manager", relevance_rule=rule))
    with db.session_scope(engine) as s:
        stored = s.get(Posting, ids["greenhouse:acme:1"])
        assert stored is not None and stored.relevance_rule == rule


def test_tokens_name_one_action_and_no_other_purpose() -> None:
    with pytest.raises(ValueError, match="unknown feedback action"):
        fb.feedback_token(SECRET, 1, 2, 3, "delete_everything")
    manage = make_token(SECRET, "manage", "1.2.3.applied")
    with pytest.raises(BadToken):
        fb.read_feedback_token(SECRET, manage)


def test_a_title_only_alternative_is_excluded_from_the_title_only() -> None:
    query = 'title:("plant manager" OR "production manager") OR quality'
    assert fb.matched_alternatives(query, "Plant Manager, Quality") == [
        '-title:"plant manager"',
        '-"quality"',
    ]
    assert fb.matched_alternatives('"plant manager"', "Plant Manager") == []  # required: none
