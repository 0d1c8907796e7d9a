"""Outgoing messages: headers parsed back with the stdlib, header sanitizing, recipient checks."""

from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime

import pytest

from alerts.message import build_message, sanitize_header, to_email_message
from alerts.render import RenderedEmail, render_digest, render_operator_alert
from alerts.tokens import make_token, read_token
from config import Settings
from tests.alerts.conftest import CVE_2024_6923, make_context


def parse(raw: bytes) -> EmailMessage:
    parsed = message_from_bytes(raw, policy=default_policy)
    assert isinstance(parsed, EmailMessage)
    return parsed


@pytest.fixture
def digest_raw(settings: Settings) -> tuple[bytes, str]:
    token = make_token(settings.secret(), "unsubscribe", 42)
    url = f"{settings.base_url}/unsubscribe/{token}"
    rendered = render_digest(make_context(unsubscribe_url=url))
    msg = build_message(
        settings, to="pat@example.com", rendered=rendered, unsubscribe_url=url, digest_id=123
    )
    assert msg.custom_args == {"andon_kind": "digest", "andon_digest_id": "123"}
    return to_email_message(msg).as_bytes(), token


def test_digest_headers_parse_back(settings: Settings, digest_raw: tuple[bytes, str]) -> None:
    raw, token = digest_raw
    parsed = parse(raw)
    # Long headers are folded at 78 columns; unfolded, only the whitespace differs.
    assert " ".join(parsed["List-Unsubscribe"].split()) == (
        f"<https://andon.example/unsubscribe/{token}>, "
        f"<mailto:unsubscribe@andon.example?subject=unsubscribe-{token}>"
    )
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["List-Id"] == "andon job alerts <alerts.andon.example>"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["From"] == "andon alerts <alerts@andon.example>"
    assert parsed["To"] == "pat@example.com"
    assert parsed["Subject"] == "12 new production jobs for “Plant manager Midwest”"
    message_id = parsed["Message-ID"]
    assert message_id.startswith("<")
    assert message_id.endswith("@andon.example>")
    assert parsedate_to_datetime(parsed["Date"]).tzinfo is not None
    # The token in the header is the one the web app will read back.
    assert read_token(settings.secret(), "unsubscribe", token) == 42


def test_digest_is_multipart_alternative_text_then_html(digest_raw: tuple[bytes, str]) -> None:
    raw, _ = digest_raw
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")
    parsed = parse(raw)
    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    text, html = (p.get_content() for p in parts)
    assert "Production Manager" in text
    assert "<html" not in text
    assert "Unsubscribe" in html
    assert "andon, 1 Main Street" in html


def test_each_message_gets_its_own_id(settings: Settings) -> None:
    rendered = RenderedEmail("s", "t", None)
    ids = {
        build_message(settings, to="a@example.com", rendered=rendered, kind="operator").message_id
        for _ in range(50)
    }
    assert len(ids) == 50


def test_digest_needs_an_unsubscribe_url(settings: Settings) -> None:
    rendered = RenderedEmail("s", "t", "<p>h</p>")
    with pytest.raises(ValueError, match="unsubscribe URL"):
        build_message(settings, to="a@example.com", rendered=rendered)
    for bad in ("javascript:alert(1)", "https://a.example/u/x>, <https://evil.example", "/u/x"):
        with pytest.raises(ValueError, match="unsubscribe URL"):
            build_message(settings, to="a@example.com", rendered=rendered, unsubscribe_url=bad)


def test_confirm_and_operator_carry_no_one_click(settings: Settings) -> None:
    rendered = RenderedEmail("Confirm your andon job alert", "t", "<p>h</p>")
    confirm = build_message(settings, to="a@example.com", rendered=rendered, kind="confirm")
    assert "List-Unsubscribe-Post" not in confirm.headers
    assert confirm.headers["List-Id"] == settings.list_id
    operator = build_message(
        settings, to="ops@example.com", rendered=render_operator_alert("x", ["y"]), kind="operator"
    )
    parsed = parse(to_email_message(operator).as_bytes())
    assert parsed.get_content_type() == "text/plain"
    assert "List-Id" not in operator.headers
    assert operator.category == "andon-operator"


@pytest.mark.parametrize(
    "address",
    ["not-an-address", "pat@", "pat@example.com\r\nBcc: evil@x.com", "a b@example.com", ""],
)
def test_recipient_is_validated(settings: Settings, address: str) -> None:
    with pytest.raises(ValueError, match="invalid recipient address") as caught:
        build_message(settings, to=address, rendered=RenderedEmail("s", "t", None), kind="operator")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Plant manager\r\nBcc: evil@x.com", "Plant manager Bcc: evil@x.com"),
        (f"Plant {CVE_2024_6923} manager", "Plant manager"),
        ("=?utf-8?b?QmNjOiBldmls?=", ""),
        ("=?=?UTF-8?Q?x?=UTF-8?Q?y?=", "UTF-8?Q?y?="),
        ("a =? b ?= c", "a b ?= c"),
        ("tab\there\x00nul\x1b[31m", "tab here nul [31m"),
        ("line\u2028sep\u0085nel", "line sep nel"),
        ("rtl\u202etxt.exe", "rtltxt.exe"),
        ("  many    spaces  ", "many spaces"),
        ("Plain “quoted” name", "Plain “quoted” name"),
        (None, ""),
    ],
)
def test_sanitize_header(value: str | None, expected: str) -> None:
    assert sanitize_header(value) == expected


def test_sanitize_header_caps_length() -> None:
    assert sanitize_header("x" * 300, max_len=10) == "x" * 9 + "…"
    assert sanitize_header("short", max_len=10) == "short"


def test_headers_are_sanitized_again_when_serialized(settings: Settings) -> None:
    msg = build_message(
        settings, to="a@example.com", rendered=RenderedEmail("s", "t", None), kind="operator"
    )
    msg.subject = f"edited later {CVE_2024_6923}\r\nBcc: evil@x.com"
    msg.headers["X-Note"] = "a\nBcc: evil@x.com"
    parsed = parse(to_email_message(msg).as_bytes())
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "edited later Bcc: evil@x.com"
