"""An outgoing message as the bytes an SMTP DATA command carries, built without `email`'s
content manager and generator.

`to_email_message(msg).as_bytes()` costs ~10-20 ms for a digest's ~50 KB of HTML: the content
manager quoted-printable-encodes the HTML one character at a time in Python, and the generator
walks the result line by line again. Here the headers still go through the same policy (parsed,
folded, RFC 2047-encoded as before); the bodies take the same transfer encodings, chosen by the
same rules, with `binascii` doing the encoding. A parser reads the same headers and the same
decoded parts from both (tests/alerts/test_send_wire.py).
"""

from __future__ import annotations

import binascii
import functools
import random
import re
import sys
from email import quoprimime

from alerts.message import (
    URI_LIST_HEADERS,
    WIRE_POLICY,
    OutgoingMessage,
    fold_uri_list,
    headers_message,
    sanitize_header,
)

_CRLF = b"\r\n"
_MAX_LINE: int = (
    WIRE_POLICY.max_line_length or 78
)  # 78: above it a body is encoded, as set_content does
_QP_LINE = 76  # RFC 2045's limit for an encoded line


def wire_bytes(msg: OutgoingMessage) -> bytes:
    """The message with CRLF line ends: multipart/alternative (text, then HTML) or text only."""
    head = _headers(msg)
    text = _part(msg.text, "plain")
    if msg.html is None:
        return head + b"MIME-Version: 1.0" + _CRLF + text
    html = _part(msg.html, "html")
    boundary = _boundary(text + html)
    sep = b"--" + boundary + _CRLF
    return b"".join(
        [
            head,
            b"MIME-Version: 1.0" + _CRLF,
            b"Content-Type: multipart/alternative;" + _CRLF,
            b' boundary="' + boundary + b'"' + _CRLF,
            _CRLF,
            sep,
            text,
            _CRLF,
            sep,
            html,
            _CRLF,
            b"--" + boundary + b"--" + _CRLF,
        ]
    )


def _headers(msg: OutgoingMessage) -> bytes:
    """The top-level headers, parsed and folded as `to_email_message` does."""
    pairs = [("From", msg.from_), ("To", msg.to), ("Subject", sanitize_header(msg.subject))]
    if msg.message_id:
        pairs.append(("Message-ID", msg.message_id))
    pairs += [(name, sanitize_header(value)) for name, value in msg.headers.items()]
    if len({name.lower() for name, _ in pairs}) < len(pairs):
        return _headers_general(msg)  # a name twice: EmailMessage says which it refuses
    return b"".join(_folded(name, value) for name, value in pairs)


@functools.lru_cache(maxsize=4096)
def _folded(name: str, value: str) -> bytes:
    """One header line as `EmailMessage` stores and the generator writes it; a pure function
    of the two, so the headers every digest of a run shares (From, List-Id…) fold once."""
    plain = _plain_line(name, value)
    if plain is not None:
        return plain
    _, header = WIRE_POLICY.header_store_parse(name, value)
    return WIRE_POLICY.fold_binary(name, header)


_DOT_ATOM = r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*"
_ADDR_SPEC = rf"{_DOT_ATOM}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
# Values the header registry parses and writes back unchanged: a bare address, a message id.
_PLAIN_VALUES = {
    "to": re.compile(_ADDR_SPEC),
    "message-id": re.compile(f"<{_ADDR_SPEC}>"),
}


def _plain_line(name: str, value: str) -> bytes | None:
    """The line `_folded` gives, for the per-digest headers whose value the policy writes as it
    is, without the header registry's parser (~50-120 us each; each digest has its own To,
    Message-ID and List-Unsubscribe, so the cache does not hold them). None for the others.

    An ASCII To or Message-ID of dot-atoms that fits on one line parses into tokens that print
    back as the value, and the folder joins them on the one line. List-Unsubscribe(-Post) is
    folded by `fold_uri_list` from the header's text, which is the value: a sanitized value has
    no encoded word (tests/alerts/test_send_wire.py compares both ways).
    """
    if "=?" in value or not value.isprintable():
        return None  # encoded words, line breaks: the policy decodes or refuses them
    key = name.lower()
    if key in URI_LIST_HEADERS:
        return fold_uri_list(name, value, "\r\n").encode("ascii")
    pattern = _PLAIN_VALUES.get(key)
    if pattern is None or len(name) + 2 + len(value) > _MAX_LINE or not pattern.fullmatch(value):
        return None
    return f"{name}: {value}\r\n".encode("ascii")


def _headers_general(msg: OutgoingMessage) -> bytes:
    em = headers_message(msg)
    return b"".join(WIRE_POLICY.fold_binary(name, value) for name, value in em.raw_items())


def _part(content: str, subtype: str) -> bytes:
    """One text part (its headers, a blank line, its body), encoded as `set_content` chooses."""
    cte, body = _encode(content)
    return b"".join(
        [
            f'Content-Type: text/{subtype}; charset="utf-8"'.encode(),
            _CRLF,
            f"Content-Transfer-Encoding: {cte}".encode(),
            _CRLF,
            _CRLF,
            body,
        ]
    )


def _encode(content: str) -> tuple[str, bytes]:
    """The transfer encoding `email.contentmanager` would pick for `content`, and the body.

    Lines up to 78 octets go as they are (7bit, or 8bit with UTF-8 in them: the SMTP policy's
    `cte_type`); longer ones are quoted-printable unless base64 is shorter on the first ten.
    """
    lines = content.encode("utf-8").splitlines()
    if max((len(line) for line in lines), default=0) <= _MAX_LINE:
        body = _CRLF.join(lines) + _CRLF
        return ("7bit" if body.isascii() else "8bit"), body
    sniff = _CRLF.join(lines[:10]) + _CRLF
    sniff_qp = quoprimime.body_encode(sniff.decode("latin-1"), _MAX_LINE)
    if len(sniff_qp) > len(binascii.b2a_base64(sniff)):
        return "base64", _base64(_CRLF.join(lines) + _CRLF)
    qp = binascii.b2a_qp(b"\n".join(lines) + b"\n", istext=True)
    return "quoted-printable", qp.replace(b"\n", _CRLF)


def _base64(data: bytes) -> bytes:
    """Base64 in lines of 76 characters (`email.base64mime`'s width)."""
    chunk = _QP_LINE // 4 * 3  # 57 octets give 76 characters
    return b"".join(
        binascii.b2a_base64(data[i : i + chunk]).replace(b"\n", _CRLF)
        for i in range(0, len(data), chunk)
    )


def _boundary(body: bytes) -> bytes:
    """A boundary like the generator's, checked against the parts as the generator does."""
    token = random.randrange(sys.maxsize)
    boundary = ("=" * 15 + (_FMT % token) + "==").encode()
    counter = 0
    while b"--" + boundary in body:
        counter += 1
        boundary = ("=" * 15 + (_FMT % token) + "==").encode() + b"." + str(counter).encode()
    return boundary


_FMT = "%0" + str(len(repr(sys.maxsize - 1))) + "d"
