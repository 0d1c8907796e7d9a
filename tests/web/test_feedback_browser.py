"""Feedback from a digest in a real browser (Debian's chromium via Playwright), on a live server:
a digest is sent with the file mailer, its Not relevant / Hide this company / Applied links are
opened, each page's button is pressed, and each is undone on the manage page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

import db
from alerts import feedback as fb
from alerts.digests import run_digests
from alerts.models import Feedback, SavedSearch
from alerts.subscriptions import SearchInput, subscribe
from pipeline.store import store_batch
from tests.factories import posting
from tests.web.conftest import messages
from tests.web.test_browser import ARTIFACTS, CHROMIUM_ARGS, PHONE, chromium_path, live

pytestmark = pytest.mark.browser
__all__ = ["live"]  # the live-server fixture, shared with the subscriber journey

SUB_AT = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
SEEN = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
RUN = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _send_digest(engine, settings) -> tuple[int, dict[tuple[str, str], str], str]:
    """Store three jobs, subscribe, send the digest: (search id, {(title, action): link}, manage)."""
    jobs = [
        posting(external_id="1", title="Quality Manager", company="Acme Foods"),
        posting(external_id="2", title="Production Manager", company="Staffing Co", url="https://x.example/2"),
        posting(external_id="3", title="Production Supervisor", company="Beta Foods", url="https://x.example/3"),
    ]  # fmt: skip
    with db.session_scope(engine) as s:
        store_batch(s, jobs, now=SEEN)
        _, saved, _ = subscribe(
            s, "pat@example.com", SearchInput(query='"production manager" OR quality OR supervisor'),
            confirmed=True, now=SUB_AT,
        )  # fmt: skip
        search_id = saved.id
    assert run_digests(settings, engine, at=RUN).sent == 1
    (msg,) = messages(settings.outbox)
    text = msg.get_body(preferencelist=("plain",)).get_content()
    links: dict[tuple[str, str], str] = {}
    with db.session_scope(engine) as s:
        for label, url in re.findall(r"(Not relevant|Hide this company|Applied): (\S+)", text):
            link = fb.read_feedback_token(settings.secret(), url.rsplit("/", 1)[1])
            title = s.get(fb.Posting, link.posting_id).title
            links[(title, label)] = url
    manage = re.search(r"Manage your searches: (\S+)", text)
    assert manage and len(links) == 9
    return search_id, links, manage.group(1)  # type: ignore[return-value]


def _search(engine, search_id: int) -> SavedSearch:
    with db.session_scope(engine) as s:
        saved = s.get(SavedSearch, search_id)
        assert saved is not None
        s.expunge(saved)
        return saved


def test_three_feedback_actions_and_their_undo(live, engine, db_url) -> None:
    from playwright.sync_api import sync_playwright

    _, settings = live
    backend = db_url.split(":", 1)[0]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    search_id, links, manage = _send_digest(engine, settings)
    original = _search(engine, search_id)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport=PHONE).new_page()  # type: ignore[arg-type]
            problems: list[str] = []
            page.on("pageerror", lambda e: problems.append(str(e)))

            page.goto(links[("Quality Manager", "Not relevant")])
            assert page.locator("h1").inner_text() == "Not relevant?"
            page.screenshot(path=str(ARTIFACTS / f"feedback-ask-{backend}.png"), full_page=True)
            with db.session_scope(engine) as s:  # opening the link changed nothing
                assert s.execute(select(Feedback)).first() is None
            page.click("button[type=submit]")
            assert '-"quality" was added to its query' in page.inner_text("main")
            page.goto(links[("Production Manager", "Hide this company")])
            page.click("button[type=submit]")
            assert "Staffing Co is hidden from all your searches" in page.inner_text("main")
            page.goto(links[("Production Supervisor", "Applied")])
            page.click("button[type=submit]")
            assert "Marked as applied" in page.inner_text("main")
            # the same link again: a replay changes nothing
            page.goto(links[("Production Supervisor", "Applied")])
            assert page.locator("h1").inner_text() == "This link was used already"

            changed = _search(engine, search_id)
            assert changed.query == f'({original.query}) -"quality"'
            assert changed.exclude_companies == ["Staffing Co"]

            page.goto(manage)
            section = page.locator("ul.feedback li")
            assert section.count() == 3
            page.screenshot(path=str(ARTIFACTS / f"feedback-manage-{backend}.png"), full_page=True)
            for _ in range(3):
                page.locator("ul.feedback li button").first.click()
                assert page.locator("[role=status]").inner_text() == "Feedback undone."
            assert page.locator("ul.feedback li").count() == 0
            assert problems == []
        finally:
            browser.close()

    restored = _search(engine, search_id)
    assert restored.query == f"({original.query})"  # the same query: the parentheses stay
    assert restored.exclude_companies == []
    with db.session_scope(engine) as s:
        assert all(r.undone_at is not None for r in s.execute(select(Feedback)).scalars())
