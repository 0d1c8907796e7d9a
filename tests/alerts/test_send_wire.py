"""`wire_bytes` (the SMTP mailer's fast MIME) against `to_email_message`, the general path."""

from __future__ import annotations

import email
import random
import string
from collections import Counter
from email.message import EmailMessage
from email.policy import default

import pytest

from alerts.mailers.wire import _folded, _plain_line, wire_bytes
from alerts.message import WIRE_POLICY, OutgoingMessage, to_email_message

LONG = "x" * 120
CASES = {
    "ascii, short lines": ("Hello\nA job\n", "<p>Hello</p>\n"),
    "utf-8, short lines": ("Plant – manager\nÜber\n", "<p>Hé</p>"),
    "long ascii lines": (f"{LONG}\n", f"<div style='a:b'>{LONG} = {LONG}</div>\n" * 40),
    "long utf-8 lines": (f"é{LONG}ü\n", f"<p>“{LONG}” – {LONG}</p>\n" * 30),
    "mostly non-latin (base64)": ("Работа " * 30 + "\n", "<p>" + "工場長" * 60 + "</p>"),
    "trailing spaces, dots, From": (
        f"line with trailing space \n.\n.dot\nFrom here\n{LONG} \t\n",
        f"<p>{LONG}   \n.\n..\nFrom x\n=3D=\n</p>  ",
    ),
    "CRLF, CR and no final newline": ("a\r\nb\rc", f"{LONG}\r\n{LONG}\r{LONG}"),
    "empty": ("", ""),
}


def _message(text: str, html: str | None) -> OutgoingMessage:
    return OutgoingMessage(
        to="someone@example.com",
        from_="andon <digest@andon.example>",
        subject="12 new production jobs for “Plant manager – Midwest” " + "long " * 20,
        text=text,
        html=html,
        headers={
            "Date": "Mon, 30 Nov 2026 12:00:00 +0000",
            "Auto-Submitted": "auto-generated",
            "List-Id": "andon <digests.andon.example>",
            "List-Unsubscribe": "<https://andon.example/unsubscribe/" + "a" * 120 + ">",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        message_id="<andon.digest.1.2026-11-30@andon.example>",
    )


def _parse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _shape(msg: EmailMessage) -> list[tuple[str, str, str | None, str]]:
    """Each leaf part: content type, transfer encoding, charset, decoded content."""
    return [
        (
            part.get_content_type(),
            str(part.get("Content-Transfer-Encoding", "")),
            part.get_content_charset(),
            part.get_content(),
        )
        for part in msg.walk()
        if not part.is_multipart()
    ]


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("with_html", [True, False])
def test_wire_bytes_parse_as_the_email_package_message(name: str, with_html: bool) -> None:
    text, html = CASES[name]
    msg = _message(text, html if with_html else None)
    fast = wire_bytes(msg)
    general = to_email_message(msg).as_bytes(policy=WIRE_POLICY)
    ours, theirs = _parse(fast), _parse(general)
    skip = {"content-type", "mime-version"}
    assert [(k, str(v)) for k, v in ours.items() if k.lower() not in skip] == [
        (k, str(v)) for k, v in theirs.items() if k.lower() not in skip
    ]
    assert ours.get_content_type() == theirs.get_content_type()
    assert ours["MIME-Version"] == "1.0"
    assert _shape(ours) == _shape(theirs)
    # the same raw header lines (folding, encoded words) before the MIME headers
    assert fast.split(b"\r\nMIME-Version")[0] in general
    assert all(len(line) <= 998 for line in fast.split(b"\r\n"))
    assert b"\n" not in fast.replace(b"\r\n", b"")


def test_wire_bytes_lines_stay_short_when_encoded() -> None:
    fast = wire_bytes(_message(f"é{LONG}\n", f"<p>{LONG * 5}</p>"))
    body = fast.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in body.split(b"\r\n")) <= 78


