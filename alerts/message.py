"""Build outgoing messages (headers, ids, unsubscribe headers) apart from sending them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid
from typing import Any, Literal
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from config import Settings

Kind = Literal["digest", "confirm", "operator"]
KINDS: tuple[str, ...] = ("digest", "confirm", "operator")
ONE_CLICK = "List-Unsubscribe=One-Click"

# An RFC 2047 encoded word, loosely: anything between "=?" and "?=" that has the two inner
# '?' separators. Python < 3.11.10 can decode one into a raw newline while refolding a header,
# which emits a real "Bcc:" (CVE-2024-6923); user text never gets to carry one.
_ENCODED_WORD = re.compile(r"=\?[^?]*\?[^?]*\?[^?]*\?=")
_SPACES = re.compile(r"\s+")
_LINE_BREAKING = frozenset({"Cc", "Zl", "Zp"})
_INVISIBLE = frozenset({"Cf", "Cs"})


def sanitize_header(value: object, max_len: int | None = None) -> str:
    """Make text safe for a header: no CR/LF or control characters, no encoded words, one line.

    Use it for every header value built from user or scraped text. Format characters
    (bidi overrides, zero-width) are dropped too, so a subject cannot display reversed.
    """
    text = str(value or "")
    if not text.isascii() or not text.isprintable():
        text = "".join(
            " "
            if unicodedata.category(c) in _LINE_BREAKING
            else ""
            if unicodedata.category(c) in _INVISIBLE
            else c
            for c in text
        )
    # Removing one encoded word can join the halves of another ("=?=?a?b?c?=?="): repeat,
    # then drop any "=?" left so no encoded word can start at all.
    while True:
        stripped = _ENCODED_WORD.sub("", text)
        stripped = stripped.replace("=?", "")
        if stripped == text:
            break
        text = stripped
    text = _SPACES.sub(" ", text).strip()
    if max_len is not None and len(text) > max_len:
        text = text[: max(max_len - 1, 0)].rstrip() + "…"
    return text


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """A rendered email: header-safe subject, plain text, and HTML with CSS inlined (or None)."""

    subject: str
    text: str
    html: str | None = None


@dataclass(slots=True)
class OutgoingMessage:
    """One email ready for any mailer: addresses, rendered parts, extra headers, provider tags."""

    to: str
    from_: str
    subject: str
    text: str
    html: str | None
    headers: dict[str, str] = field(default_factory=dict)
    message_id: str = ""
    custom_args: dict[str, str] = field(default_factory=dict)  # e.g. {"andon_digest_id": "123"}
    category: str = ""


def validate_recipient(address: str) -> str:
    """The normalized address, or `ValueError` with one clear line."""
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"invalid recipient address {address!r}: {exc}") from None


def _checked_unsubscribe_url(url: str) -> str:
    parts = urlsplit(url)
    if (
        parts.scheme not in ("https", "http")
        or not parts.netloc
        or any(c in url for c in "<>, \t\r\n")
        or not url.isascii()
        or not url.isprintable()
    ):
        raise ValueError(f"unsubscribe URL must be an absolute ASCII http(s) URL: {url!r}")
    if len(url) > MAX_URI_LEN:
        # One URI cannot be folded: it must fit on one header line (RFC 5322: 998 octets).
        raise ValueError(
            f"unsubscribe URL is longer than {MAX_URI_LEN} characters: shorten ANDON_BASE_URL"
        )
    return url


def list_unsubscribe(settings: Settings, url: str) -> str:
    """The RFC 2369 value: the https link, and a mailto only where the operator reads one."""
    url = _checked_unsubscribe_url(url)
    uris = [url]
    address = sanitize_header(settings.unsubscribe_mailto or "")
    if address:
        if not address.isascii() or any(c in address for c in "<>,? "):
            raise ValueError(f"ANDON_UNSUBSCRIBE_MAILTO is not a plain address: {address!r}")
        token = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
        uris.append(f"mailto:{address}?subject=unsubscribe-{token}")
    return ", ".join(f"<{uri}>" for uri in uris)


def build_message(
    settings: Settings,
    *,
    to: str,
    rendered: RenderedEmail,
    unsubscribe_url: str | None = None,
    digest_id: int | str | None = None,
    kind: Kind = "digest",
) -> OutgoingMessage:
    """Wrap a rendered email with the headers mailbox providers and the law ask for.

    Digests carry `List-Unsubscribe` (the https link, and a mailto with the same token when
    `ANDON_UNSUBSCRIBE_MAILTO` names a mailbox the operator processes) and
    `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058; receivers honour one-click
    only for an https URL, so production needs an https `base_url`), plus `List-Id`.
    Every kind carries `Auto-Submitted: auto-generated` (RFC 3834) so vacation responders do
    not answer an alert; Gmail's sender guidelines neither require nor penalise it.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}; expected one of {KINDS}")
    recipient = validate_recipient(to)
    headers: dict[str, str] = {
        "Date": format_datetime(datetime.now(UTC)),
        "Auto-Submitted": "auto-generated",
        # Exchange/Outlook's own switch for out-of-office replies.
        "X-Auto-Response-Suppress": "OOF, AutoReply",
    }
    if settings.reply_to:
        headers["Reply-To"] = sanitize_header(settings.reply_to)
    if kind in ("digest", "confirm"):
        headers["List-Id"] = sanitize_header(settings.list_id)
    if kind == "digest":
        if not unsubscribe_url:
            raise ValueError("a digest needs an unsubscribe URL")
        headers["List-Unsubscribe"] = list_unsubscribe(settings, unsubscribe_url)
        headers["List-Unsubscribe-Post"] = ONE_CLICK
    custom_args: dict[str, str] = {"andon_kind": kind}
    if digest_id is not None:
        custom_args["andon_digest_id"] = str(digest_id)
    domain = sanitize_header(settings.from_domain()) or "andon.localhost"
    return OutgoingMessage(
        to=recipient,
        from_=sanitize_header(settings.from_email),
        subject=sanitize_header(rendered.subject, max_len=200),
        text=rendered.text,
        html=rendered.html,
        headers=headers,
        message_id=make_msgid(idstring="andon", domain=domain),
        custom_args=custom_args,
        category=f"andon-{kind}",
    )


MAX_URI_LEN = 900  # one URI per header line, with room for the name and the angle brackets
_LINE_LIMIT = 998  # RFC 5322 2.1.1, without the CRLF
# RFC 2369/8058 headers are lists of <URI>: encoded words are not allowed in them, and a URI
# must not be broken. Python's folder encodes a header whose one word is longer than a line
# (=?utf-8?q?=3Chttps...), which is what made receivers drop one-click unsubscribe.
URI_LIST_HEADERS = frozenset({"list-unsubscribe", "list-unsubscribe-post"})


class _WirePolicy(EmailPolicy):
    """The SMTP policy (CRLF, 78-column folding), except that RFC 2369 headers go out verbatim.

    They are one line when it fits in 998 octets; otherwise folded only between their <URI>s,
    where RFC 2369 allows whitespace.
    """

    def fold(self, name: str, value: Any) -> str:
        if name.lower() not in URI_LIST_HEADERS:
            return super().fold(name, value)
        return fold_uri_list(name, str(value), self.linesep)

    def fold_binary(self, name: str, value: Any) -> bytes:
        if name.lower() not in URI_LIST_HEADERS:
            return super().fold_binary(name, value)
        return self.fold(name, value).encode("ascii")


def fold_uri_list(name: str, value: str, linesep: str) -> str:
    value = " ".join(value.split())
    if not value.isascii():
        raise ValueError(f"{name} must be ASCII: {value!r}")
    line = f"{name}: {value}"
    if len(line) <= _LINE_LIMIT:
        return line + linesep
    folded = f",{linesep} ".join(part.strip() for part in value.split(","))
    return f"{name}: {folded}{linesep}"


WIRE_POLICY = _WirePolicy(linesep="\r\n")


def headers_message(msg: OutgoingMessage) -> EmailMessage:
    """A message holding only `msg`'s top-level headers (the policy parses and checks them)."""
    em = EmailMessage(policy=WIRE_POLICY)
    em["From"] = msg.from_
    em["To"] = msg.to
    # Sanitized again here: an OutgoingMessage may have been built or edited by other code.
    em["Subject"] = sanitize_header(msg.subject)
    if msg.message_id:
        em["Message-ID"] = msg.message_id
    for name, value in msg.headers.items():
        em[name] = sanitize_header(value)
    return em


def to_email_message(msg: OutgoingMessage) -> EmailMessage:
    """The MIME message: multipart/alternative (text, then HTML) or text only; CRLF (SMTP policy)."""
    em = headers_message(msg)
    em.set_content(msg.text)
    if msg.html is not None:
        em.add_alternative(msg.html, subtype="html")
    return em
