"""The SMTP mailer: STARTTLS when offered (or required), one connection per run."""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from alerts.mailers.base import (
    BaseMailer,
    MailerAuthError,
    MailerConfigError,
    MailerError,
    PermanentSendError,
    SendResult,
    TransientSendError,
    envelope_address,
)
from alerts.mailers.wire import wire_bytes
from alerts.message import OutgoingMessage, to_email_message

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
        sender = envelope_address(msg.from_)
        try:
            if sender.isascii() and msg.to.isascii():
                # The bytes send_message would flatten, built in a fraction of its time.
                smtp.sendmail(sender, [msg.to], wire_bytes(msg))
            else:
                # An SMTPUTF8 address: send_message asks the server for SMTPUTF8 and 8BITMIME.
                smtp.send_message(to_email_message(msg), from_addr=sender, to_addrs=[msg.to])
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
