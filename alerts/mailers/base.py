"""The mailer interface every provider implements, its result, and the errors it raises."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from alerts.message import OutgoingMessage


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
