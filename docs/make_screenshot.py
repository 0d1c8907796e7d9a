"""Re-make docs/digest.png: a digest email as andon renders it, shown in headless chromium.

    uv run python docs/make_screenshot.py [--chromium /usr/bin/chromium] [--out docs/digest.png]

Runs the offline demo (`andon demo`) in a temporary folder, takes from its outbox the first
digest whose jobs carry a shift, a team size and a standard (with their quotes), the three
feedback links and the board-health line, and screenshots that email's HTML part at 800 px wide
(the whole message). It stops with a message instead when no digest carries all of them, so a
change to the demo data cannot quietly produce a screenshot that lacks what the README shows.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import sys
import tempfile
from email.message import EmailMessage
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script from anywhere: the project's packages

from pipeline.facts import SHIFT_LABELS, STANDARD_LABELS  # noqa: E402  (after the path)

WIDTH = 800
# What the shown digest must carry, as its text part words each (`label: "quote"`).
MUST_SHOW: dict[str, tuple[str, ...]] = {
    "a shift": tuple(f'{label}: "' for label in SHIFT_LABELS.values()),
    "a team size": ("   leads ",),
    "a standard": tuple(f'{label}: "' for label in STANDARD_LABELS.values()),
    "the Not relevant link": ("Not relevant: http",),
    "the Hide this company link": ("Hide this company: http",),
    "the Applied link": ("Applied: http",),
    "the health line": ("could not be read today",),
}


def missing(text: str) -> list[str]:
    """What of `MUST_SHOW` a digest's text part lacks."""
    out = []
    for what, marks in MUST_SHOW.items():
        if not any(m in text for m in marks):
            out.append(what)
    return out


def pick_digest(outbox: Path) -> EmailMessage:
    """The first digest (by file name) that carries everything `MUST_SHOW` names."""
    seen = []
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        plain = message.get_body(preferencelist=("plain",))
        lacks = missing(plain.get_content() if plain is not None else "")
        if not lacks:
            return message
        seen.append(f"{path.name}: lacks {', '.join(lacks)}")
    raise SystemExit("no demo digest shows everything the screenshot must:\n" + "\n".join(seen))


def screenshot(html: str, out: Path, chromium: str) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        page_file = Path(tmp) / "digest.html"
        page_file.write_text(html, encoding="utf-8")
        browser = pw.chromium.launch(
            executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": 1000})
            # offline: the email's links point at the demo's server, which is not running
            page.route(
                "**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort()
            )
            page.goto(page_file.as_uri())
            page.screenshot(path=str(out), full_page=True)
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "digest.png")
    args = parser.parse_args()
    from demo.runner import run_demo

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "andon-demo"
        run_demo(folder, say=lambda line: None)
        message = pick_digest(folder / "outbox")
    html = message.get_body(preferencelist=("html",))
    if html is None:
        raise SystemExit("the digest has no HTML part")
    screenshot(html.get_content(), args.out, args.chromium)
    print(f"{args.out}: the digest to {message['To']} ({message['Subject']})")


if __name__ == "__main__":
    main()
