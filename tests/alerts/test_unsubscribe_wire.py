"""List-Unsubscribe in the bytes each mailer puts on the wire: RFC 2369/8058, no encoded words.

Receivers (Gmail, Yahoo) offer one-click unsubscribe only when the header is a list of <URI>s
they can read as is; an RFC 2047 encoded word (`=?utf-8?q?=3Chttps…`) or a URI broken across
lines is not one. So these tests read the raw .eml file, the raw DATA an SMTP server received,
and the raw JSON the sendgrid client posted, never a parser's decoded view.
"""

from __future__ import annotations

import json
import re
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from alerts import links
from alerts.mailers import FileMailer, SendGridMailer, SmtpMailer
from alerts.message import OutgoingMessage, build_message
from alerts.render import render_digest
from config import Settings
from tests.alerts.conftest import LoopbackController, RecordingHandler, make_context

# A realistic deployment path, and a long one: 200 characters before "/unsubscribe/".
LONG_BASE = "https://alerts.andon-jobs.example.com/" + "/".join(["tenant-production-floor"] * 7)
LONG_BASE = (LONG_BASE + "/" + "x" * 200)[:200]
SUBSCRIBER_ID = 4711


def wire_settings(tmp_path: Path, base_url: str, mailto: str | None) -> Settings:
    return Settings(
        secret_key="wire-test-secret-key-for-andon",
        base_url=base_url,
        from_email="andon alerts <alerts@andon.example>",
        outbox=tmp_path / "outbox",
        postal_address="andon, 500 Griswold St, Detroit, MI 48226, USA",
        unsubscribe_mailto=mailto,
    )


def digest_for(settings: Settings) -> tuple[OutgoingMessage, str]:
    url = links.unsubscribe_url(settings, SUBSCRIBER_ID)
    ctx = make_context(unsubscribe_url=url)
    msg = build_message(
        settings, to="pat@example.com", rendered=render_digest(ctx), unsubscribe_url=url
    )
    return msg, url


def expected_value(settings: Settings, url: str) -> str:
    if not settings.unsubscribe_mailto:
        return f"<{url}>"
    token = url.rsplit("/", 1)[-1]
    return f"<{url}>, <mailto:{settings.unsubscribe_mailto}?subject=unsubscribe-{token}>"


def raw_header(data: bytes, name: bytes) -> bytes:
    """The header's raw bytes, continuation lines included, CRLFs kept."""
    head = data.split(b"\r\n\r\n", 1)[0]
    match = re.search(rb"(?im)^" + re.escape(name) + rb":[^\r\n]*(?:\r\n[ \t][^\r\n]*)*", head)
    assert match, f"no {name!r} header in {head[:500]!r}"
    return match.group()


def assert_on_the_wire(data: bytes, settings: Settings, url: str) -> None:
    header = raw_header(data, b"List-Unsubscribe")
    assert b"=?" not in header  # no RFC 2047 encoded word anywhere in it
    unfolded = re.sub(rb"\r\n[ \t]+", b" ", header).decode("ascii")
    assert unfolded == f"List-Unsubscribe: {expected_value(settings, url)}"
    # Each URI whole on one line: folding, if any, only between the <…> elements.
    for line in header.split(b"\r\n"):
        assert line.count(b"<") == line.count(b">")
        assert len(line) <= 998
    assert raw_header(data, b"List-Unsubscribe-Post") == (
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click"
    )
    parsed = message_from_bytes(data, policy=default_policy)
    assert parsed["List-Unsubscribe"] == expected_value(settings, url)


CASES = [
    pytest.param("https://andon.example", None, id="short-url"),
    pytest.param(LONG_BASE, None, id="200-char-base-url"),
    pytest.param(LONG_BASE, "unsubscribe@andon.example", id="200-char-base-url+mailto"),
]


def test_the_long_base_url_is_200_characters() -> None:
    assert len(LONG_BASE) == 200


@pytest.mark.parametrize(("base_url", "mailto"), CASES)
def test_file_mailer_eml_bytes(tmp_path: Path, base_url: str, mailto: str | None) -> None:
    settings = wire_settings(tmp_path, base_url, mailto)
    msg, url = digest_for(settings)
    FileMailer(settings.outbox).send(msg)
    (eml,) = settings.outbox.iterdir()
    assert_on_the_wire(eml.read_bytes(), settings, url)


@pytest.mark.parametrize(("base_url", "mailto"), CASES)
def test_smtp_data_bytes(
    tmp_path: Path,
    smtp_server: tuple[LoopbackController, RecordingHandler],
    base_url: str,
    mailto: str | None,
) -> None:
    controller, handler = smtp_server
    settings = wire_settings(tmp_path, base_url, mailto)
    msg, url = digest_for(settings)
    with SmtpMailer(f"smtp://127.0.0.1:{controller.port}", timeout=5) as mailer:
        mailer.send(msg)
    (data,) = handler.messages
    assert_on_the_wire(data, settings, url)


@pytest.mark.parametrize(("base_url", "mailto"), CASES)
def test_sendgrid_posted_json(
    tmp_path: Path, httpserver: HTTPServer, base_url: str, mailto: str | None
) -> None:
    httpserver.expect_request("/v3/mail/send", method="POST").respond_with_response(
        Response(status=202, headers={"X-Message-Id": "sg-1"})
    )
    settings = wire_settings(tmp_path, base_url, mailto)
    msg, url = digest_for(settings)
    mailer = SendGridMailer("SG.wire-test-key", host=httpserver.url_for("").rstrip("/"))
    with mailer:
        mailer.send(msg)
    raw = httpserver.log[0][0].get_data()
    headers = json.loads(raw)["headers"]
    assert headers["List-Unsubscribe"] == expected_value(settings, url)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert b"=?" not in raw
    # SendGrid builds the MIME message from this string: one line, nothing for it to decode.
    assert "\n" not in headers["List-Unsubscribe"] and "\r" not in headers["List-Unsubscribe"]


def test_no_mailto_is_advertised_unless_configured(tmp_path: Path) -> None:
    msg, url = digest_for(wire_settings(tmp_path, "https://andon.example", None))
    assert msg.headers["List-Unsubscribe"] == f"<{url}>"
    assert "mailto" not in msg.headers["List-Unsubscribe"]


def test_a_base_url_too_long_for_one_header_line_is_refused(tmp_path: Path) -> None:
    settings = wire_settings(tmp_path, "https://andon.example/" + "p" * 1000, None)
    with pytest.raises(ValueError, match="ANDON_BASE_URL"):
        digest_for(settings)
