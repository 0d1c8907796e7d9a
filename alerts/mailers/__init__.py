"""Mailers behind one `send(message)` interface: an .eml outbox folder, SMTP, and SendGrid.

`make_mailer` picks the one `ANDON_MAILER` names. The mailers that reach real inboxes (smtp,
sendgrid) refuse to start without `ANDON_POSTAL_ADDRESS`: commercial email must carry the
sender's postal address (CAN-SPAM), and andon has no honest default for it.
"""

from __future__ import annotations

from alerts.mailers.base import (
    BaseMailer,
    Mailer,
    MailerAuthError,
    MailerConfigError,
    MailerError,
    PermanentSendError,
    SendResult,
    TransientSendError,
    envelope_address,
)
from alerts.mailers.file import FileMailer
from alerts.mailers.sendgrid_api import SendGridMailer
from alerts.mailers.smtp import SmtpMailer, SmtpTarget
from config import Settings

__all__ = [
    "BaseMailer",
    "FileMailer",
    "Mailer",
    "MailerAuthError",
    "MailerConfigError",
    "MailerError",
    "PermanentSendError",
    "SendGridMailer",
    "SendResult",
    "SmtpMailer",
    "SmtpTarget",
    "TransientSendError",
    "envelope_address",
    "mail_problem",
    "mail_status_line",
    "make_mailer",
]


def make_mailer(settings: Settings) -> Mailer:
    """The mailer `ANDON_MAILER` names, or `MailerConfigError` saying which setting is missing."""
    if settings.mailer == "file":
        return FileMailer(settings.outbox)
    if settings.mailer == "smtp":
        if settings.smtp_url is None or not settings.smtp_url.get_secret_value():
            raise MailerConfigError(
                "ANDON_MAILER=smtp needs ANDON_SMTP_URL (smtp://user:pass@host:587)"
            )
        _require_postal_address(settings)
        return SmtpMailer(settings.smtp_url.get_secret_value(), settings.smtp_timeout)
    if settings.mailer == "sendgrid":
        if settings.sendgrid_api_key is None or not settings.sendgrid_api_key.get_secret_value():
            raise MailerConfigError("ANDON_MAILER=sendgrid needs ANDON_SENDGRID_API_KEY")
        _require_postal_address(settings)
        return SendGridMailer(
            settings.sendgrid_api_key.get_secret_value(),
            settings.sendgrid_host,
            settings.sendgrid_timeout,
        )
    raise MailerConfigError(f"unknown ANDON_MAILER {settings.mailer!r}; use file, smtp or sendgrid")


def _require_postal_address(settings: Settings) -> None:
    if not (settings.postal_address or "").strip():
        raise MailerConfigError(
            f"ANDON_MAILER={settings.mailer} refuses to send without ANDON_POSTAL_ADDRESS "
            "(the sender's postal address every email must show, e.g. "
            "'Acme Alerts, 500 Griswold St, Detroit, MI 48226, USA')"
        )


def mail_problem(settings: Settings) -> str | None:
    """One line saying why no email can go out with these settings, or None when one can."""
    try:
        make_mailer(settings)
    except MailerConfigError as exc:
        return str(exc)
    return None


def mail_status_line(settings: Settings) -> str:
    """`andon status`'s mail line: the mailer, and what stops it or marks its mail as a test."""
    problem = mail_problem(settings)
    if problem:
        return f"mail: not sending: {problem}"
    if settings.mailer == "file":
        line = f"mail: file mailer, writes .eml files to {settings.outbox}/"
        if not (settings.postal_address or "").strip():
            line += " (postal address is a placeholder: set ANDON_POSTAL_ADDRESS)"
        return line
    return f"mail: {settings.mailer}"