def test_wire_boundary_avoids_the_parts() -> None:
    raw = wire_bytes(_message("a\n", "<p>b</p>"))
    boundary = _parse(raw).get_boundary()
    assert boundary is not None and boundary.startswith("=" * 15)
    assert raw.count(b"--" + boundary.encode()) == 3


@pytest.mark.parametrize("extra", [{"subject": "again"}, {"X-A": "1", "x-a": "2"}, {"X-B": "2"}])
def test_wire_headers_named_twice_go_the_email_package_way(extra: dict[str, str]) -> None:
    msg = _message("a\n", None)
    msg.headers.update(extra)
    try:
        general = to_email_message(msg).as_bytes(policy=WIRE_POLICY)
    except ValueError as exc:
        with pytest.raises(ValueError, match=str(exc)):
            wire_bytes(msg)
        return
    assert wire_bytes(msg).split(b"\r\nMIME-Version")[0] in general


def test_wire_headers_refuse_a_line_break_as_the_email_package_does() -> None:
    msg = _message("a\n", None)
    msg.message_id = "<a@b>\r\nBcc: someone@example.com"
    with pytest.raises(ValueError, match="linefeed or carriage return"):
        to_email_message(msg)
    with pytest.raises(ValueError, match="linefeed or carriage return"):
        wire_bytes(msg)


def _policy_line(name: str, value: str) -> bytes:
    _, header = WIRE_POLICY.header_store_parse(name, value)
    return WIRE_POLICY.fold_binary(name, header)


def _values(rng: random.Random, alphabet: str, n: int) -> list[str]:
    """Random dot-separated words of `alphabet`; now and then a dot doubled or at an end."""
    out = []
    for _ in range(n):
        words = [
            "".join(rng.choices(alphabet, k=rng.randint(1, 9))) for _ in range(rng.randint(1, 3))
        ]
        sep = rng.choice([".", ".", ".", ".", "..", "-"])
        ends = rng.choice([("", "")] * 6 + [(".", ""), ("", ".")])
        out.append(ends[0] + sep.join(words) + ends[1])
    return out


def test_plain_header_lines_are_the_policys_lines() -> None:
    """To, Message-ID and List-Unsubscribe written without the header registry: the same bytes,
    over random values of the characters they allow and some they do not."""
    rng = random.Random(20261130)
    atext = string.ascii_letters + string.digits + "_+-"
    odd = atext + "!#$%&'*/=?^`{|}~ ()<>,;:\"[]\\é"
    plain: Counter[str] = Counter()
    for alphabet, n in ((atext, 1000), (odd, 300)):
        for local, domain in zip(_values(rng, alphabet, n), _values(rng, alphabet, n), strict=True):
            address = f"{local}@{domain}"
            for name, value in (
                ("To", address), ("to", address), ("Message-ID", f"<{address}>"),
                ("List-Unsubscribe", f"<https://{domain}/unsubscribe/{local}>"),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ):  # fmt: skip
                if not value.isascii() and name.startswith("List"):
                    continue  # refused either way (ValueError), tested below
                fast = _plain_line(name, value)
                if fast is not None:
                    plain[name.lower()] += 1
                    assert fast == _policy_line(name, value), (name, value)
    # the dot-atom values took the plain way, the others the registry's
    assert min(plain[key] for key in ("to", "message-id", "list-unsubscribe")) > 200
    assert _plain_line("To", "pat@example.com") == b"To: pat@example.com\r\n"
    assert _plain_line("To", "x" * 80 + "@example.com") is None  # longer than a line
    assert _plain_line("Subject", "hello") is None  # other headers: the registry's way


def test_plain_header_lines_refuse_what_the_policy_refuses() -> None:
    for value in ("<https://a.example/é>", "<https://a.example/x>\r\nBcc: x@y"):
        with pytest.raises(ValueError, match=r"must be ASCII|linefeed"):
            _policy_line("List-Unsubscribe", value)
        with pytest.raises(ValueError, match=r"must be ASCII|linefeed"):
            _folded("List-Unsubscribe", value)
