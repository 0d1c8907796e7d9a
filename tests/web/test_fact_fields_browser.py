"""Plant facts on the forms in a real browser (Debian's chromium via Playwright): subscribe with a
shift, a team size and a standard, confirm, see them on the manage page, edit them."""

from __future__ import annotations

import pytest

from tests.web.conftest import link_in, messages
from tests.web.test_browser import ARTIFACTS, CHROMIUM_ARGS, chromium_path, live  # noqa: F401
from tests.web.test_subscribe import searches

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1100, "height": 900}


def test_subscribe_with_facts_confirm_see_and_edit_them(live, engine, outbox, db_url) -> None:  # noqa: F811
    from playwright.sync_api import sync_playwright

    base, _settings = live
    backend = db_url.split(":", 1)[0]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=DESKTOP)  # type: ignore[arg-type]  # a plain dict is the TypedDict at run time
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))

            page.goto(f"{base}/")
            page.fill("#email", "pat@example.com")
            page.fill("#query", "production supervisor")
            page.select_option("#shift", "3rd")
            page.fill("#min_team", "15")
            page.check("input[name=standard][value=haccp]")
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/subscribed")

            (email,) = messages(outbox)
            page.goto(link_in(email, "/confirm/"))
            page.click("text=Confirm my alert")
            page.click("text=Manage your alerts")
            card = page.locator("section.search-card")
            card.wait_for()
            summary = card.locator(".meta").inner_text()
            assert "3rd shift" in summary and "standards: HACCP" in summary
            assert "leads 15+ people" in summary
            page.screenshot(path=str(ARTIFACTS / f"facts-manage-{backend}.png"), full_page=True)

            card.locator("text=Edit").click()
            page.wait_for_selector("text=Edit “production supervisor”")
            assert page.input_value("#shift") == "3rd"
            assert page.input_value("#min_team") == "15"
            assert page.is_checked("input[name=standard][value=haccp]")
            page.select_option("#shift", "2nd")
            page.fill("#min_team", "")
            page.uncheck("input[name=standard][value=haccp]")
            page.check("input[name=standard][value=iso_9001]")
            page.check("input[name=standard][value=sqf]")
            page.click("button:has-text('Save')")
            page.wait_for_selector("text=Search saved.")
            summary = page.locator("section.search-card .meta").inner_text()
            assert "2nd shift" in summary and "standards: ISO 9001, SQF" in summary
            assert "leads" not in summary
            assert problems == []

            # a refused value: one message beside the field, focus on the summary, nothing saved
            page.locator("section.search-card").locator("text=Edit").click()
            page.fill("#min_team", "2.5")
            page.click("button:has-text('Save')")
            page.wait_for_selector("#min_team-error")
            assert "whole number" in page.inner_text("#min_team-error")
            assert page.locator(".error").count() == 1
            assert page.evaluate("document.activeElement.id") == "error-summary"
            page.screenshot(path=str(ARTIFACTS / f"facts-edit-error-{backend}.png"), full_page=True)
        finally:
            browser.close()
    (saved,) = searches(engine)
    assert (saved.shifts, saved.min_team, saved.standards) == (["2nd"], None, ["iso_9001", "sqf"])
