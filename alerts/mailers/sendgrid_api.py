"""The SendGrid mailer: v3 Mail Send through the official client, with bounded retries."""

from __future__ import annotations

import http.client
import json
import logging
import random
import time
from collections.abc import Callable
from email.utils import parseaddr
from typing import Any

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from alerts.mailers.base import (
    BaseMailer,
    MailerAuthError,
    MailerConfigError,
    PermanentSendError,
    SendResult,
    TransientSendError,
    envelope_address,
)
from alerts.message import OutgoingMessage, sanitize_header

log = logging.getLogger(__name__)

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
