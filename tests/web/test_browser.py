"""The subscriber's journey in a real browser (Debian's chromium via Playwright), on a live server.

Subscribe on a phone-sized page, confirm from the emailed link, reach the manage page through
its link, pause the search, then leave with a one-click POST sent like a mail client (no cookies).
Screenshots of each page go to test-artifacts/web/ for a person to look at.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from sqlmodel import col

import db
from alerts import links
from alerts.models import SavedSearch, Subscriber
from alerts.subscriptions import SearchInput
from alerts.subscriptions import subscribe as service_subscribe
from alerts.tokens import make_token
from config import Settings
from pipeline.store import store_batch
from tests.factories import posting
from tests.web.conftest import link_in, messages
from web.app import create_app

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def chromium_path() -> str:
    path = os.environ.get("ANDON_TEST_CHROMIUM") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.skip(f"browser tests need chromium at {path} (apt-get install chromium)")
    return path


@pytest.fixture
def live(settings: Settings, engine, db_url: str) -> Iterator[tuple[str, Settings]]:
    """The app served by uvicorn in a thread on a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    # Listening before the server thread starts: early connections wait in the backlog, so
    # the test needs no polling or sleeping for the server to come up.
    sock.listen(64)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings.base_url = base
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, engine), log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield base, settings
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def test_subscribe_confirm_manage_pause_unsubscribe(live, engine, outbox, db_url) -> None:
    from playwright.sync_api import sync_playwright

    base, settings = live
    backend = db_url.split(":", 1)[0]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    now = db.utcnow()
    with db.session_scope(engine) as s:
        store_batch(
            s,
            [
                posting(external_id="1", posted_at=now - timedelta(days=1)),
                posting(
                    external_id="2", source="himalayas", title="Remote Production Director",
                    company="Acme Remote", workplace="remote", attribution="Himalayas",
                    url="https://himalayas.app/jobs/2", apply_url=None, seniority="director",
                    posted_at=now - timedelta(days=2),
                ),
            ],
            now=now,
        )  # fmt: skip

    def shot(page, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{name}-{backend}.png"), full_page=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=PHONE, timezone_id="America/Chicago")  # type: ignore[arg-type]  # a plain dict is the TypedDict at run time
            page = context.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))

            page.goto(f"{base}/")
            # The tiny script put the browser's zone over the server default.
            assert page.input_value("#timezone") == "America/Chicago"
            shot(page, "01-home-phone")
            page.fill("#email", "Pat.Lee@Example.com")
            page.fill("#query", '"production manager" OR "plant manager"')
            page.fill("#location", "Dearborn, MI")
            page.fill("#within", "50")
            page.check("input[name=workplace][value=onsite]")
            page.check("input[name=industry][value=food_beverage]")
            page.select_option("#cadence", "weekly")
            page.select_option("#weekday", "tue")
            page.select_option("#hour", "7")
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/subscribed")
            assert "Check your inbox" in page.content()
            shot(page, "02-subscribed-phone")

            (email,) = messages(outbox)
            assert (
                email["To"] == "pat.lee@example.com"
            )  # addresses are lower-cased: one person, one subscriber
            page.goto(link_in(email, "/confirm/"))
            shot(page, "03-confirm-phone")
            page.click("text=Confirm my alert")
            page.wait_for_selector("text=Your alerts are on")
            shot(page, "04-confirmed-phone")
            page.click("text=Manage your alerts")
            page.wait_for_selector("text=Your job alerts")
            shot(page, "05-manage-phone")
            page.click("button:has-text('Pause')")
            page.wait_for_selector("text=Search paused")
            shot(page, "06-paused-phone")
            with db.session_scope(engine) as s:
                sub = s.execute(select(Subscriber)).scalar_one()
                saved = s.execute(select(SavedSearch)).scalar_one()
            assert sub.status == "active"
            assert (saved.active, saved.cadence, saved.weekday, saved.timezone) == (
                False, "weekly", 1, "America/Chicago",
            )  # fmt: skip
            assert saved.workplaces == ["onsite"]

            # The mail client's RFC 8058 POST: its own connection, no cookies, no CSRF token.
            url = links.unsubscribe_url(settings, sub.id)
            response = httpx.post(url, data={"List-Unsubscribe": "One-Click"})
            assert response.status_code == 200
            with db.session_scope(engine) as s:
                assert s.execute(select(col(Subscriber.status))).scalar_one() == "unsubscribed"
            page.goto(url)  # GET only asks again
            shot(page, "07-unsubscribe-phone")

            page.goto(f"{base}/jobs")
            assert "via" in page.content()
            shot(page, "08-jobs-phone")
            page.click("text=Remote Production Director")
            page.wait_for_selector("text=Description")
            shot(page, "09-job-phone")

            desktop = browser.new_context(viewport=DESKTOP).new_page()  # type: ignore[arg-type]  # a plain dict is the TypedDict at run time
            for path, name in (("/", "10-home-desktop"), ("/jobs", "11-jobs-desktop")):
                desktop.goto(f"{base}{path}")
                shot(desktop, name)
            assert problems == []
        finally:
            browser.close()


LONG_NAME = "Production" * 20  # 200 characters, no space to break at


def test_phone_pages_never_scroll_sideways_and_errors_take_focus(live, engine) -> None:
    """At 390 px, a 200-character unbroken name, query and title must wrap, not widen the page."""
    from playwright.sync_api import sync_playwright

    base, settings = live
    with db.session_scope(engine) as s:
        sub, saved, _ = service_subscribe(
            s, "pat@example.com", SearchInput(name=LONG_NAME, query=LONG_NAME), confirmed=True
        )
        manage = f"{base}/manage/{make_token(settings.secret(), 'manage', sub.id)}"  # type: ignore[arg-type]
        search_id = saved.id
        store_batch(s, [posting(title=LONG_NAME, company=LONG_NAME)], now=db.utcnow())
    pages = [
        manage,
        f"{manage}/searches/{search_id}",
        f"{base}/jobs",
        f"{base}/jobs?q={LONG_NAME}",
    ]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport=PHONE).new_page()  # type: ignore[arg-type]  # a plain dict is the TypedDict at run time
            for url in pages:
                page.goto(url)
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= PHONE["width"], (url, width)
            page.goto(manage)
            page.click(f"#search-{search_id} button:has-text('Delete')")
            page.wait_for_selector("text=Yes, delete this search")
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

            # A refused form: the summary is focused and on screen, and its link reaches the field.
            page.goto(f"{base}/")
            page.fill("#email", "pat@example.com")
            page.fill("#location", "Detriot, MI")
            page.fill("#timezone", "Mars/Olympus")
            page.click("button[type=submit]")
            page.wait_for_selector("#error-summary")
            assert page.evaluate("document.activeElement.id") == "error-summary"
            top = page.evaluate(
                "document.getElementById('error-summary').getBoundingClientRect().top"
            )
            assert 0 <= top < PHONE["height"]
            assert "Did you mean 'Detroit, MI'?" in page.inner_text("#error-summary")
            # The zone the message names stays in the field (tz.js does not replace it).
            assert page.input_value("#timezone") == "Mars/Olympus"
            page.click("#error-summary a[href='#location']")
            assert page.evaluate("document.activeElement.id") == "location"
            page.screenshot(path=str(ARTIFACTS / "12-error-summary-phone.png"), full_page=True)
        finally:
            browser.close()
