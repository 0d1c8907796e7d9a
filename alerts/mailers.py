"""Mailers behind one `send(message)` interface: an .eml outbox folder, SMTP, and SendGrid."""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import random
import re
import smtplib
import ssl
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable
from urllib.parse import parse_qs, unquote, urlsplit

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from alerts.message import OutgoingMessage, sanitize_header, to_email_message

if TYPE_CHECKING:
    from config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SendResult:
    """What a provider said after accepting a message: its id, for matching webhook events."""

    provider_message_id: str | None


class MailerError(Exception):
    """Base of every mailer failure."""


class TransientSendError(MailerError):
    """Not sent this time (rate limit, 4xx SMTP, 5xx, timeout, connection): retry later."""


class PermanentSendError(MailerError):
    """This message failed for good; the text carries the provider's own message."""


class MailerAuthError(MailerError):
    """Credentials or sender identity refused (401/403, SMTP auth): stop the run, tell the operator."""


class MailerConfigError(MailerError):
    """The mailer settings are missing or malformed; the text is one line for the operator."""


@runtime_checkable
class Mailer(Protocol):
    """Send messages; `with mailer:` (or open()/close()) holds per-run resources."""

    def open(self) -> None: ...

    def close(self) -> None: ...

    def send(self, msg: OutgoingMessage) -> SendResult: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class BaseMailer:
    """Context-manager plumbing shared by the mailers; open() and close() are no-ops here."""

    def open(self) -> None:
        return None

    def close(self) -> None:
        return None

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def envelope_address(header_value: str) -> str:
    """The bare address of a From-style header ('andon <a@b>' → 'a@b')."""
    return parseaddr(header_value)[1] or header_value


# --- file --------------------------------------------------------------------------------------

_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


