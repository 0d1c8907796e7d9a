"""One-off emails outside the digest run: the double opt-in confirmation and operator alerts."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from alerts import links
from alerts.mailers import Mailer, SendResult, make_mailer
from alerts.message import OutgoingMessage, build_message
from alerts.models import SavedSearch, Subscriber
from alerts.render import render_confirmation, render_operator_alert
from alerts.subscriptions import describe
from config import Settings

log = logging.getLogger(__name__)


def send_confirmation(
    settings: Settings,
    subscriber: Subscriber,
    saved_search: SavedSearch,
    *,
    mailer: Mailer | None = None,
) -> None:
    """Email the confirm link for a pending subscriber, with the search they asked for.

    Raises the mailer's errors (`TransientSendError`, `PermanentSendError`, `MailerAuthError`,
    `MailerConfigError`): the caller decides whether a failed confirmation is worth a retry.
    """
    if subscriber.id is None:
        raise ValueError("the subscriber must be saved (flushed) before it can be confirmed")
    days = max(1, settings.confirm_max_age_s // 86400) if settings.confirm_max_age_s else None
    rendered = render_confirmation(
        subscriber.email,
        links.confirm_url(settings, subscriber.id),
        describe(saved_search),
        settings.postal_line(),
        expires_in_days=days,
    )
    msg = build_message(settings, to=subscriber.email, rendered=rendered, kind="confirm")
    _send(settings, msg, mailer)


def send_operator_alert(
    settings: Settings,
    subject: str,
    lines: Sequence[str],
    *,
    mailer: Mailer | None = None,
) -> bool:
    """Tell the operator (`ANDON_OPERATOR_EMAIL`) something needs them; False when none is set."""
    if not settings.operator_email:
        return False
    rendered = render_operator_alert(subject, lines)
    msg = build_message(settings, to=settings.operator_email, rendered=rendered, kind="operator")
    _send(settings, msg, mailer)
    return True


def _send(settings: Settings, msg: OutgoingMessage, mailer: Mailer | None) -> SendResult:
    if mailer is not None:
        # The caller's mailer is already open (a digest run's connection): do not close it.
        return mailer.send(msg)
    with make_mailer(settings) as own:
        return own.send(msg)
