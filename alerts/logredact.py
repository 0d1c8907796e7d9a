"""Keep secrets out of logs: redact SendGrid keys, bearer tokens and URL passwords everywhere."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

REDACTED = "[redacted]"

# (pattern, replacement): SendGrid keys anywhere, the Authorization header python_http_client
# prints at DEBUG, and the password of a user:pass@ URL (SMTP, PostgreSQL, Redis).
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_\-\.=+/]+"), rf"\1{REDACTED}"),
    (re.compile(r"SG\.[A-Za-z0-9_\-\.]+"), f"SG.{REDACTED}"),
    (re.compile(r"(://[^:/@\s]*:)[^@\s/]+@"), rf"\1{REDACTED}@"),
)
_QUIET_LOGGERS = ("python_http_client",)


def redact(text: str) -> str:
    """The text with every secret pattern replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_record(record: logging.LogRecord) -> None:
    if getattr(record, "_andon_redacted", False):
        return
    record._andon_redacted = True
    try:
        message = record.getMessage()
    except Exception:
        message = f"{record.msg} {record.args}"
    redacted = redact(message)
    if redacted != message:
        # The formatted text replaces msg % args, so a key passed as an argument is caught too;
        # records without a secret keep their args for handlers that group by them.
        record.msg, record.args = redacted, None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactingFilter(logging.Filter):
    """A handler filter that redacts the record in place and always lets it through."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


class _RedactingFactory:
    """Wraps the LogRecord factory so records are redacted however they reach a handler."""

    def __init__(self, inner: Callable[..., logging.LogRecord]) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        _redact_record(record)
        return record


def install_log_redaction() -> None:
    """Redact secrets in every log record and keep `python_http_client` above DEBUG.

    A filter goes on each root handler, and the record factory is wrapped so handlers added
    later (by a CLI, uvicorn or pytest) get redacted records as well. Calling it twice is safe.
    """
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(factory))
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    for name in _QUIET_LOGGERS:
        quiet = logging.getLogger(name)
        # It prints request headers, Authorization included, at DEBUG.
        if quiet.level < logging.INFO:
            quiet.setLevel(logging.INFO)