class FileMailer(BaseMailer):
    """Writes each message as `<outbox>/<UTC timestamp>-<message id>.eml`, atomically."""

    def __init__(self, outbox: Path) -> None:
        self.outbox = Path(outbox)

    def open(self) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)

    def send(self, msg: OutgoingMessage) -> SendResult:
        self.outbox.mkdir(parents=True, exist_ok=True)
        data = to_email_message(msg).as_bytes()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        safe_id = _UNSAFE_FILENAME.sub("_", msg.message_id.strip("<>"))[:120] or "message"
        final = self.outbox / f"{stamp}-{safe_id}.eml"
        # Write to a temporary name, fsync, then rename: a reader (or a crash) never sees half
        # a message, and a finished .eml is on disk before we report it sent.
        fd, tmp = tempfile.mkstemp(dir=self.outbox, prefix=".", suffix=".eml.tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise TransientSendError(f"cannot write {final}: {exc}") from exc
        _fsync_dir(self.outbox)
        return SendResult(provider_message_id=msg.message_id or None)


def _fsync_dir(path: Path) -> None:
    # The rename itself is durable only once the directory entry is flushed.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- SMTP --------------------------------------------------------------------------------------

STARTTLS_MODES = ("required", "auto", "off")


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    """An `smtp://` or `smtps://` URL taken apart."""

    implicit_tls: bool
    host: str
    port: int
    username: str | None
    password: str | None
    starttls: str

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise MailerConfigError(
                "ANDON_SMTP_URL must look like smtp://user:pass@host:587 or smtps://user:pass@host:465"
            )
        try:
            port = parts.port
        except ValueError:
            raise MailerConfigError("ANDON_SMTP_URL has an invalid port") from None
        mode = parse_qs(parts.query).get("starttls", ["auto"])[-1].lower()
        if mode not in STARTTLS_MODES:
            raise MailerConfigError(f"ANDON_SMTP_URL: starttls must be one of {STARTTLS_MODES}")
        implicit = parts.scheme == "smtps"
        return cls(
            implicit_tls=implicit,
            host=parts.hostname,
            port=port or (465 if implicit else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            starttls=mode,
        )


def _smtp_error(code: int, reply: bytes | str, what: str) -> MailerError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    detail = f"SMTP {what} refused: {code} {text}".strip()
    if code in (530, 534, 535, 538):
        return MailerAuthError(detail)
    if 400 <= code < 500:
        return TransientSendError(detail)
    return PermanentSendError(detail)


class SmtpMailer(BaseMailer):
    """SMTP with STARTTLS when offered (or required); one connection per run, reused per send."""

    def __init__(
        self,
        url: str,
        timeout: float = 30.0,
        *,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        self.target = SmtpTarget.parse(url)
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.local_hostname = local_hostname
        self._smtp: smtplib.SMTP | None = None

    def __repr__(self) -> str:
        # Never the password: reprs end up in logs and tracebacks.
        t = self.target
        return f"SmtpMailer({'smtps' if t.implicit_tls else 'smtp'}://{t.host}:{t.port})"

    def open(self) -> None:
        # The connection opens on the first send: a run with nothing to send connects to nobody.
        return None

    def _connect(self) -> smtplib.SMTP:
        t = self.target
        try:
            if t.implicit_tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    t.host,
                    t.port,
                    local_hostname=self.local_hostname,
                    timeout=self.timeout,
                    context=self.ssl_context,
                )
            else:
                smtp = smtplib.SMTP(
                    t.host, t.port, local_hostname=self.local_hostname, timeout=self.timeout
                )
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientSendError(f"cannot connect to SMTP {t.host}:{t.port}: {exc}") from exc
        try:
            smtp.ehlo()
            if not t.implicit_tls and t.starttls != "off":
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=self.ssl_context)
                    smtp.ehlo()
                elif t.starttls == "required":
                    raise MailerAuthError(
                        f"SMTP {t.host}:{t.port} does not offer STARTTLS and the URL requires it"
                    )
            if t.username is not None:
                smtp.login(t.username, t.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            _quietly_close(smtp)
            raise MailerAuthError(
                f"SMTP login refused: {exc.smtp_code} {_decode(exc.smtp_error)}"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            _quietly_close(smtp)
            raise MailerAuthError(f"SMTP {t.host}:{t.port} offers no login: {exc}") from None
        except MailerError:
            _quietly_close(smtp)
            raise
        except (OSError, smtplib.SMTPException) as exc:
            _quietly_close(smtp)
            raise TransientSendError(f"SMTP session setup failed: {exc}") from exc
        return smtp

    def send(self, msg: OutgoingMessage) -> SendResult:
        if self._smtp is None:
            self._smtp = self._connect()
        smtp = self._smtp
        em = to_email_message(msg)
        try:
            smtp.send_message(em, from_addr=envelope_address(msg.from_), to_addrs=[msg.to])
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise self._refused(code, reply, "recipient") from None
        except smtplib.SMTPSenderRefused as exc:
            raise self._refused(exc.smtp_code, exc.smtp_error, "sender") from None
        except smtplib.SMTPDataError as exc:
            raise self._refused(exc.smtp_code, exc.smtp_error, "message") from None
        except (OSError, smtplib.SMTPException) as exc:
            # The session is in an unknown state: drop it, the next send reconnects.
            self._drop()
            raise TransientSendError(f"SMTP send failed: {exc}") from exc
        return SendResult(provider_message_id=msg.message_id or None)

    def _refused(self, code: int, reply: bytes | str, what: str) -> MailerError:
        if code == 421:
            # "Service closing transmission channel": the server hangs up after this reply.
            self._drop()
        return _smtp_error(code, reply, what)

    def _drop(self) -> None:
        if self._smtp is not None:
            _quietly_close(self._smtp)
            self._smtp = None

    def close(self) -> None:
        if self._smtp is None:
            return
        with contextlib.suppress(OSError, smtplib.SMTPException):
            self._smtp.quit()
        self._drop()


def _decode(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _quietly_close(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError, smtplib.SMTPException):
        smtp.close()


# --- SendGrid ----------------------------------------------------------------------------------

# Headers SendGrid sets itself or refuses in `headers`; Date is stamped at acceptance.
_SENDGRID_RESERVED = frozenset(
    {
        "date", "from", "to", "cc", "bcc", "subject", "reply-to", "content-type",
        "content-transfer-encoding", "received", "dkim-signature", "x-sg-id", "x-sg-eid",
    }
)  # fmt: skip


class SendGridMailer(BaseMailer):
    """SendGrid v3 Mail Send through the official client, with a timeout and bounded retries.

    429 waits for `X-RateLimit-Reset` (capped); 5xx, timeouts and connection errors back off
    exponentially with jitter. SendGrid has no idempotency key, so a retry after a timeout can
    duplicate a message the provider did accept: callers keep `custom_args` ids to reconcile.
    """

    def __init__(
        self,
        api_key: str,
        host: str = "https://api.sendgrid.com",
        timeout: float = 30.0,
        *,
        max_attempts: int = 4,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if not api_key:
            raise MailerConfigError("ANDON_SENDGRID_API_KEY is empty")
        self._api_key = api_key
        self.host = host.rstrip("/")
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.sleep = sleep
        self.clock = clock
        self.jitter = jitter
        self._client: Any = None

    def __repr__(self) -> str:
        return f"SendGridMailer(host={self.host!r})"

    def open(self) -> None:
        if self._client is None:
            self._client = SendGridAPIClient(api_key=self._api_key, host=self.host)

    def close(self) -> None:
        self._client = None

    def request_body(self, msg: OutgoingMessage) -> dict[str, Any]:
        """The v3 Mail Send JSON: text/plain before text/html, our ids in custom_args."""
        name, address = parseaddr(msg.from_)
        sender: dict[str, str] = {"email": address or msg.from_}
        if name:
            sender["name"] = name
        content = [{"type": "text/plain", "value": msg.text}]
        if msg.html is not None:
            content.append({"type": "text/html", "value": msg.html})
        # Sanitized again: the sendgrid client forwards CR/LF in any string unchanged.
        headers = {
            k: sanitize_header(v)
            for k, v in msg.headers.items()
            if k.lower() not in _SENDGRID_RESERVED
        }
        if msg.message_id:
            headers["Message-ID"] = msg.message_id
        body: dict[str, Any] = {
            "personalizations": [{"to": [{"email": msg.to}]}],
            "from": sender,
            "subject": sanitize_header(msg.subject),
            "content": content,
            "headers": headers,
            "custom_args": dict(msg.custom_args),
            # Our own unsubscribe links must reach us untouched, and we do not track readers.
            "tracking_settings": {
                "click_tracking": {"enable": False, "enable_text": False},
                "open_tracking": {"enable": False},
                "subscription_tracking": {"enable": False},
            },
        }
        reply_to = msg.headers.get("Reply-To")
        if reply_to:
            body["reply_to"] = {"email": envelope_address(reply_to)}
        if msg.category:
            body["categories"] = [msg.category]
        return body

    def send(self, msg: OutgoingMessage) -> SendResult:
        self.open()
        body = self.request_body(msg)
        last = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self._client.client.mail.send.post(
                    request_body=body, timeout=self.timeout
                )
            except HTTPError as exc:
                status = int(exc.status_code)
                if status in (401, 403):
                    raise MailerAuthError(
                        f"SendGrid refused the request ({status}): {_provider_errors(exc.body)}"
                    ) from None
                if status == 429:
                    last = "429 rate limited"
                    delay = self._rate_limit_delay(exc.headers, attempt)
                elif status >= 500:
                    last = f"{status} {_provider_errors(exc.body)}"
                    delay = self._backoff(attempt)
                else:
                    raise PermanentSendError(
                        f"SendGrid rejected the message ({status}): {_provider_errors(exc.body)}"
                    ) from None
            # Timeouts, refused connections and URLError are all OSError; a torn response is not.
            except (OSError, http.client.HTTPException) as exc:
                last = f"{type(exc).__name__}: {exc}"
                delay = self._backoff(attempt)
            else:
                return SendResult(provider_message_id=_header(response.headers, "X-Message-Id"))
            if attempt < self.max_attempts:
                log.info(
                    "sendgrid send failed (%s), attempt %d/%d, retrying in %.1fs",
                    last,
                    attempt,
                    self.max_attempts,
                    delay,
                )
                self.sleep(delay)
        raise TransientSendError(f"SendGrid send failed after {self.max_attempts} attempts: {last}")

    def _backoff(self, attempt: int) -> float:
        # Full jitter: spreads several senders' retries instead of synchronizing them.
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        return ceiling / 2 + self.jitter() * ceiling / 2

    def _rate_limit_delay(self, headers: Any, attempt: int) -> float:
        reset = _header(headers, "X-RateLimit-Reset")
        try:
            wait = float(reset) - self.clock() if reset is not None else None
        except ValueError:
            wait = None
        if wait is None:
            return self._backoff(attempt)
        return min(self.backoff_cap, max(0.0, wait) + self.jitter())


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    value = headers.get(name)
    if value is None and hasattr(headers, "items"):
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return str(value) if value is not None else None


def _provider_errors(body: bytes | str | None) -> str:
    """SendGrid's `errors[].message` joined, else the raw body (trimmed)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    try:
        data = json.loads(text)
        messages = [str(e.get("message")) for e in data.get("errors", []) if e.get("message")]
    except (ValueError, AttributeError, TypeError):
        messages = []
    return "; ".join(messages) if messages else (text.strip()[:300] or "no details")


# --- choosing one ------------------------------------------------------------------------------


def make_mailer(settings: Settings) -> Mailer:
    """The mailer `ANDON_MAILER` names, or `MailerConfigError` saying which setting is missing."""
    if settings.mailer == "file":
        return FileMailer(settings.outbox)
    if settings.mailer == "smtp":
        if settings.smtp_url is None or not settings.smtp_url.get_secret_value():
            raise MailerConfigError(
                "ANDON_MAILER=smtp needs ANDON_SMTP_URL (smtp://user:pass@host:587)"
            )
        return SmtpMailer(settings.smtp_url.get_secret_value(), settings.smtp_timeout)
    if settings.mailer == "sendgrid":
        if settings.sendgrid_api_key is None or not settings.sendgrid_api_key.get_secret_value():
            raise MailerConfigError("ANDON_MAILER=sendgrid needs ANDON_SENDGRID_API_KEY")
        return SendGridMailer(
            settings.sendgrid_api_key.get_secret_value(),
            settings.sendgrid_host,
            settings.sendgrid_timeout,
        )
    raise MailerConfigError(f"unknown ANDON_MAILER {settings.mailer!r}; use file, smtp or sendgrid")
